/// Why an attempt failed, as a stable code: the `reason` of a failed, retry, uncertain or
/// dead job's trace row and of its log line. Part of the trace contract: a code is never
/// renamed or reused, and every one is listed in README.md, "Failure reasons" (a test
/// checks the list against this type).
public enum FailureReason: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The peer could not be reached, or the connection broke before the message was
    /// handed over (or, on an HTTP peer, before the request was fully written).
    case network
    /// libcurl failed on this side (setup, TLS handshake, a local resource).
    case curl
    /// An HTTP gateway (SMS, letters, webhook) answered with an error status.
    case gateway
    /// An HTTP request was fully written and no answer came: the peer may have acted on it.
    case httpRequest = "http_request"
    /// An outbox file could not be written or renamed into place.
    case outbox
    /// The letter spool directory is not writable.
    case spool
    /// The SMTP server refused the configured sender (retried: a configuration problem).
    case sender
    /// The payer's e-mail address, phone number or postal address is unusable.
    case address
    /// The SMTP server refused the message (a 4xx or 5xx reply).
    case smtpReply = "smtp_reply"
    /// The SMTP server refused the credentials.
    case smtpAuth = "smtp_auth"
    /// The message was sent whole and the final reply to DATA never came.
    case smtpData = "smtp_data"
    /// A reused SMTP session failed its check (RSET/NOOP) or its transaction.
    case smtp
    /// The worker's lease would end before the peer's answer: nothing was written.
    case lease
    /// The payer is missing or its row is unusable.
    case payer
    /// The contact is on the suppression list.
    case suppressed
    /// The job's data does not fit the template or the data rules.
    case data
    /// The template is missing or does not render.
    case template
    /// The SMS is longer than the configured maximum number of parts.
    case length
    /// The letter cannot be laid out (address window, pages).
    case letter
    /// No transport session could be opened for the channel.
    case transport

    public var description: String { rawValue }
}

/// Why a job was cancelled, stored in `jobs.cancel_reason` and written in the trace.
///
/// The stored forms: `paid`, `dispute`, `manual`, `merged:<job id>` (the job it was merged
/// into). Anything else read back (a row written by hand) is kept as `other`.
public enum CancelReason: Sendable, Hashable, CustomStringConvertible {
    /// The invoice was paid (a payment recorded, or an operator said so).
    case paid
    /// The payer disputes the invoice.
    case dispute
    /// An operator cancelled the case.
    case manual
    /// Merged into the message of another job of the same payer and step.
    case merged(into: Int64)
    case other(String)

    /// What an operator may give (`relance cancel --reason`, `POST /v1/cases/{ref}/cancel`).
    public static let operatorChoices: [CancelReason] = [.paid, .dispute, .manual]

    /// The prefix of a merged job's stored reason (used in SQL as `LIKE 'merged:%'`).
    public static let mergedPrefix = "merged:"

    /// One of `operatorChoices` by its stored name, or nil.
    public init?(operatorChoice name: String) {
        guard let reason = Self.operatorChoices.first(where: { $0.stored == name }) else { return nil }
        self = reason
    }

    /// The reason as stored in `jobs.cancel_reason`.
    public init(stored: String) {
        switch stored {
        case "paid": self = .paid
        case "dispute": self = .dispute
        case "manual": self = .manual
        default:
            if stored.hasPrefix(Self.mergedPrefix),
                let id = Int64(stored.dropFirst(Self.mergedPrefix.count)), id > 0
            {
                self = .merged(into: id)
            } else {
                self = .other(stored)
            }
        }
    }

    public var stored: String {
        switch self {
        case .paid: "paid"
        case .dispute: "dispute"
        case .manual: "manual"
        case .merged(let id): "\(Self.mergedPrefix)\(id)"
        case .other(let text): text
        }
    }

    /// The trace row's detail: `{"reason": "merged", "into_job": 12}` or `{"reason": "paid"}`.
    public var traceDetail: [String: JSONValue] {
        if case .merged(let id) = self { return ["reason": "merged", "into_job": .number(String(id))] }
        return ["reason": .string(stored)]
    }

    public var description: String { stored }
}

/// An invoice's state: `invoices.status`.
public enum InvoiceStatus: String, Sendable, CaseIterable, CustomStringConvertible {
    case open
    case paid

    public var description: String { rawValue }
}
