import CCurl
import Foundation
import RelanceCore
import RelanceTransport

/// SMTP settings. The password is read from a file by the daemon and never logged.
public struct SMTPSettings: Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain SMTP; only sensible on loopback or a trusted relay.
        case none
        /// STARTTLS required (the connection fails rather than sending in clear).
        case starttls
        /// TLS from the first byte (smtps, port 465).
        case tls
    }
    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The EHLO name; defaults to libcurl's choice.
    public var heloName: String?
    public var connectTimeout: Double
    public var timeout: Double
    /// Extra CA bundle (PEM) for a private relay; verification always stays on.
    public var caFile: String?

    public init(
        host: String, port: Int = 25, security: Security = .starttls, username: String? = nil, password: String? = nil,
        heloName: String? = nil, connectTimeout: Double = 10, timeout: Double = 60, caFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.caFile = caFile
    }

    var url: String {
        let scheme = security == .tls ? "smtps" : "smtp"
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(scheme)://\(host):\(port)/\(heloName ?? "")"
    }
}

/// SMTP through libcurl, one connection per session (worker), reused between messages.
public struct SMTPTransport: EmailTransport {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public var summary: String {
        "smtp \(settings.url) security=\(settings.security.rawValue)" + (settings.username.map { " user=\($0)" } ?? "")
    }

    public func makeSession() throws -> any EmailSession {
        try SMTPConnection(settings: settings)
    }
}

/// One SMTP connection (a libcurl session), reused between the messages of a worker.
final class SMTPConnection: EmailSession {
    private let settings: SMTPSettings
    private let session = CurlSession(label: "relance.smtp")

    init(settings: SMTPSettings) throws {
        self.settings = settings
    }

    func close() async { await session.close() }

    func send(_ email: OutgoingEmail) async -> DispatchOutcome {
        let settings = self.settings
        let session = self.session
        return await session.perform { curl in
            Self.send(email, curl: curl, session: session, settings: settings)
        } orElse: { message in
            .transient(DispatchFailure(reason: "curl", message: message))
        }
    }

    private static func send(
        _ email: OutgoingEmail, curl: UnsafeMutableRawPointer, session: CurlSession, settings: SMTPSettings
    ) -> (result: DispatchOutcome, keep: Bool) {
        let upload = session.upload
        let replies = session.replies
        CurlSession.fill(upload, with: email.bytes)
        var recipients: UnsafeMutablePointer<curl_slist>?
        for recipient in email.recipients {
            recipients = curl_slist_append(recipients, "<\(recipient.value)>")
        }
        defer { curl_slist_free_all(recipients) }

        var setupError: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if setupError == CURLE_OK && code != CURLE_OK { setupError = code } }
        set(relance_curl_setopt_string(curl, CURLOPT_URL, settings.url))
        set(relance_curl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(email.envelopeFrom.value)>"))
        set(relance_curl_setopt_slist(curl, CURLOPT_MAIL_RCPT, recipients))
        set(relance_curl_setopt_long(curl, CURLOPT_UPLOAD, 1))
        set(relance_curl_setopt_long(curl, CURLOPT_INFILESIZE, email.bytes.count))
        set(relance_curl_set_upload(curl, upload))
        set(relance_curl_capture_replies(curl, replies))
        set(relance_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        set(relance_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000)))
        set(relance_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000)))
        switch settings.security {
        case .none: set(relance_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue)))
        case .starttls, .tls: set(relance_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)))
        }
        if let caFile = settings.caFile { set(relance_curl_setopt_string(curl, CURLOPT_CAINFO, caFile)) }
        if let username = settings.username { set(relance_curl_setopt_string(curl, CURLOPT_USERNAME, username)) }
        if let password = settings.password { set(relance_curl_setopt_string(curl, CURLOPT_PASSWORD, password)) }
        guard setupError == CURLE_OK else {
            let message = "libcurl option refused: \(String(cString: curl_easy_strerror(setupError)))"
            return (.transient(DispatchFailure(reason: "curl", message: message)), false)
        }

        let result = curl_easy_perform(curl)
        let dialogue = CurlSession.text(replies)
        let reply = SMTPReply.last(in: dialogue)
        if result == CURLE_OK {
            let final = reply ?? SMTPReply(code: 250, enhancedCode: nil, text: "250 accepted")
            return (.accepted(ProviderResponse(code: final.code, text: final.text, providerRef: final.queueID)), true)
        }
        // After a failure the connection state is unknown: start afresh next time.
        let error = String(cString: curl_easy_strerror(result))
        // A reply only explains the failure if the server said no; a success from
        // before the network broke explains nothing.
        let failingReply = SMTPReply.lastRefusal(in: dialogue)
        let outcome = SMTPClassification.classify(
            reply: failingReply,
            transportError: "\(error) (libcurl \(result.rawValue)) talking to \(settings.host):\(settings.port)")
        return (outcome, false)
    }
}

extension SMTPTransport {
    /// Connects as for a message (greeting, EHLO, STARTTLS and AUTH when configured) and
    /// sends NOOP: for `relance doctor`. Returns the server's last reply, or why not.
    public func probe() async -> Result<String, DispatchFailure> {
        let settings = self.settings
        let session = CurlSession(label: "relance.smtp.probe")
        defer { Task { await session.close() } }
        return await session.perform { curl in
            var setupError: CURLcode = CURLE_OK
            func set(_ code: CURLcode) { if setupError == CURLE_OK && code != CURLE_OK { setupError = code } }
            set(relance_curl_setopt_string(curl, CURLOPT_URL, settings.url))
            set(relance_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, "NOOP"))
            set(relance_curl_setopt_long(curl, CURLOPT_NOBODY, 1))
            set(relance_curl_capture_replies(curl, session.replies))
            set(relance_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
            set(relance_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000)))
            set(relance_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(settings.connectTimeout * 1000 * 2)))
            let ssl = settings.security == .none ? CURLUSESSL_NONE : CURLUSESSL_ALL
            set(relance_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(ssl.rawValue)))
            if let caFile = settings.caFile { set(relance_curl_setopt_string(curl, CURLOPT_CAINFO, caFile)) }
            if let username = settings.username { set(relance_curl_setopt_string(curl, CURLOPT_USERNAME, username)) }
            if let password = settings.password { set(relance_curl_setopt_string(curl, CURLOPT_PASSWORD, password)) }
            guard setupError == CURLE_OK else {
                return (.failure(DispatchFailure(reason: "curl", message: "libcurl option refused")), false)
            }
            let result = curl_easy_perform(curl)
            let dialogue = CurlSession.text(session.replies)
            if result == CURLE_OK {
                let greeting = dialogue.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                return (.success(greeting), false)
            }
            let reply = SMTPReply.lastRefusal(in: dialogue).map { " (\($0.text))" } ?? ""
            let error = String(cString: curl_easy_strerror(result))
            return (
                .failure(
                    DispatchFailure(reason: "smtp", message: "\(error)\(reply) at \(settings.host):\(settings.port)")),
                false
            )
        } orElse: { message in
            .failure(DispatchFailure(reason: "curl", message: message))
        }
    }
}
