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
}
