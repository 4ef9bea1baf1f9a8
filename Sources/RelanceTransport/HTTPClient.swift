import CCurl
import Foundation
import RelanceCore

/// One HTTP request to a gateway.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// A `multipart/form-data` body instead (file uploads); `body` is then ignored.
    public var multipart: [MultipartPart]?
    /// HTTP basic authentication (Twilio: account SID and auth token).
    public var username: String?
    public var password: String?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        multipart: [MultipartPart]? = nil, username: String? = nil, password: String? = nil
    ) {
        self.multipart = multipart
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.username = username
        self.password = password
    }
}

/// One part of a `multipart/form-data` body.
public struct MultipartPart: Sendable {
    public var name: String
    public var data: [UInt8]
    /// Set for a file part, e.g. `letter.pdf`.
    public var filename: String?
    public var contentType: String?

    public init(name: String, data: [UInt8], filename: String? = nil, contentType: String? = nil) {
        self.name = name
        self.data = data
        self.filename = filename
        self.contentType = contentType
    }
}

/// What came back: a response (any status), or no response at all.
public enum HTTPResult: Sendable, Equatable {
    case response(status: Int, body: String)
    /// No request reached the peer: connection refused, TLS failure, a timeout while
    /// connecting…: libcurl's words, with no URL in them (URLs may carry credentials).
    case failure(String)
    /// The request was written but no response came (the connection closed or reset,
    /// a timeout while waiting, libcurl wanting to send it again on a new connection):
    /// the peer may have acted on it.
    case unanswered(String)
    /// The worker's lease would end before the answer could come: no request was sent.
    case fenced
}

/// Connection settings shared by every provider.
public struct HTTPSettings: Sendable, Equatable {
    public var connectTimeout: Double
    public var timeout: Double
    /// Extra CA bundle (PEM) for a private gateway; verification always stays on.
    public var caFile: String?

    public init(connectTimeout: Double = 5, timeout: Double = 15, caFile: String? = nil) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.caFile = caFile
    }
}

/// An HTTP client over one libcurl session, kept alive between requests (one per worker).
///
/// A request is never sent twice without the caller knowing: libcurl re-sends a request
/// on a fresh connection when the reused one dies after the request was written (a
/// gateway restarting, a keep-alive timeout racing the request); a guard called before
/// each request (`CURLOPT_PREREQFUNCTION`) refuses any second request of a transfer, and
/// the result is then `unanswered`. A connection idle longer than `maximumIdle` is not
/// reused, which makes that race rare.
public final class HTTPClient: Sendable {
    private let settings: HTTPSettings
    private let session = CurlSession(label: "relance.http")
    /// Bodies longer than this are cut: an answer is for an error message, not storage.
    static let maxBody = 64 * 1024
    /// Kept connections idle for longer are closed rather than reused (CURLOPT_MAXAGE_CONN):
    /// gateways close idle connections after a few seconds (Apache 5 s, nginx 75 s).
    public static let maximumIdleSeconds = 4

    public init(settings: HTTPSettings) {
        self.settings = settings
    }

    public func close() async { await session.close() }

    /// Performs `request`, which starts only while `fence` still covers the whole wait
    /// for its answer (`timeout`).
    public func perform(fence: DispatchFence = .unlimited, _ request: HTTPRequest) async -> HTTPResult {
        let settings = self.settings
        let session = self.session
        return await session.perform { curl in
            Self.perform(request, curl: curl, session: session, settings: settings, fence: fence)
        } orElse: { message in
            .failure(message)
        }
    }

    private static func perform(
        _ request: HTTPRequest, curl: UnsafeMutableRawPointer, session: CurlSession, settings: HTTPSettings,
        fence: DispatchFence
    ) -> (result: HTTPResult, keep: Bool) {
        curl_easy_reset(curl)
        var headers: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            // A header value from configuration never carries a line break.
            let clean = value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }
            headers = curl_slist_append(headers, "\(name): \(String(String.UnicodeScalarView(clean)))")
        }
        // No "Expect: 100-continue" round trip for small bodies.
        headers = curl_slist_append(headers, "Expect:")
        defer { curl_slist_free_all(headers) }

        var setupError: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if setupError == CURLE_OK && code != CURLE_OK { setupError = code } }
        set(relance_curl_setopt_string(curl, CURLOPT_URL, request.url))
        set(relance_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        set(relance_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000)))
        set(relance_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000)))
        // Gateways are HTTP(S) only, and a redirect is not followed (it would carry credentials).
        set(relance_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(relance_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headers))
        set(relance_curl_set_body_sink(curl, session.body))
        set(relance_curl_setopt_long(curl, CURLOPT_MAXAGE_CONN, maximumIdleSeconds))
        // The last instant the request may start: its answer may take `timeout`.
        let latestStart = fence.leaseEnd - .milliseconds(Int(settings.timeout * 1000))
        let left = ContinuousClock.now.duration(to: latestStart)
        let fenceNanoseconds: Int64 =
            left <= .zero
            ? -1 : max(1, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
        set(relance_curl_set_request_guard(curl, session.requestGuard, fenceNanoseconds))
        var mime: OpaquePointer?
        defer { if let mime { curl_mime_free(mime) } }
        if let parts = request.multipart {
            mime = curl_mime_init(curl)
            for part in parts {
                let field = curl_mime_addpart(mime)
                curl_mime_name(field, part.name)
                _ = part.data.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { curl_mime_data(field, $0.baseAddress, $0.count) }
                }
                if let filename = part.filename { curl_mime_filename(field, filename) }
                if let type = part.contentType { curl_mime_type(field, type) }
            }
            set(relance_curl_setopt_pointer(curl, CURLOPT_MIMEPOST, UnsafeMutableRawPointer(mime)))
        } else if let bytes = request.body {
            CurlSession.fill(session.upload, with: bytes)
            set(relance_curl_setopt_long(curl, CURLOPT_POST, 1))
            set(relance_curl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, bytes.count))
            set(relance_curl_set_upload(curl, session.upload))
        }
        if request.method != "GET" && request.method != "POST" {
            set(relance_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let caFile = settings.caFile { set(relance_curl_setopt_string(curl, CURLOPT_CAINFO, caFile)) }
        if let username = request.username {
            set(relance_curl_setopt_long(curl, CURLOPT_HTTPAUTH, 1 /* CURLAUTH_BASIC */))
            set(relance_curl_setopt_string(curl, CURLOPT_USERNAME, username))
            set(relance_curl_setopt_string(curl, CURLOPT_PASSWORD, request.password ?? ""))
        }
        guard setupError == CURLE_OK else {
            return (.failure("libcurl option refused: \(String(cString: curl_easy_strerror(setupError)))"), false)
        }
        let result = curl_easy_perform(curl)
        guard result == CURLE_OK else {
            let words = "\(String(cString: curl_easy_strerror(result))) (libcurl \(result.rawValue))"
            let guarded = session.requestGuard.pointee
            if guarded.refused == 2 { return (.fenced, false) }
            // libcurl re-sends a body it can rewind; ours it cannot (no seek function), so a
            // re-send of a POST fails as a rewind error before the guard is asked.
            if guarded.refused == 1 || (guarded.requests > 0 && result == CURLE_SEND_FAIL_REWIND) {
                return (
                    .unanswered(
                        "the connection closed after the request was written, without a response (libcurl was stopped from sending it again)"
                    ), false
                )
            }
            if guarded.requests > 0 && requestWritten(curl) {
                return (.unanswered("no response after the request was written: \(words)"), false)
            }
            return (.failure(words), false)
        }
        var status = 0
        relance_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return (.response(status: status, body: CurlSession.text(session.body, limit: maxBody)), true)
    }
}

extension HTTPClient {
    /// Whether the whole request body went out (for a request with a body), so that the
    /// peer may act on it. A body cut short cannot be: its length says it is incomplete.
    static func requestWritten(_ curl: UnsafeMutableRawPointer) -> Bool {
        var expected: Int64 = -1
        var uploaded: Int64 = 0
        guard relance_curl_getinfo_off_t(curl, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &expected) == CURLE_OK,
            relance_curl_getinfo_off_t(curl, CURLINFO_SIZE_UPLOAD_T, &uploaded) == CURLE_OK
        else { return true }
        return expected <= 0 || uploaded >= expected
    }
}

/// How an HTTP gateway's answer maps to an outcome. 2xx: accepted. 408, 425, 429 and 5xx:
/// transient (README, "Job lifecycle"). 401, 403 and 407 are transient too: a wrong credential is a
/// configuration fault that an operator fixes, not a property of the message, so the
/// jobs wait (with backoff, until `max_attempts`) rather than all fail. Any other 4xx
/// is permanent. No answer at all (refused, timeout, TLS) is transient.
public enum HTTPClassification {
    public static func isTransient(status: Int) -> Bool {
        status >= 500 || [401, 403, 407, 408, 425, 429].contains(status)
    }

    /// `what` names the gateway in messages, e.g. "kannel 127.0.0.1:13013".
    public static func failure(_ result: HTTPResult, what: String) -> DispatchOutcome {
        switch result {
        case .failure(let message):
            return .transient(DispatchFailure(reason: .network, message: "\(what): \(message)"))
        case .unanswered(let message):
            return .uncertain(
                DispatchFailure(reason: .httpRequest, message: "\(what): \(message); it may have been acted on"))
        case .fenced:
            return DispatchFence(leaseEnd: .now).refusal("\(what) could answer")
        case .response(let status, let body):
            let failure = DispatchFailure(
                reason: .gateway, message: "\(what) answered \(status): \(summarize(body))", code: status)
            return isTransient(status: status) ? .transient(failure) : .permanent(failure)
        }
    }

    /// The body as one short line for `last_error`.
    public static func summarize(_ body: String, limit: Int = 300) -> String {
        let line = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        if line.isEmpty { return "(empty body)" }
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }
}

public enum GatewayURL {
    /// Scheme, host and port only: paths and queries may hold credentials.
    public static func display(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "(gateway)" }
        return "\(components.scheme ?? "http")://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

extension HTTPClassification {
    /// A provider's reference in its JSON answer: the string or number at a dotted path
    /// (`id`, `data.id`); nil when the path is nil, the body is not JSON or the value absent.
    public static func reference(in body: String, at path: String?) -> String? {
        guard let path, var node = try? JSONValue.parse(body) else { return nil }
        for key in path.split(separator: ".") { node = node.objectValue?[String(key)] ?? .null }
        switch node {
        case .string(let s): return s
        case .number(let n): return n
        default: return nil
        }
    }
}
