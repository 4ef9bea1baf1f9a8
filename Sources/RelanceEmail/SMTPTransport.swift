import CCurl
import Foundation
import RelanceCore

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
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        self.settings = settings
    }

    public var summary: String {
        "smtp \(settings.url) security=\(settings.security.rawValue)" + (settings.username.map { " user=\($0)" } ?? "")
    }

    public func makeSession() throws -> any EmailSession {
        try SMTPConnection(settings: settings)
    }
}

/// Owns one libcurl easy handle. `@unchecked Sendable`: the handle is only touched
/// on `queue`, a serial queue of its own, so blocking network calls never run on
/// Swift's cooperative pool and never run concurrently.
final class SMTPConnection: EmailSession, @unchecked Sendable {
    private let settings: SMTPSettings
    private let queue: DispatchQueue
    private var handle: UnsafeMutableRawPointer?
    // Heap-allocated: libcurl keeps these pointers between calls, so they must not be
    // Swift inout temporaries.
    private let upload = UnsafeMutablePointer<relance_buffer>.allocate(capacity: 1)
    private let replies = UnsafeMutablePointer<relance_buffer>.allocate(capacity: 1)

    init(settings: SMTPSettings) throws {
        self.settings = settings
        self.queue = DispatchQueue(label: "relance.smtp")
        guard let handle = curl_easy_init() else {
            throw DispatchFailure(reason: "curl", message: "libcurl could not create a handle")
        }
        self.handle = handle
        relance_buffer_init(upload)
        relance_buffer_init(replies)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        relance_buffer_free(upload)
        relance_buffer_free(replies)
        upload.deallocate()
        replies.deallocate()
    }

    func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { curl_easy_cleanup(handle) }
                self.handle = nil
                done.resume()
            }
        }
    }

    func send(_ email: OutgoingEmail) async -> DispatchOutcome {
        await withCheckedContinuation { (done: CheckedContinuation<DispatchOutcome, Never>) in
            queue.async { done.resume(returning: self.sendBlocking(email)) }
        }
    }

    private func sendBlocking(_ email: OutgoingEmail) -> DispatchOutcome {
        if handle == nil {
            guard let fresh = curl_easy_init() else {
                return .transient(DispatchFailure(reason: "curl", message: "libcurl could not create a handle"))
            }
            handle = fresh
        }
        let curl = handle!
        relance_buffer_reset(upload)
        relance_buffer_reset(replies)
        _ = email.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { relance_buffer_append(upload, $0.baseAddress, $0.count) }
        }
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
            return .transient(
                DispatchFailure(
                    reason: "curl",
                    message: "libcurl option refused: \(String(cString: curl_easy_strerror(setupError)))"))
        }

        let result = curl_easy_perform(curl)
        let dialogue =
            replies.pointee.data.map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: replies.pointee.length), as: UTF8.self)
            } ?? ""
        let reply = SMTPReply.last(in: dialogue)
        if result == CURLE_OK {
            let final = reply ?? SMTPReply(code: 250, enhancedCode: nil, text: "250 accepted")
            return .accepted(ProviderResponse(code: final.code, text: final.text, providerRef: final.queueID))
        }
        // After a failure the connection state is unknown: start afresh next time.
        curl_easy_cleanup(curl)
        handle = nil
        let error = String(cString: curl_easy_strerror(result))
        // A reply only explains the failure if the server said no; a success from
        // before the network broke explains nothing.
        let failingReply = SMTPReply.lastRefusal(in: dialogue)
        return SMTPClassification.classify(
            reply: failingReply,
            transportError: "\(error) (libcurl \(result.rawValue)) talking to \(settings.host):\(settings.port)")
    }
}
