import Foundation

/// The hash chain of a case's trace: each event's hash covers the event and the hash of
/// the event sealed before it in the same chain (one chain per case, or per job for a
/// job without a case). An exported history then shows whether an event was altered
/// (its hash no longer matches) or removed (a link points at a hash that is not there).
/// Pure: the store seals, the export verifies.
public enum TraceChain {
    /// The chain an event belongs to.
    public static func key(caseRef: String?, jobID: Int64) -> String {
        caseRef.map { "case:" + $0 } ?? "job:\(jobID)"
    }

    /// The text hashed for an event: every field, the detail as canonical JSON.
    public static func canonical(_ event: DeliveryEvent) -> String {
        JSONValue.object([
            "id": .number(String(event.id)), "job_id": .number(String(event.jobID)),
            "attempt": .number(String(event.attempt)), "at": .string(event.at), "event": .string(event.kind.rawValue),
            "case_ref": event.caseRef.map(JSONValue.string) ?? .null, "channel": .string(event.channel),
            "detail": event.detail,
        ]).jsonText
    }

    /// The event's hash after `previous` (the empty string for the first of a chain).
    public static func link(previous: String, _ event: DeliveryEvent) -> String {
        SHA256.hex(previous + "\n" + canonical(event))
    }

    public struct Sealed: Sendable, Equatable {
        public var event: DeliveryEvent
        public var previous: String
        public var hash: String
        public init(event: DeliveryEvent, previous: String, hash: String) {
            self.event = event
            self.previous = previous
            self.hash = hash
        }
    }

    /// What is wrong with a chain given in sealing order: an event whose hash does not
    /// cover it, or whose link does not point at the event before it. The first event's
    /// link is its anchor (an earlier part pruned, or the empty string at the start).
    public static func problems(_ chain: [Sealed]) -> [String] {
        var problems: [String] = []
        for (index, sealed) in chain.enumerated() {
            if link(previous: sealed.previous, sealed.event) != sealed.hash {
                problems.append(
                    "event \(sealed.event.id) (\(sealed.event.kind.rawValue)) was altered: its hash does not match it")
            }
            if index > 0, sealed.previous != chain[index - 1].hash {
                problems.append(
                    "before event \(sealed.event.id) an event is missing: its link does not point at event \(chain[index - 1].event.id)"
                )
            }
        }
        return problems
    }
}
