import Foundation
import RelanceCore

/// The effectiveness report's arithmetic, apart from the SQL that reads its rows: for
/// each scenario step, the messages handed to a provider, the invoices they reached, how
/// many of those were paid in full within 7 and 30 days of the step, and what was paid
/// on them from the step's day on.
public enum StepReportAggregation {
    /// One message handed to a provider (sent, delivered or undelivered), or a job merged
    /// into one (its invoice was in that message).
    public struct Message: Sendable, Equatable {
        public var scenario: String
        /// `<case>:<step>:<channel>` (`StepKey`); a key that does not parse is left out.
        public var idempotencyKey: String
        public var caseRef: String
        public var state: String
        /// YYYY-MM-DD the message went out.
        public var day: String
        /// When the invoice was paid in full, if it was.
        public var invoicePaidAt: String?
        /// A job merged into another's message: its invoice counts, the message does not.
        public var merged: Bool
        /// Its recipient reported it as spam (a `complaint` trace event).
        public var complained: Bool

        public init(
            scenario: String, idempotencyKey: String, caseRef: String, state: String, day: String,
            invoicePaidAt: String?, merged: Bool, complained: Bool = false
        ) {
            self.complained = complained
            self.scenario = scenario
            self.idempotencyKey = idempotencyKey
            self.caseRef = caseRef
            self.state = state
            self.day = day
            self.invoicePaidAt = invoicePaidAt
            self.merged = merged
        }
    }

    public struct Payment: Sendable, Equatable {
        public var invoice: String
        /// YYYY-MM-DD.
        public var day: String
        public var amount: Decimal
        public var currency: String

        public init(invoice: String, day: String, amount: Decimal, currency: String) {
            self.invoice = invoice
            self.day = day
            self.amount = amount
            self.currency = currency
        }
    }

    /// The figures by scenario and step, sorted by scenario then step.
    public static func figures(messages: [Message], payments: [Payment]) -> [StepFigures] {
        var byInvoice: [String: [Payment]] = [:]
        for payment in payments { byInvoice[payment.invoice, default: []].append(payment) }
        struct Key: Hashable { var scenario: String, step: String }
        var figures: [Key: StepFigures] = [:]
        var reached: [Key: [String: String]] = [:]  // invoice → day of the step (earliest)
        var paidAt: [String: String] = [:]
        for message in messages {
            if let paid = message.invoicePaidAt { paidAt[message.caseRef] = paid }
            guard let stepKey = StepKey(message.idempotencyKey, caseRef: message.caseRef) else { continue }
            let k = Key(scenario: message.scenario, step: stepKey.step)
            var f =
                figures[k]
                ?? StepFigures(
                    scenario: k.scenario, step: k.step, sent: 0, delivered: 0, invoices: 0, paidWithin7Days: 0,
                    paidWithin30Days: 0, recovered: [:])
            if !message.merged {
                f.sent += 1
                if message.state == JobState.delivered.rawValue { f.delivered += 1 }
                if message.state == JobState.undelivered.rawValue { f.undelivered += 1 }
                if message.complained { f.complaints += 1 }
            }
            figures[k] = f
            // An undelivered message did not reach its invoices (another channel's may have).
            if message.state == JobState.undelivered.rawValue { continue }
            if let earlier = reached[k]?[message.caseRef], earlier <= message.day { continue }
            reached[k, default: [:]][message.caseRef] = message.day
        }
        for (k, invoices) in reached {
            for (ref, day) in invoices {
                figures[k]!.invoices += 1
                if let paid = paidAt[ref], let d = days(from: day, to: paid), d >= 0 {
                    if d <= 7 { figures[k]!.paidWithin7Days += 1 }
                    if d <= 30 { figures[k]!.paidWithin30Days += 1 }
                }
                for payment in byInvoice[ref] ?? [] where payment.day >= day {
                    figures[k]!.recovered[payment.currency, default: 0] += payment.amount
                }
            }
        }
        return figures.values.sorted { ($0.scenario, $0.step) < ($1.scenario, $1.step) }
    }

    /// Whole days from one date (or instant) to another, nil when either does not read.
    static func days(from: String, to: String) -> Int? {
        guard let a = Scenario.day(String(from.prefix(10))), let b = Scenario.day(String(to.prefix(10))) else {
            return nil
        }
        return Int((b.timeIntervalSince(a) / 86400).rounded())
    }
}
