import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: invoices")
struct InvoiceTests {
    static let invoice = Invoice(
        ref: "F-1", payerRef: "P-1", scenario: "standard", currency: "EUR", amount: 1250, balance: 1250,
        issueDate: "2026-11-01", dueDate: "2026-12-01")

    static func job(_ step: String) -> NewJob {
        NewJob(
            idempotencyKey: "F-1:\(step):email", payerRef: "P-1", caseRef: "F-1", channel: .email, template: step,
            data: invoice.templateData().jsonText, runAt: "2030-01-01T09:00:00.000Z")
    }

    @Test("opening twice inserts the invoice and its jobs once")
    func open() async throws {
        let fx = try await StoreFixture()
        try await fx.store.upsertPayer(StoreFixture.payer)
        let first = try await fx.store.openInvoice(
            Self.invoice, jobs: [Self.job("reminder-1"), Self.job("reminder-2")])
        #expect(first.created && first.jobs.allSatisfy(\.created))
        // Its creditor reference: the number's letters and digits.
        var stored = Self.invoice
        stored.reference = try #require(RFReference(body: "F1")).text
        #expect(first.invoice == stored)
        var changed = Self.invoice
        changed.amount = 99
        let second = try await fx.store.openInvoice(changed, jobs: [Self.job("reminder-1"), Self.job("reminder-2")])
        #expect(!second.created && second.invoice == stored && second.jobs.allSatisfy { !$0.created })
        #expect(second.jobs.map(\.id) == first.jobs.map(\.id))
        #expect(try await fx.store.invoice(ref: "F-1") == stored)
        #expect(try await fx.store.invoice(reference: stored.reference!) == stored)
    }

    @Test("a partial payment lowers the balance; the full one cancels the case and inserts thanks once")
    func payments() async throws {
        let fx = try await StoreFixture()
        try await fx.store.upsertPayer(StoreFixture.payer)
        _ = try await fx.store.openInvoice(Self.invoice, jobs: [Self.job("reminder-1"), Self.job("reminder-2")])
        let thanks: @Sendable (Invoice) -> [NewJob] = { invoice in
            [
                NewJob(
                    idempotencyKey: "F-1:thanks:email", payerRef: "P-1", caseRef: "F-1", channel: .email,
                    template: "thanks",
                    data: invoice.templateData().jsonText)
            ]
        }
        let partial = try await fx.store.recordPayment(
            ref: "F-1", amount: Decimal(string: "250.50")!, paidOn: "2026-12-01", thanks: thanks)
        #expect(!partial.settled && partial.cancelled == 0 && partial.thanks.isEmpty)
        #expect(Invoice.text(partial.invoice.balance) == "999.50")
        let full = try await fx.store.recordPayment(
            ref: "F-1", amount: Decimal(string: "999.50")!, paidOn: "2026-12-03", thanks: thanks)
        #expect(full.settled && full.cancelled == 2 && full.thanks.count == 1 && full.invoice.status == .paid)
        #expect(full.invoice.paidAt != nil)
        await #expect(throws: OperatorError.self) {
            _ = try await fx.store.recordPayment(ref: "F-1", amount: 1, paidOn: "2026-12-04", thanks: thanks)
        }
        await #expect(throws: OperatorError.self) {
            _ = try await fx.store.recordPayment(ref: "NOPE", amount: 1, paidOn: "2026-12-04", thanks: thanks)
        }
        let states = try await fx.store.jobs(JobFilter(caseRef: "F-1")).map { "\($0.template):\($0.state.rawValue)" }
        #expect(states.sorted() == ["reminder-1:cancelled", "reminder-2:cancelled", "thanks:queued"])
    }

    @Test("amounts are written as decimal strings with two decimals")
    func text() {
        #expect(Invoice.text(1250) == "1250.00")
        #expect(Invoice.text(Decimal(string: "0.005")!) == "0.00")
        #expect(Invoice.text(Decimal(string: "1234567.891")!) == "1234567.89")
    }
}
