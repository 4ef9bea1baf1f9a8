import RelancePayments
import Testing

@Suite("CamtReader: what it refuses, and how it says so")
struct CamtRefusalTests {
    /// The first movement of the 001.02 statement with `old` replaced by `new`.
    static func single(_ old: String, _ new: String) -> [UInt8] {
        let entry = CamtFixtures.single02
        guard let range = entry.range(of: old) else { preconditionFailure(old) }
        return CamtFixtures.bytes(CamtFixtures.statement02(entry.replacingCharacters(in: range, with: new)))
    }

    static func refusal(_ bytes: [UInt8]) -> CamtError? {
        do {
            _ = try CamtReader.read(bytes)
            return nil
        } catch let error as CamtError {
            return error
        } catch {
            Issue.record("not a CamtError: \(error)")
            return nil
        }
    }

    static let amount = "<Amt Ccy=\"EUR\">120.50</Amt>"

    @Test(
        "content refused, with the entry named",
        arguments: [
            (amount, "<Amt Ccy=\"EUR\">-120.50</Amt>", "the amount '-120.50' is negative"),
            (amount, "<Amt Ccy=\"EUR\">1.2E2</Amt>", "the amount '1.2E2' has an exponent"),
            (amount, "<Amt Ccy=\"EUR\">120.505</Amt>", "has 3 decimals; EUR takes at most 2"),
            (amount, "<Amt Ccy=\"JPY\">120.5</Amt>", "has 1 decimals; JPY takes at most 0"),
            (amount, "<Amt Ccy=\"EUR\">١٢٠</Amt>", "is not ASCII digits"),
            (amount, "<Amt Ccy=\"EUR\">12,50</Amt>", "is not ASCII digits"),
            (amount, "<Amt Ccy=\"EUR\">12.</Amt>", "is not ASCII digits"),
            (amount, "<Amt Ccy=\"EUR\">+12</Amt>", "is not ASCII digits"),
            (
                amount, "<Amt Ccy=\"EUR\">1234567890123456789</Amt>",
                "has more than 18 digits"
            ),
            (amount, "<Amt Ccy=\"EUR\"></Amt>", "the amount is empty"),
            (amount, "<Amt>120.50</Amt>", "<Amt> has no Ccy attribute"),
            (amount, "<Amt Ccy=\"eur\">120.50</Amt>", "the currency 'eur' is not three"),
            (amount, "", "<Ntry> has no <Amt>"),
            ("<CdtDbtInd>CRDT", "<CdtDbtInd>CREDIT", "<CdtDbtInd> is CRDT or DBIT"),
            ("<BookgDt><Dt>2026-03-01", "<BookgDt><Dt>2026-02-29", "'2026-02-29' is not a date (YYYY-MM-DD)"),
            ("<BookgDt><Dt>2026-03-01", "<BookgDt><Dt>2026-3-1", "'2026-3-1' is not a date"),
            ("<BookgDt><Dt>2026-03-01", "<BookgDt><Dt>2026-03-01T10:00:00", "is not a date"),
            ("<BookgDt><Dt>2026-03-01</Dt>", "<BookgDt><DtTm>2026-03-01</DtTm>", "is not a date and time"),
            ("<BookgDt><Dt>2026-03-01</Dt>", "<BookgDt><Day>2026-03-01</Day>", "<BookgDt> has neither <Dt> nor <DtTm>"),
            ("<Nm>Jean Dupont", "<Nm>Jean\tDupont", "<Nm> holds a control character (U+0009)"),
            ("<Nm>Jean Dupont", "<Nm>Jean&#x85;Dupont", "<Nm> holds a control character (U+0085)"),
            (
                "<Nm>Jean Dupont &amp; Fils</Nm>", "<Nm>" + String(repeating: "x", count: 141) + "</Nm>",
                "<Nm> has 141 characters, more than the 140"
            ),
            (
                "<Ustrd>Facture F-2026-0042</Ustrd>", "<Ustrd>" + String(repeating: "é", count: 141) + "</Ustrd>",
                "<Ustrd> has 141 characters"
            ),
            (
                "<EndToEndId>E2E-F2026-0042<", "<EndToEndId>" + String(repeating: "9", count: 36) + "<",
                "<EndToEndId> has 36 characters"
            ),
            ("<IBAN>DE89", "<IBAN>1234", "the IBAN '1234370400440532013000' is not two letters"),
            ("<AcctSvcrRef>BANKREF-0001", "<AcctSvcrRef>BANK\nREF-0001", "<AcctSvcrRef> holds a control character"),
        ])
    func content(_ old: String, _ new: String, _ reason: String) throws {
        let error = try #require(Self.refusal(Self.single(old, new)))
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.description.contains("statement 'STMT-2026-061', entry 1: "), "\(error)")
        #expect(error.line != nil && error.path?.hasPrefix("Document/BkToCstmrStmt/Stmt/Ntry") == true, "\(error)")
    }

    @Test("the place is told: line, column, path, entry")
    func place() throws {
        let error = try #require(
            Self.refusal(Self.single(Self.amount, Self.amount.replacingOccurrences(of: "120", with: "-120"))))
        #expect(error.line == 24)
        #expect(error.column == 9)
        #expect(
            error.description
                == "line 24, column 9, in Document/BkToCstmrStmt/Stmt/Ntry/Amt: statement 'STMT-2026-061', "
                + "entry 1: the amount '-120.50' is negative")
    }

    @Test("a transaction of a batch without an amount is refused, naming it")
    func batchWithoutAmount() throws {
        let entry = CamtFixtures.batch02.replacingOccurrences(
            of: "<AmtDtls><TxAmt><Amt Ccy=\"EUR\">20.00</Amt></TxAmt></AmtDtls>", with: "")
        let error = try #require(Self.refusal(CamtFixtures.bytes(CamtFixtures.statement02(entry))))
        #expect(
            error.reason
                == "statement 'STMT-2026-061', entry 1, transaction 2: a transaction of a batch of 3 has neither <Amt> nor <AmtDtls>"
        )
    }

    @Test("two lines with the same id refuse the document")
    func duplicateIDs() throws {
        let text = CamtFixtures.statement02(CamtFixtures.single02 + "\n" + CamtFixtures.single02)
        let error = try #require(Self.refusal(CamtFixtures.bytes(text)))
        #expect(
            error.reason.contains(
                "entry 2: its id '\(CamtFixtures.creditorIBAN)/BANKREF-0001' is also the id of statement 'STMT-2026-061', entry 1"
            ), "\(error)")
    }

    @Test(
        "documents that are not camt.053 or camt.054",
        arguments: [
            (
                "camt.053.001.02\"", "camt.052.001.02\"",
                "the namespace 'urn:iso:std:iso:20022:tech:xsd:camt.052.001.02' is not"
            ),
            ("camt.053.001.02\"", "camt.053.001.2\"", "is not urn:iso:std:iso:20022:tech:xsd:camt.053.001.xx"),
            ("xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"", "", "<Document> has no namespace"),
            ("<BkToCstmrStmt>", "<BkToCstmrDbtCdtNtfctn>", "</BkToCstmrStmt> closes <BkToCstmrDbtCdtNtfctn>"),
            ("<MsgId>MSG-2026-03-02</MsgId>", "", "in Document/BkToCstmrStmt: <BkToCstmrStmt> has no <GrpHdr><MsgId>"),
            ("<Id>STMT-2026-061</Id>", "", "<Stmt> has no <Id>"),
            (
                "<Id><IBAN>\(CamtFixtures.creditorIBAN)</IBAN></Id>", "<Id><Other/></Id>",
                "the account has neither <IBAN> nor <Othr><Id>"
            ),
            ("<Ccy>EUR</Ccy>", "<Ccy>EURO</Ccy>", "<Ccy> has 4 characters"),
        ])
    func notCamt(_ old: String, _ new: String, _ reason: String) throws {
        let text = CamtFixtures.statement02(CamtFixtures.single02)
        #expect(text.contains(old))
        let error = try #require(Self.refusal(CamtFixtures.bytes(text.replacingOccurrences(of: old, with: new))))
        #expect(error.description.contains(reason), "\(error)")
    }

    @Test("the root must be a Document of a known message")
    func wrongRoot() throws {
        let pain = "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>"
        #expect(Self.refusal(CamtFixtures.bytes(pain))?.description.contains("pain.001.001.03' is not") == true)
        let other = "<Statement xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>"
        #expect(Self.refusal(CamtFixtures.bytes(other))?.reason == "the root element is <Statement>, not <Document>")
        let empty = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"/>"
        #expect(
            Self.refusal(CamtFixtures.bytes(empty))?.reason
                == "a camt.054 <Document> holds a <BkToCstmrDbtCdtNtfctn>, and this one none")
    }

    @Test("XML errors come through as CamtError with their place")
    func xmlErrors() throws {
        let text = CamtFixtures.statement02(CamtFixtures.single02).replacingOccurrences(
            of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            with: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE x [<!ENTITY a \"b\">]>")
        let error = try #require(Self.refusal(CamtFixtures.bytes(text)))
        #expect(error.line == 1 && error.column == 39 && error.path == nil)
        #expect(error.reason.contains("DOCTYPE is refused"))
    }
}
