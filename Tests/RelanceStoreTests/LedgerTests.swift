import Foundation
import GRDB
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("Store: bank statement lines and lettrage")
struct LedgerTests {
    static func invoice(_ ref: String, _ amount: Decimal, payer: String = "P-1") -> Invoice {
        Invoice(
            ref: ref, payerRef: payer, scenario: "standard", currency: "EUR", amount: amount, balance: amount,
            issueDate: "2026-11-01", dueDate: "2026-12-01")
    }

    static func job(_ invoice: Invoice, _ step: String) -> NewJob {
        NewJob(
            idempotencyKey: "\(invoice.ref):\(step):email", payerRef: invoice.payerRef, caseRef: invoice.ref,
            channel: .email, template: step, data: invoice.templateData().jsonText, runAt: "2030-01-01T09:00:00.000Z")
    }

    static func line(_ id: String, _ amount: Decimal, iban: String? = "DE89370400440532013000") -> BankLine {
        BankLine(
            id: id, statementID: "STMT-1", account: "FR7630006000011234567890189", direction: .credit,
            amount: amount, currency: "EUR", bookingDate: "2026-12-05", valueDate: "2026-12-04", debtorName: "Lumen SA",
            debtorIBAN: iban, endToEndID: "E2E-\(id)", structuredReference: nil, unstructured: ["Facture F-1"],
            status: "BOOK")
    }

    static let thanks: @Sendable (Invoice, Decimal, String) -> [NewJob] = { invoice, _, _ in
        [
            NewJob(
                idempotencyKey: "\(invoice.ref):thanks:email", payerRef: invoice.payerRef, caseRef: invoice.ref,
                channel: .email, template: "thanks", data: invoice.templateData().jsonText)
        ]
    }

    static func apply(_ allocations: [(String, Decimal)], step: Lettrage.Step = .reference) -> Lettrage.Verdict {
        Lettrage.Verdict(
            step: step, payerRef: "P-1",
            outcome: .apply(allocations.map { Lettrage.Allocation(invoiceRef: $0.0, amount: $0.1) }), note: "test")
    }

    func opened(_ fx: StoreFixture, _ invoices: [Invoice]) async throws {
        try await fx.store.upsertPayer(StoreFixture.payer)
        for invoice in invoices {
            _ = try await fx.store.openInvoice(invoice, jobs: [Self.job(invoice, "reminder-1")])
        }
    }

    @Test(
        "a line is applied once: the payment, its pending jobs cancelled, thanks; the same line again changes nothing")
    func appliesOnce() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100)])
        let first = try await fx.store.importLine(
            Self.line("L1", 100), verdict: Self.apply([("F-1", 100)]), thanks: Self.thanks)
        guard case .applied(let stored, let payments) = first else { Issue.record("\(first)"); return }
        #expect(stored.status == .matched && stored.step == .reference && stored.invoices.map(\.invoiceRef) == ["F-1"])
        #expect(
            payments.count == 1 && payments[0].settled && payments[0].cancelled == 1 && payments[0].thanks.count == 1)
        #expect(payments[0].invoice.paidAt == "2026-12-04")
        #expect(stored.line.debtorIBAN == "DE89370400440532013000" && stored.line.unstructured == ["Facture F-1"])
        let again = try await fx.store.importLine(
            Self.line("L1", 100), verdict: Self.apply([("F-1", 100)]), thanks: Self.thanks)
        guard case .duplicate(let same) = again else { Issue.record("\(again)"); return }
        #expect(same == stored)
        #expect(try await fx.scalar("SELECT CAST(count(*) AS TEXT) FROM payments") == "1")
        #expect(try await fx.scalar("SELECT CAST(count(*) AS TEXT) FROM payments WHERE bank_line_id = 'L1'") == "1")
        #expect(try await fx.store.payers(paying: "DE89370400440532013000") == ["P-1"])
        #expect(try await fx.store.payers(paying: "GB82WEST12345698765432") == [])
    }

    @Test("a partial payment, then the rest from another line")
    func partial() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100)])
        _ = try await fx.store.importLine(Self.line("L1", 40), verdict: Self.apply([("F-1", 40)]), thanks: Self.thanks)
        #expect(try await fx.store.invoice(ref: "F-1")?.balance == 60)
        #expect(try await fx.store.openInvoices(payerRef: "P-1").map(\.ref) == ["F-1"])
        _ = try await fx.store.importLine(Self.line("L2", 60), verdict: Self.apply([("F-1", 60)]), thanks: Self.thanks)
        #expect(try await fx.store.invoice(ref: "F-1")?.status == .paid)
        #expect(try await fx.store.openInvoices(payerRef: "P-1").isEmpty)
    }

    @Test("an allocation that no longer fits the invoice is listed, and nothing is applied")
    func recheck() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100), Self.invoice("F-2", 50)])
        _ = try await fx.store.recordPayment(ref: "F-2", amount: 50, paidOn: "2026-12-01") { _ in [] }
        let result = try await fx.store.importLine(
            Self.line("L1", 150), verdict: Self.apply([("F-1", 100), ("F-2", 50)]), thanks: Self.thanks)
        guard case .listed(let stored) = result else { Issue.record("\(result)"); return }
        #expect(stored.status == .review && stored.review == .alreadyPaid && stored.candidates == ["F-1", "F-2"])
        #expect(try await fx.store.invoice(ref: "F-1")?.balance == 100)
        let over = try await fx.store.importLine(
            Self.line("L2", 101), verdict: Self.apply([("F-1", 101)]), thanks: Self.thanks)
        #expect(over.stored.review == .overpayment)
        let gone = try await fx.store.importLine(
            Self.line("L3", 1), verdict: Self.apply([("F-9", 1)]), thanks: Self.thanks)
        #expect(gone.stored.review == .noMatch)
        #expect(try await fx.store.bankLines(reviewOnly: true, limit: 10).map(\.line.id) == ["L1", "L2", "L3"])
    }

    @Test("review lines are listed until dismissed; matched ones are not listed")
    func review() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100)])
        let verdict = Lettrage.Verdict(
            step: nil, payerRef: nil, outcome: .review(.noMatch, candidates: []), note: "nothing known")
        _ = try await fx.store.importLine(Self.line("L1", 7), verdict: verdict, thanks: Self.thanks)
        _ = try await fx.store.importLine(
            Self.line("L2", 100), verdict: Self.apply([("F-1", 100)]), thanks: Self.thanks)
        #expect(try await fx.store.bankLines(reviewOnly: true, limit: 10).map(\.line.id) == ["L1"])
        #expect(try await fx.store.bankLines(reviewOnly: false, limit: 10).count == 2)
        #expect(try await fx.store.dismissLine(id: "L1", note: "paid by cheque, recorded by hand"))
        #expect(try await !fx.store.dismissLine(id: "L1", note: ""))
        #expect(try await !fx.store.dismissLine(id: "L2", note: ""))
        #expect(try await fx.store.bankLines(reviewOnly: true, limit: 10).isEmpty)
        let all = try await fx.store.bankLines(reviewOnly: false, limit: 10)
        #expect(all.first { $0.line.id == "L1" }?.status == .dismissed)
        #expect(all.first { $0.line.id == "L1" }?.note.contains("paid by cheque") == true)
    }

    @Test("invoices are found by reference and by a number the text contains")
    func lookups() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100), Self.invoice("F-12", 100), Self.invoice("f-2", 5)])
        let f12 = try #require(try await fx.store.invoice(ref: "F-12"))
        #expect(f12.reference == RFReference(body: "F12")?.text)
        #expect(try await fx.store.invoice(reference: f12.reference!)?.ref == "F-12")
        #expect(try await fx.store.invoice(reference: "RF18539007547034") == nil)
        #expect(try await fx.store.invoices(mentionedIn: "virement F-12", limit: 10).map(\.ref) == ["F-1", "F-12"])
        #expect(try await fx.store.invoices(mentionedIn: "F-2", limit: 10).map(\.ref) == ["f-2"])
        #expect(try await fx.store.invoices(mentionedIn: "F-12", limit: 1).count == 1)
        #expect(try await fx.store.invoices(mentionedIn: "nothing", limit: 10).isEmpty)
    }

    @Test("two invoices whose numbers have the same letters and digits get different references")
    func distinctReferences() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100), Self.invoice("F1", 100), Self.invoice("f/1", 100)])
        let references = try await [
            fx.store.invoice(ref: "F-1")?.reference, fx.store.invoice(ref: "F1")?.reference,
            fx.store.invoice(ref: "f/1")?.reference,
        ].compactMap { $0 }
        #expect(Set(references).count == 3)
        #expect(references[0] == RFReference(body: "F1")?.text)
        #expect(references.allSatisfy { RFReference($0) != nil })
    }
}

extension LedgerTests {
    @Test("a payment recorded by hand is linked to the line that reports it, not recorded again")
    func recordedByHand() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100), Self.invoice("F-2", 100)])
        _ = try await fx.store.recordPayment(ref: "F-1", amount: 40, paidOn: "2026-12-01") { _ in [] }
        let partial = try await fx.store.importLine(
            Self.line("L1", 40), verdict: Self.apply([("F-1", 40)]), thanks: Self.thanks)
        guard case .applied(let stored, let payments) = partial else { Issue.record("\(partial)"); return }
        #expect(payments.isEmpty && stored.status == .matched && stored.note.contains("recorded by hand"))
        #expect(try await fx.store.invoice(ref: "F-1")?.balance == 60)
        #expect(try await fx.scalar("SELECT bank_line_id FROM payments WHERE invoice_ref = 'F-1'") == "L1")
        // Paid in full by hand: the line that reports it is linked too, not listed.
        _ = try await fx.store.recordPayment(ref: "F-2", amount: 100, paidOn: "2026-12-01") { _ in [] }
        let verdict = Lettrage.Verdict(
            step: .reference, payerRef: "P-1", outcome: .review(.alreadyPaid, candidates: ["F-2"]), note: "paid")
        var line = Self.line("L2", 100)
        line.endToEndID = "E2E-L2"
        let full = try await fx.store.importLine(line, verdict: verdict, thanks: Self.thanks)
        #expect(full.stored.status == .matched, "\(full.stored.note)")
        // Another 100 for F-2: nothing by hand is left to account for it.
        let again = try await fx.store.importLine(Self.line("L3", 100), verdict: verdict, thanks: Self.thanks)
        #expect(again.stored.review == .alreadyPaid)
    }

    @Test("the same movement under another id (same end-to-end id, amount, debtor) is listed, not applied")
    func twin() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, [Self.invoice("F-1", 100)])
        _ = try await fx.store.importLine(Self.line("N-1", 30), verdict: Self.apply([("F-1", 30)]), thanks: Self.thanks)
        var statement = Self.line("S-1", 30)
        statement.endToEndID = "E2E-N-1"
        let result = try await fx.store.importLine(statement, verdict: Self.apply([("F-1", 30)]), thanks: Self.thanks)
        #expect(result.stored.review == .possibleDuplicate && result.stored.candidates == ["N-1"])
        #expect(try await fx.store.invoice(ref: "F-1")?.balance == 70)
    }

    @Test("two payments that each fit the balance but not together: the second is refused in its transaction")
    func concurrentPayments() async throws {
        let fx = try await StoreFixture()
        try await opened(fx, (1...10).map { Self.invoice("F-\($0)", 100) })
        let store = fx.store
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for n in 1...10 {
                for _ in 0..<2 {
                    group.addTask {
                        (try? await store.recordPayment(ref: "F-\(n)", amount: 60, paidOn: "2026-12-01") { _ in [] })
                            != nil
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 10)
        for n in 1...10 { #expect(try await store.invoice(ref: "F-\(n)")?.balance == 40) }
    }
}

@Suite("SQLite: invoices registered before v9-bank-lines", .sqliteOnly)
struct ReferenceMigrationTests {
    @Test("get their references when the database is migrated, in the order they came")
    func backfill() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("relance-v8-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = path + "/relance.sqlite"
        do {
            let queue = try DatabaseQueue(path: file)
            try Schema.migrator.migrate(queue, upTo: "v8-payer-kind")
            try await queue.write { db in
                for (ref, created) in [("F1", "2026-01-02"), ("F-1", "2026-01-01"), ("---", "2026-01-03")] {
                    try db.execute(
                        sql: """
                            INSERT INTO invoices(ref, payer_ref, scenario, currency, amount, balance, issue_date,
                              due_date, created_at)
                            VALUES (?, 'P-1', 'standard', 'EUR', '1.00', '1.00', '2026-01-01', '2026-02-01', ?)
                            """, arguments: [ref, created])
                }
            }
        }
        let store = try SQLiteJobStore(path: file)
        try await store.migrate()
        // F-1 came first: it has the plain form; F1 the digest; "---" has only the digest.
        #expect(try await store.invoice(ref: "F-1")?.reference == RFReference(body: "F1")?.text)
        #expect(try await store.invoice(ref: "F1")?.reference == RFReference.candidates(forInvoice: "F1")[1].text)
        #expect(try await store.invoice(ref: "---")?.reference == RFReference.candidates(forInvoice: "---")[0].text)
    }
}
