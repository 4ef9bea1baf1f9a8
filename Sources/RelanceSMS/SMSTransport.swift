import Foundation
import RelanceCore
import RelanceTransport
import Synchronization

/// Sends SMS through one provider (Kannel, Twilio-compatible, webhook) or the outbox.
public protocol SMSTransport: Sendable {
    /// A session for one worker (one kept-alive HTTP connection).
    func makeSession() throws -> any SMSSession
    /// A one-line description for logs (never containing a secret).
    var summary: String { get }
    /// Whether the provider answers (and takes the credentials): for `relance doctor`.
    /// Sends no message.
    func probe() async -> Result<String, DispatchFailure>
}

/// One worker's channel to the provider. Not shared between workers.
public protocol SMSSession: Sendable {
    /// Sends a message. Never throws: every failure is classified. The request starts
    /// only while `fence` allows it.
    func send(_ sms: OutgoingSMS, fence: DispatchFence) async -> DispatchOutcome
    func close() async
}

/// An SMS ready for the gateway: the text is already sanitised and measured.
public struct OutgoingSMS: Sendable, Equatable {
    public var jobID: Int64
    public var attempt: Int
    /// E.164, e.g. `+33612345678`.
    public var to: String
    public var text: String
    public var encoding: SMSEncoding
    public var segments: Int

    public init(jobID: Int64, attempt: Int, to: String, text: String, encoding: SMSEncoding, segments: Int) {
        self.jobID = jobID
        self.attempt = attempt
        self.to = to
        self.text = text
        self.encoding = encoding
        self.segments = segments
    }
}

/// Where gateways send delivery reports: `<base>/v1/callbacks/<provider>/<job>/<attempt>?token=…`,
/// the token being an HMAC only the daemon can compute (see `CallbackSigner`).
public struct CallbackSettings: Sendable {
    /// The daemon's HTTP API as the gateway reaches it, e.g. `https://relance.example.com`.
    public var baseURL: String
    public var signer: CallbackSigner

    public init(baseURL: String, signer: CallbackSigner) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.signer = signer
    }

    public func url(provider: String, jobID: Int64, attempt: Int) -> String {
        let token = signer.token(provider: provider, jobID: jobID, attempt: attempt)
        return "\(baseURL)/v1/callbacks/\(provider)/\(jobID)/\(attempt)?token=\(token)"
    }
}

/// Spaces messages to at most `rate` per second across every worker of the daemon
/// (virtual scheduling: each message takes the next free slot). `rate` nil: no limit.
public final class RateLimiter: Sendable {
    private let interval: Double?
    private let next = Mutex<Double>(0)

    public init(rate: Double?) {
        self.interval = rate.flatMap { $0 > 0 ? 1 / $0 : nil }
    }

    /// Seconds to wait before sending, reserving the slot; `now` on a monotonic clock.
    public func reserve(now: Double) -> Double {
        guard let interval else { return 0 }
        return next.withLock { slot in
            let start = max(slot, now)
            slot = start + interval
            return start - now
        }
    }

    /// Waits for this worker's turn.
    public func acquire() async {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        let wait = reserve(now: now)
        if wait > 0 { try? await Task.sleep(for: .milliseconds(Int((wait * 1000).rounded(.up)))) }
    }
}
