import RelanceCore

/// A way to hand e-mails over: SMTP, or the outbox folder.
public protocol EmailTransport: Sendable {
    /// A session for one worker. SMTP keeps one connection per session.
    func makeSession() throws -> any EmailSession
    /// A one-line description for logs (never containing a secret).
    var summary: String { get }
}

/// One worker's channel to the provider. Not shared between workers.
public protocol EmailSession: Sendable {
    /// Sends a message. Never throws: every failure is classified. The irrevocable write
    /// (the end of the message) happens only while `fence` allows it.
    func send(_ email: OutgoingEmail, fence: DispatchFence) async -> DispatchOutcome
    func close() async
}

/// An e-mail ready for the wire.
public struct OutgoingEmail: Sendable {
    public var jobID: Int64
    public var attempt: Int
    /// Envelope sender (MAIL FROM); bounces go there.
    public var envelopeFrom: EmailAddress
    /// Envelope recipients (RCPT TO).
    public var recipients: [EmailAddress]
    /// The whole message, CRLF line endings.
    public var bytes: [UInt8]

    public init(jobID: Int64, attempt: Int, envelopeFrom: EmailAddress, recipients: [EmailAddress], bytes: [UInt8]) {
        self.jobID = jobID
        self.attempt = attempt
        self.envelopeFrom = envelopeFrom
        self.recipients = recipients
        self.bytes = bytes
    }
}
