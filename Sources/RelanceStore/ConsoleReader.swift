import Foundation
import RelanceCore

/// What the web console reads beyond the other roles: payers found by a search, every
/// invoice of a payer, suppressed contact points, the open balances for the ageing
/// report and the messages finished over a period. Read-only; the same on every backend.
public protocol ConsoleReader: Sendable {
    /// Payers whose reference, name or e-mail contains `text` (ASCII letters compared
    /// without case), or who have a job whose case is `text` or an invoice numbered
    /// `text`; by reference, at most `limit`. The row's fields as stored, unchecked.
    func searchPayers(_ text: String, limit: Int) async throws -> [PayerSummary]
    /// Every invoice of the payer, open and paid, newest due date first.
    func invoices(payerRef: String) async throws -> [Invoice]
    /// Suppressed contact points: of one payer, or of everyone (nil), newest first.
    func suppressions(payerRef: String?, limit: Int) async throws -> [SuppressionEntry]
    func suppressionCount() async throws -> Int
    /// Bank statement lines waiting for a person (`payments unmatched`).
    func reviewLineCount() async throws -> Int
    /// Currency, due date and balance of every open invoice with a balance.
    func openBalances() async throws -> [OpenBalance]
    /// Jobs finished since `since` (a timestamp), counted by channel then state.
    func finishedCounts(since: String) async throws -> [String: [String: Int]]
    /// Jobs that need a person (`uncertain`, `dead`, `failed`, `undelivered`), by state
    /// then channel: read through a partial index, so it costs the same with a million
    /// jobs sent.
    func attentionCounts() async throws -> [String: [String: Int]]
    /// Seconds since the oldest queued job became due (0 when none is due).
    func oldestDueAge() async throws -> Double
    /// The last `limit` trace events matching `filter`, oldest first.
    func recentEvents(filter: EventFilter, limit: Int) async throws -> [DeliveryEvent]
}

/// The states `attentionCounts` counts (and the partial index `jobs_attention` holds).
public let attentionStates = ["uncertain", "dead", "failed", "undelivered"]

public struct PayerSummary: Sendable, Equatable {
    public var ref: String
    public var name: String
    public var email: String?
    public var phone: String?
    public init(ref: String, name: String, email: String?, phone: String?) {
        self.ref = ref
        self.name = name
        self.email = email
        self.phone = phone
    }
}

public struct SuppressionEntry: Sendable, Equatable {
    public var payerRef: String
    public var channel: String
    public var contact: String
    public var reason: String
    public var createdAt: String
    public init(payerRef: String, channel: String, contact: String, reason: String, createdAt: String) {
        self.payerRef = payerRef
        self.channel = channel
        self.contact = contact
        self.reason = reason
        self.createdAt = createdAt
    }
}

public struct OpenBalance: Sendable, Equatable {
    public var currency: String
    /// `YYYY-MM-DD`.
    public var dueDate: String
    public var balance: Decimal
    public init(currency: String, dueDate: String, balance: Decimal) {
        self.currency = currency
        self.dueDate = dueDate
        self.balance = balance
    }
}
