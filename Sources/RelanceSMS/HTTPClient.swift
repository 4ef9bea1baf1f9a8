import CCurl
import Foundation
import RelanceCore
import RelanceTransport

/// One HTTP request to a gateway.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// HTTP basic authentication (Twilio: account SID and auth token).
    public var username: String?
    public var password: String?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        username: String? = nil, password: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.username = username
        self.password = password
    }
}

/// What came back: a response (any status), or no response at all.
public enum HTTPResult: Sendable, Equatable {
    case response(status: Int, body: String)
    /// Connection refused, timeout, TLS failure…: libcurl's words, with no URL in them
    /// (URLs may carry credentials).
    case failure(String)
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
public final class HTTPClient: Sendable {
    private let settings: HTTPSettings
    private let session = CurlSession(label: "relance.http")
    /// Bodies longer than this are cut: an answer is for an error message, not storage.
    static let maxBody = 64 * 1024

    public init(settings: HTTPSettings) {
        self.settings = settings
    }

    public func close() async { await session.close() }

    public func perform(_ request: HTTPRequest) async -> HTTPResult {
        let settings = self.settings
        let session = self.session
        return await session.perform { curl in
            Self.perform(request, curl: curl, session: session, settings: settings)
        } orElse: { message in
            .failure(message)
        }
    }

    private static func perform(
        _ request: HTTPRequest, curl: UnsafeMutableRawPointer, session: CurlSession, settings: HTTPSettings
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
        if let bytes = request.body {
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
            return (.failure("\(String(cString: curl_easy_strerror(result))) (libcurl \(result.rawValue))"), false)
        }
        var status = 0
        relance_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return (.response(status: status, body: CurlSession.text(session.body, limit: maxBody)), true)
    }
}
