import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("The step report's arithmetic")
struct StepReportAggregationTests {
    typealias Message = StepReportAggregation.Message
    typealias Payment = StepReportAggregation.Payment

    static func message(
        _ caseRef: String, _ step: String, _ channel: String = "email", day: String, state: String = "sent",
        paid: String? = nil, merged: Bool = false, scenario: String = "standard"
    ) -> Message {
        Message(
            scenario: scenario, idempotencyKey: "\(caseRef):\(step):\(channel)", caseRef: caseRef, state: state,
            day: day, invoicePaidAt: paid, merged: merged)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var messages: [Message]
        var payments: [Payment] = []
        /// scenario/step: sent, delivered, invoices, within 7, within 30, recovered (EUR).
        var expected: [String: (Int, Int, Int, Int, Int, Decimal)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a message is counted once, delivered when its state says so; an undelivered one reaches nothing",
            messages: [
                message("A", "reminder-1", day: "2026-11-01", state: "delivered"),
                message("B", "reminder-1", day: "2026-11-01", state: "undelivered"),
            ],
            expected: ["standard/reminder-1": (2, 1, 1, 0, 0, 0)]),
        Case(
            name: "a bounced e-mail and the letter that followed it: the invoice is reached by the letter, on its day",
            messages: [
                message("A", "formal-notice", "email", day: "2026-11-01", state: "undelivered"),
                message("A", "formal-notice", "letter", day: "2026-11-03", paid: "2026-11-08T10:00:00Z"),
            ],
            expected: ["standard/formal-notice": (2, 0, 1, 1, 1, 0)]),
        Case(
            name: "a merged job counts its invoice, not a message",
            messages: [
                message("A", "reminder-1", day: "2026-11-01"),
                message("B", "reminder-1", day: "2026-11-01", merged: true),
            ],
            expected: ["standard/reminder-1": (1, 0, 2, 0, 0, 0)]),
        Case(
            name: "two channels of one step reach one invoice; paid 5 days after the earliest is within 7 and 30",
            messages: [
                message("A", "formal-notice", "email", day: "2026-11-03", paid: "2026-11-06T10:00:00Z"),
                message("A", "formal-notice", "letter", day: "2026-11-01", paid: "2026-11-06T10:00:00Z"),
            ],
            payments: [Payment(invoice: "A", day: "2026-11-06", amount: 100, currency: "EUR")],
            expected: ["standard/formal-notice": (2, 0, 1, 1, 1, 100)]),
        Case(
            name: "paid 20 days later: within 30 only; a payment before the step is not recovered by it",
            messages: [message("A", "reminder-2", day: "2026-11-10", paid: "2026-11-30T09:00:00Z")],
            payments: [
                Payment(invoice: "A", day: "2026-11-01", amount: 40, currency: "EUR"),
                Payment(invoice: "A", day: "2026-11-30", amount: 60, currency: "EUR"),
            ],
            expected: ["standard/reminder-2": (1, 0, 1, 0, 1, 60)]),
        Case(
            name: "paid before the step: not counted as paid within its days",
            messages: [message("A", "reminder-2", day: "2026-11-10", paid: "2026-11-05T09:00:00Z")],
            expected: ["standard/reminder-2": (1, 0, 1, 0, 0, 0)]),
        Case(
            name: "a key that is not <case>:<step>:<channel> is left out; steps and scenarios apart",
            messages: [
                Message(
                    scenario: "standard", idempotencyKey: "hand-made", caseRef: "A", state: "sent", day: "2026-11-01",
                    invoicePaidAt: nil, merged: false),
                message("A", "reminder-1", day: "2026-11-01"),
                message("B", "reminder-1", day: "2026-11-01", scenario: "strategic"),
            ],
            expected: ["standard/reminder-1": (1, 0, 1, 0, 0, 0), "strategic/reminder-1": (1, 0, 1, 0, 0, 0)]),
    ]

    @Test("figures by scenario and step", arguments: cases)
    func figures(_ c: Case) {
        let figures = StepReportAggregation.figures(messages: c.messages, payments: c.payments)
        #expect(figures.map { "\($0.scenario)/\($0.step)" } == c.expected.keys.sorted())
        for f in figures {
            guard let e = c.expected["\(f.scenario)/\(f.step)"] else { continue }
            #expect(f.sent == e.0 && f.delivered == e.1 && f.invoices == e.2, "\(f)")
            #expect(f.paidWithin7Days == e.3 && f.paidWithin30Days == e.4, "\(f)")
            #expect((f.recovered["EUR"] ?? 0) == e.5, "\(f)")
            let undelivered = c.messages.filter {
                $0.state == "undelivered" && !$0.merged && $0.idempotencyKey.contains(":\(f.step):")
                    && $0.scenario == f.scenario
            }
            #expect(f.undelivered == undelivered.count, "\(f)")
        }
    }
}
