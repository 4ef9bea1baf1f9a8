/// What a transport reports for one attempt at sending a message.
///
/// Every transport distinguishes three moments of an attempt:
/// - before the irrevocable write (connecting, greeting, the SMTP envelope, an HTTP
///   request not yet started): a failure is `transient` or `permanent`, and nothing can
///   have reached the peer;
/// - after the irrevocable write (the final `.` of SMTP DATA, an HTTP request fully
///   written, a file renamed into the outbox) and before a definitive answer: the
///   outcome is `uncertain`, never retried automatically;
/// - a definitive answer: `accepted`, or a refusal (`transient`/`permanent`).
public enum DispatchOutcome: Sendable, Equatable {
    /// The provider took responsibility for the message.
    case accepted(ProviderResponse)
    /// Worth retrying later: network errors, timeouts, SMTP 4xx, HTTP 429/5xx. Only
    /// ever reported when nothing irrevocable was written, or the peer said no.
    case transient(DispatchFailure)
    /// Retrying cannot help: SMTP 5xx, HTTP 4xx, invalid address, template or data errors.
    case permanent(DispatchFailure)
    /// The message was handed over whole but no definitive answer came (a connection
    /// closed or reset, a timeout, a request the HTTP library wanted to send again): it
    /// may have left. The job becomes `uncertain` and an operator decides; `reason`
    /// names the step (`smtp_data`, `http_request`, …).
    case uncertain(DispatchFailure)

    /// The failure, for anything but an acceptance.
    public var failure: DispatchFailure? {
        switch self {
        case .accepted: nil
        case .transient(let f), .permanent(let f), .uncertain(let f): f
        }
    }
}

/// Whether a worker may still make the irrevocable write of a message: its lease on the
/// job must outlast the write and the wait for the peer's answer, or the sweeper could
/// take the job for lost while the message is on its way.
///
/// `leaseEnd` is a local monotonic instant taken *before* the store wrote the lease, so it
/// is never later than the lease the store holds. A process paused (SIGSTOP, a VM pause)
/// past it finds the fence closed when it resumes, and writes nothing.
public struct DispatchFence: Sendable {
    public var leaseEnd: ContinuousClock.Instant

    public init(leaseEnd: ContinuousClock.Instant) {
        self.leaseEnd = leaseEnd
    }

    /// A lease of `seconds` starting now (taken just before the store records it).
    public static func lease(seconds: Double) -> DispatchFence {
        DispatchFence(leaseEnd: .now + .milliseconds(Int((seconds * 1000).rounded(.down))))
    }

    /// No lease to respect (the CLI's own sends, tests).
    public static var unlimited: DispatchFence { lease(seconds: 10 * 365 * 86400) }

    /// True when an irrevocable write may start now and its answer be awaited until
    /// `answeredBy` while the lease still holds.
    public func permits(answeredBy: ContinuousClock.Instant) -> Bool {
        answeredBy < leaseEnd && ContinuousClock.now < leaseEnd
    }

    /// The outcome when the fence is closed: nothing was written.
    public func refusal(_ what: String) -> DispatchOutcome {
        .transient(
            DispatchFailure(
                reason: .lease,
                message:
                    "not sent: the worker's lease would end before \(what) (the process was paused or the peer slow); nothing was written"
            ))
    }
}

/// The provider's answer when it accepted a message, kept in the trace as evidence.
public struct ProviderResponse: Sendable, Equatable {
    /// SMTP reply code or HTTP status.
    public var code: Int?
    /// The provider's text, e.g. `250 2.0.0 Ok: queued as 4F2A`.
    public var text: String
    /// Provider message id when there is one (SMTP queue id, gateway message id).
    public var providerRef: String?
    /// Extra facts for the trace (letter sha256 and page count, …).
    public var detail: [String: JSONValue]

    public init(code: Int? = nil, text: String, providerRef: String? = nil, detail: [String: JSONValue] = [:]) {
        self.code = code
        self.text = text
        self.providerRef = providerRef
        self.detail = detail
    }
}

/// Why an attempt failed, in words an operator can act on.
public struct DispatchFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason (README.md, "Failure reasons").
    public var reason: FailureReason
    public var message: String
    /// SMTP reply code or HTTP status when the provider answered.
    public var code: Int?
    /// RFC 3463 enhanced status code (`5.1.1`) when the SMTP server gave one.
    public var enhancedCode: String?

    public init(reason: FailureReason, message: String, code: Int? = nil, enhancedCode: String? = nil) {
        self.reason = reason
        self.message = message
        self.code = code
        self.enhancedCode = enhancedCode
    }

    public var description: String { message }
}

extension DispatchFailure {
    /// The contact point itself is unusable: an invalid address or number, or a hard
    /// bounce (SMTP 5.1.x: no such mailbox, bad address). Retrying it cannot help; another
    /// channel can.
    public var isUnusableContact: Bool {
        if reason == .address || reason == .suppressed { return true }
        if let code, (550...553).contains(code), enhancedCode?.hasPrefix("5.1.") == true { return true }
        return false
    }
}
