/// The idempotency key of a dunning scenario's job: `<case>:<step>:<channel>`, e.g.
/// `F-2026-0142:reminder-1:email`. Opening an invoice twice makes the same keys (so the
/// same jobs); a fallback to another channel keeps the case and the step; the step report
/// groups by step. Built and read here only.
public struct StepKey: Sendable, Hashable, CustomStringConvertible {
    public var caseRef: String
    public var step: String
    public var channel: String

    public init(caseRef: String, step: String, channel: String) {
        self.caseRef = caseRef
        self.step = step
        self.channel = channel
    }

    /// Reads `key` as a step key of `caseRef` (the case may hold colons; steps and
    /// channels do not). Nil for any other key.
    public init?(_ key: String, caseRef: String) {
        guard key.hasPrefix(caseRef + ":") else { return nil }
        let rest = key.dropFirst(caseRef.count + 1).split(separator: ":", omittingEmptySubsequences: false)
        guard rest.count == 2, !rest[0].isEmpty, !rest[1].isEmpty else { return nil }
        self.init(caseRef: caseRef, step: String(rest[0]), channel: String(rest[1]))
    }

    /// The same step on another channel.
    public func on(_ channel: String) -> StepKey {
        StepKey(caseRef: caseRef, step: step, channel: channel)
    }

    public var description: String { "\(caseRef):\(step):\(channel)" }
}
