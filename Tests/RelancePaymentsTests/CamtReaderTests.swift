import Foundation
import RelanceCore
import RelancePayments
import Testing

@Suite("CamtReader: statements and notifications")
struct CamtReaderTests {
    static let account = CamtFixtures.creditorIBAN

    /// The seven movements of the fixtures, as every version must read them.
    static func expectedLines(statementID: String = "STMT-2026-061") -> [BankLine] {
        let a = account
        var lines = [
            BankLine(
                id: "\(a)/BANKREF-0001", statementID: statementID, account: a, direction: .credit,
                amount: Decimal(string: "120.50")!, currency: "EUR", bookingDate: "2026-03-01", valueDate: "2026-03-02",
                debtorName: "Jean Dupont & Fils", debtorIBAN: "DE89370400440532013000", endToEndID: "E2E-F2026-0042",
                unstructured: ["Facture F-2026-0042", "merci"], status: "BOOK"),
            BankLine(
                id: "\(a)/BATCH-77#1", statementID: statementID, account: a, direction: .credit, amount: 10,
                currency: "EUR", bookingDate: "2026-03-01", valueDate: "2026-03-01", debtorName: "Alice",
                endToEndID: "B-1", unstructured: ["F-1"], status: "BOOK"),
            BankLine(
                id: "\(a)/BATCH-77#2", statementID: statementID, account: a, direction: .credit, amount: 20,
                currency: "EUR", bookingDate: "2026-03-01", valueDate: "2026-03-01", debtorName: "Bob",
                endToEndID: "B-2", unstructured: ["F-2"], status: "BOOK"),
            BankLine(
                id: "\(a)/BATCH-77#3", statementID: statementID, account: a, direction: .credit, amount: 30,
                currency: "EUR", bookingDate: "2026-03-01", valueDate: "2026-03-01", debtorName: "Carol",
                endToEndID: "B-3", unstructured: ["F-3"], status: "BOOK"),
            BankLine(
                id: "\(a)/BANKREF-0003", statementID: statementID, account: a, direction: .debit,
                amount: Decimal(string: "15.99")!, currency: "EUR", bookingDate: "2026-03-01",
                valueDate: "2026-03-01", status: "BOOK"),
            BankLine(
                id: "\(a)/BANKREF-0004", statementID: statementID, account: a, direction: .debit, reversal: true,
                amount: Decimal(string: "120.5")!, currency: "EUR", bookingDate: "2026-03-01",
                valueDate: "2026-03-01", status: "BOOK"),
            BankLine(
                id: "\(a)/TX-USD-5", statementID: statementID, account: a, direction: .credit,
                amount: Decimal(string: "99.9")!, currency: "USD", bookingDate: "2026-03-01", valueDate: "2026-03-03",
                debtorName: "ACME Corp.", endToEndID: "US-INV-5", unstructured: ["INV 5"], status: "BOOK"),
            BankLine(
                id: "\(a)/BANKREF-0006", statementID: statementID, account: a, direction: .credit, amount: 42,
                currency: "EUR", bookingDate: "2026-03-01", valueDate: "2026-03-01", debtorName: "Émilie Müller",
                debtorIBAN: "BE68539007547034", structuredReference: "RF18539007547034", status: "BOOK"),
            BankLine(
                id: "", statementID: statementID, account: a, direction: .credit, amount: 7, currency: "EUR",
                bookingDate: "2026-03-01", valueDate: "2026-03-02", endToEndID: "E2E-7", unstructured: ["F-7"],
                status: "PDNG"),
        ]
        // The last has no bank reference: its id is the digest of its canonical text.
        let canonical = [
            "relance-bank-line-1", "account=\(a)", "statement=\(statementID)", "entry=7", "transaction=1",
            "amount=7", "currency=EUR", "direction=credit", "booked=2026-03-01", "end-to-end=E2E-7",
            "debtor-iban=", "remittance=F-7",
        ].joined(separator: "\n")
        lines[8].id = "sha256:" + SHA256.hex(canonical)
        return lines
    }

    @Test(
        "every version reads the same seven movements",
        arguments: [
            ("camt.053.001.02", CamtFixtures.full02, CamtDocument.Kind.statement, "001.02"),
            ("camt.053.001.08", CamtFixtures.full08, .statement, "001.08"),
            (
                "camt.054.001.08", CamtFixtures.document08(CamtFixtures.entries08, kind: "camt.054"), .notification,
                "001.08"
            ),
        ])
    func versions(_ name: String, _ text: String, _ kind: CamtDocument.Kind, _ version: String) throws {
        let document = try CamtReader.read(CamtFixtures.bytes(text))
        #expect(document.kind == kind)
        #expect(document.version == version)
        #expect(
            document.statements == [
                CamtDocument.Statement(
                    id: "STMT-2026-061", account: Self.account, accountCurrency: version == "001.02" ? "EUR" : nil,
                    creationDate: "2026-03-02", entryCount: 7)
            ])
        let expected = Self.expectedLines()
        #expect(document.lines.count == expected.count)
        for (line, want) in zip(document.lines, expected) { #expect(line == want) }
    }

    @Test("the batch entry: one line per transaction, each with its own amount, ids by place")
    func batch() throws {
        let lines = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(CamtFixtures.batch02))).lines
        #expect(lines.map(\.amount) == [10, 20, 30])
        #expect(lines.map(\.id) == (1...3).map { "\(Self.account)/BATCH-77#\($0)" })
        #expect(lines.map(\.debtorName) == ["Alice", "Bob", "Carol"])
    }

    @Test("batch transactions with their own distinct references take them; shared ones fall back to the place")
    func batchReferences() throws {
        let own = CamtFixtures.batch02.replacingOccurrences(of: "<Refs><EndToEndId>B-", with: "<Refs><AcctSvcrRef>T")
            .replacingOccurrences(of: "</EndToEndId></Refs>", with: "</AcctSvcrRef></Refs>")
        let distinct = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(own))).lines
        #expect(distinct.map(\.id) == (1...3).map { "\(Self.account)/T\($0)" })
        // A bank that repeats the entry's reference in each transaction.
        let repeated = CamtFixtures.batch02.replacingOccurrences(
            of: "<Refs>", with: "<Refs><AcctSvcrRef>BATCH-77</AcctSvcrRef>")
        let lines = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(repeated))).lines
        #expect(lines.map(\.id) == (1...3).map { "\(Self.account)/BATCH-77#\($0)" })
    }

    @Test("a batch with no reference at all: three different digests")
    func batchDigests() throws {
        let bare = CamtFixtures.batch02.replacingOccurrences(of: "<AcctSvcrRef>BATCH-77</AcctSvcrRef>", with: "")
        let lines = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(bare))).lines
        #expect(Set(lines.map(\.id)).count == 3)
        #expect(lines.allSatisfy { $0.id.hasPrefix("sha256:") && $0.id.count == 71 })
    }

    @Test("importing the same bytes twice gives the same ids")
    func stableIDs() throws {
        for text in [CamtFixtures.full02, CamtFixtures.full08] {
            let first = try CamtReader.read(CamtFixtures.bytes(text)).lines.map(\.id)
            let second = try CamtReader.read(CamtFixtures.bytes(text)).lines.map(\.id)
            #expect(first == second)
            #expect(Set(first).count == first.count)
        }
    }

    @Test("a camt.054 notification and the camt.053 statement that books it give the same id")
    func notificationThenStatement() throws {
        let notification = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.notification02))
        #expect(notification.kind == .notification)
        #expect(notification.version == "001.02")
        #expect(notification.statements.map(\.id) == ["NTF-2026-03-01-1"])
        let statement = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.full02))
        let notified = try #require(notification.lines.first)
        #expect(notification.lines.count == 1)
        #expect(statement.lines.contains { $0.id == notified.id })
        #expect(notified.id == "\(Self.account)/BANKREF-0001")
        #expect(notified.statementID == "NTF-2026-03-01-1")
        // So does the 001.08 notification of a 001.02 statement's movement.
        let later = try CamtReader.read(
            CamtFixtures.bytes(CamtFixtures.document08(CamtFixtures.entries08, kind: "camt.054", id: "N-9")))
        #expect(Set(later.lines.prefix(8).map(\.id)) == Set(statement.lines.prefix(8).map(\.id)))
    }

    @Test("a digest id depends on the statement, so a line without a bank reference is new in each document")
    func digestDependsOnStatement() throws {
        let one = try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(CamtFixtures.dateTime02)))
        let other = try CamtReader.read(
            CamtFixtures.bytes(CamtFixtures.statement02(CamtFixtures.dateTime02, id: "STMT-2026-062")))
        #expect(one.lines[0].id != other.lines[0].id)
    }

    @Test("the account may be the bank's other id; a lone transaction without amount takes the entry's")
    func otherAccount() throws {
        let text = CamtFixtures.statement02(
            CamtFixtures.foreign02, account: "<Id><Othr><Id>0001234567</Id></Othr></Id>")
        let document = try CamtReader.read(CamtFixtures.bytes(text))
        #expect(document.statements[0].account == "0001234567")
        #expect(document.lines[0].id == "0001234567/TX-USD-5")
        #expect(document.lines[0].amount == Decimal(string: "99.9")!)
        #expect(document.lines[0].currency == "USD")
    }

    @Test(
        "amounts within the currency's minor units",
        arguments: [
            ("EUR", "1", "1"), ("EUR", "0.5", "0.5"), ("EUR", "00012.30", "12.3"), ("JPY", "1500", "1500"),
            ("BHD", "1.250", "1.25"), ("EUR", " 12.34\n", "12.34"), ("EUR", "999999999999999999", "999999999999999999"),
            ("EUR", "0", "0"),
        ])
    func amounts(_ currency: String, _ written: String, _ value: String) throws {
        let entry = CamtFixtures.debit02.replacingOccurrences(
            of: "<Amt Ccy=\"EUR\">15.99</Amt>", with: "<Amt Ccy=\"\(currency)\">\(written)</Amt>")
        let line = try #require(try CamtReader.read(CamtFixtures.bytes(CamtFixtures.statement02(entry))).lines.first)
        #expect(line.amount == Decimal(string: value, locale: Locale(identifier: "en_US_POSIX"))!)
        #expect(line.currency == currency)
    }
}
