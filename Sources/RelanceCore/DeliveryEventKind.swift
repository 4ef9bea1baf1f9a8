/// The kinds of event recorded in the delivery trace. Raw values are part of the
/// external contract: `relance tail` prints them and admins filter on them.
public enum DeliveryEventKind: String, Sendable, CaseIterable, Codable {
    case enqueued
    case claimed
    case rendered
    case deferred
    case dispatching
    case accepted
    case transientError = "transient_error"
    case permanentError = "permanent_error"
    case delivered
    case undelivered
    case cancelled
    case uncertain
    case dead
    case rescued
    /// A delivery-status notice said the message is delayed (RFC 3464 `Action: delayed`).
    case delayed
    /// The recipient reported the message as spam (an ARF feedback report, RFC 5965).
    case complaint
    /// An automatic reply (RFC 3834: out of office, vacation), which is not a bounce.
    case autoReply = "auto_reply"
}
