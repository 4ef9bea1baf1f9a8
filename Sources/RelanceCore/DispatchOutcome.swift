/// What a transport reports for one attempt at sending a message.
public enum DispatchOutcome: Sendable, Equatable {
    /// The provider took responsibility for the message.
    case accepted(ProviderResponse)
    /// Worth retrying later: network errors, timeouts, SMTP 4xx, HTTP 429/5xx.
    case transient(DispatchFailure)
    /// Retrying cannot help: SMTP 5xx, HTTP 4xx, invalid address, template or data errors.
    case permanent(DispatchFailure)
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
    /// A stable, machine-readable reason: `smtp_reply`, `network`, `timeout`, `template`, `data`, `address`, …
    public var reason: String
    public var message: String
    /// SMTP reply code or HTTP status when the provider answered.
    public var code: Int?
    /// RFC 3463 enhanced status code (`5.1.1`) when the SMTP server gave one.
    public var enhancedCode: String?

    public init(reason: String, message: String, code: Int? = nil, enhancedCode: String? = nil) {
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
        if reason == "address" || reason == "suppressed" { return true }
        if let code, (550...553).contains(code), enhancedCode?.hasPrefix("5.1.") == true { return true }
        return false
    }
}
