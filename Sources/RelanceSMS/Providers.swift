import Foundation
import RelanceCore
import RelanceTransport

// MARK: Kannel

/// Kannel's smsbox `sendsms` interface.
public struct KannelSettings: Sendable {
    /// e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`
    public var url: String
    public var username: String
    public var password: String
    /// The `from` parameter: an alphanumeric sender id or a number; Kannel's
    /// `global-sender` when nil.
    public var sender: String?
    /// Which reports to ask for: 1 delivered, 2 undelivered, 4 buffered, 8 SMSC accepted,
    /// 16 SMSC rejected. Only asked for when callbacks are configured.
    public var dlrMask: Int
    /// Route through this `smsc-id`.
    public var smsc: String?

    public init(
        url: String, username: String, password: String, sender: String? = nil, dlrMask: Int = 31,
        smsc: String? = nil
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.sender = sender
        self.dlrMask = dlrMask
        self.smsc = smsc
    }
}

public struct KannelTransport: SMSTransport {
    public let settings: KannelSettings
    public let http: HTTPSettings
    public let callbacks: CallbackSettings?

    public init(settings: KannelSettings, http: HTTPSettings, callbacks: CallbackSettings?) {
        self.settings = settings
        self.http = http
        self.callbacks = callbacks
    }

    public var summary: String {
        "kannel \(GatewayURL.display(settings.url)) user=\(settings.username)"
            + (callbacks == nil ? " (no delivery reports)" : " dlr-mask=\(settings.dlrMask)")
    }

    /// A `sendsms` call without a recipient: smsbox checks the credentials first (403
    /// when refused), then refuses the missing number; nothing is sent.
    public func probe() async -> Result<String, DispatchFailure> {
        let client = HTTPClient(settings: http)
        defer { Task { await client.close() } }
        let query = FormEncoding.encode([("username", settings.username), ("password", settings.password)])
        let separator = settings.url.contains("?") ? "&" : "?"
        return GatewayProbe.judge(
            await client.perform(HTTPRequest(url: settings.url + separator + query)),
            what: "kannel \(GatewayURL.display(settings.url))", refusing: [401, 403])
    }

    public func makeSession() throws -> any SMSSession {
        HTTPSMSSession(client: HTTPClient(settings: http)) { sms in
            var fields: [(String, String)] = [
                ("username", settings.username), ("password", settings.password), ("to", sms.to),
                ("text", sms.text), ("charset", "UTF-8"), ("coding", sms.encoding == .ucs2 ? "2" : "0"),
            ]
            if let sender = settings.sender { fields.append(("from", sender)) }
            if let smsc = settings.smsc { fields.append(("smsc", smsc)) }
            if let callbacks {
                // Kannel fills in %d (report type), %A (SMSC answer), %T (time), %I (its message id).
                let url =
                    callbacks.url(provider: "kannel", jobID: sms.jobID, attempt: sms.attempt)
                    + "&type=%d&answer=%A&at=%T&kannel_id=%I"
                fields.append(("dlr-mask", String(settings.dlrMask)))
                fields.append(("dlr-url", url))
            }
            let separator = settings.url.contains("?") ? "&" : "?"
            return HTTPRequest(url: settings.url + separator + FormEncoding.encode(fields))
        } interpret: { result in
            // 202 "0: Accepted for delivery" or "3: Queued for later delivery".
            if case .response(let status, let body) = result, (200...299).contains(status) {
                return .accepted(ProviderResponse(code: status, text: HTTPClassification.summarize(body)))
            }
            return HTTPClassification.failure(result, what: "kannel \(GatewayURL.display(settings.url))")
        }
    }
}

// MARK: Twilio-compatible

/// A Twilio-compatible Messages API: form POST to
/// `<url>/2010-04-01/Accounts/<sid>/Messages.json` with basic authentication.
public struct TwilioSettings: Sendable {
    /// `https://api.twilio.com`, or a compatible provider's base URL.
    public var url: String
    public var accountSID: String
    public var authToken: String
    /// `From`: a number or alphanumeric sender id; or a messaging service instead.
    public var from: String?
    public var messagingServiceSID: String?

    public init(url: String, accountSID: String, authToken: String, from: String?, messagingServiceSID: String?) {
        self.url = url
        self.accountSID = accountSID
        self.authToken = authToken
        self.from = from
        self.messagingServiceSID = messagingServiceSID
    }
}

public struct TwilioTransport: SMSTransport {
    public let settings: TwilioSettings
    public let http: HTTPSettings
    public let callbacks: CallbackSettings?

    public init(settings: TwilioSettings, http: HTTPSettings, callbacks: CallbackSettings?) {
        self.settings = settings
        self.http = http
        self.callbacks = callbacks
    }

    var endpoint: String {
        var base = settings.url
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/2010-04-01/Accounts/\(FormEncoding.escape(settings.accountSID))/Messages.json"
    }

    public var summary: String {
        "twilio \(GatewayURL.display(settings.url)) account=\(settings.accountSID)"
            + (callbacks == nil ? " (no delivery reports)" : "")
    }

    /// Reads the account resource with the credentials: 2xx when they are taken.
    public func probe() async -> Result<String, DispatchFailure> {
        let client = HTTPClient(settings: http)
        defer { Task { await client.close() } }
        var base = settings.url
        while base.hasSuffix("/") { base.removeLast() }
        let url = "\(base)/2010-04-01/Accounts/\(FormEncoding.escape(settings.accountSID)).json"
        let result = await client.perform(
            HTTPRequest(url: url, username: settings.accountSID, password: settings.authToken))
        if case .response(let status, let body) = result, !(200...299).contains(status) {
            return .failure(
                DispatchFailure(
                    reason: .gateway,
                    message: "twilio \(GatewayURL.display(settings.url)) answered \(status): "
                        + HTTPClassification.summarize(body), code: status))
        }
        return GatewayProbe.judge(result, what: "twilio \(GatewayURL.display(settings.url))", refusing: [])
    }

    public func makeSession() throws -> any SMSSession {
        HTTPSMSSession(client: HTTPClient(settings: http)) { sms in
            var fields: [(String, String)] = [("To", sms.to), ("Body", sms.text)]
            if let service = settings.messagingServiceSID {
                fields.append(("MessagingServiceSid", service))
            } else if let from = settings.from {
                fields.append(("From", from))
            }
            if let callbacks {
                fields.append(
                    ("StatusCallback", callbacks.url(provider: "twilio", jobID: sms.jobID, attempt: sms.attempt)))
            }
            return HTTPRequest(
                method: "POST", url: endpoint,
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                body: Array(FormEncoding.encode(fields).utf8), username: settings.accountSID,
                password: settings.authToken)
        } interpret: { result in
            let what = "twilio \(GatewayURL.display(settings.url))"
            guard case .response(let status, let body) = result else {
                return HTTPClassification.failure(result, what: what)
            }
            let json = (try? JSONValue.parse(body))?.objectValue ?? [:]
            if (200...299).contains(status) {
                guard case .string(let sid) = json["sid"] else {
                    // A 2xx is the gateway's acceptance: the message left, even if the
                    // answer lacks the id that delivery reports would quote.
                    return .accepted(
                        ProviderResponse(
                            code: status,
                            text: "\(status) without a message sid: " + HTTPClassification.summarize(body)))
                }
                var detail: [String: JSONValue] = [:]
                if let state = json["status"] { detail["status"] = state }
                return .accepted(
                    ProviderResponse(code: status, text: "\(status) \(sid)", providerRef: sid, detail: detail))
            }
            // Twilio errors: {"code": 21211, "message": "The 'To' number … is not a valid phone number.", …}
            if case .string(let message) = json["message"] {
                let code = json["code"].map { "(\($0.jsonText)) " } ?? ""
                let failure = DispatchFailure(
                    reason: .gateway, message: "\(what) answered \(status): \(code)\(message)", code: status)
                return HTTPClassification.isTransient(status: status) ? .transient(failure) : .permanent(failure)
            }
            return HTTPClassification.failure(result, what: what)
        }
    }
}

// MARK: generic JSON webhook

/// Any HTTP endpoint taking a JSON object. Field names come from configuration.
public struct WebhookSettings: Sendable {
    public var url: String
    /// Extra headers, e.g. `Authorization: Bearer …` (read from a secret file).
    public var headers: [(String, String)]
    /// JSON field names for each value; a nil name leaves the value out.
    public var toField: String
    public var textField: String
    public var senderField: String?
    public var sender: String?
    public var referenceField: String?
    public var callbackField: String?
    public var encodingField: String?
    /// Fixed fields added to every body (strings).
    public var extra: [String: String]
    /// Where the provider's message id is in its JSON answer, e.g. `id` or `data.id`.
    public var idField: String?

    public init(
        url: String, headers: [(String, String)] = [], toField: String = "to", textField: String = "text",
        senderField: String? = "from", sender: String? = nil, referenceField: String? = "reference",
        callbackField: String? = "callback_url", encodingField: String? = nil, extra: [String: String] = [:],
        idField: String? = "id"
    ) {
        self.url = url
        self.headers = headers
        self.toField = toField
        self.textField = textField
        self.senderField = senderField
        self.sender = sender
        self.referenceField = referenceField
        self.callbackField = callbackField
        self.encodingField = encodingField
        self.extra = extra
        self.idField = idField
    }
}

public struct WebhookTransport: SMSTransport {
    public let settings: WebhookSettings
    public let http: HTTPSettings
    public let callbacks: CallbackSettings?

    public init(settings: WebhookSettings, http: HTTPSettings, callbacks: CallbackSettings?) {
        self.settings = settings
        self.http = http
        self.callbacks = callbacks
    }

    public var summary: String {
        "webhook \(GatewayURL.display(settings.url))" + (callbacks == nil ? " (no delivery reports)" : "")
    }

    /// A GET with the configured headers: any HTTP answer but 401/403 means reachable.
    public func probe() async -> Result<String, DispatchFailure> {
        let client = HTTPClient(settings: http)
        defer { Task { await client.close() } }
        return GatewayProbe.judge(
            await client.perform(HTTPRequest(url: settings.url, headers: settings.headers)),
            what: "webhook \(GatewayURL.display(settings.url))", refusing: [401, 403])
    }

    /// The JSON body for `sms`.
    public func body(_ sms: OutgoingSMS) -> JSONValue {
        var object: [String: JSONValue] = settings.extra.mapValues { .string($0) }
        object[settings.toField] = .string(sms.to)
        object[settings.textField] = .string(sms.text)
        if let field = settings.senderField, let sender = settings.sender { object[field] = .string(sender) }
        if let field = settings.referenceField { object[field] = .string("relance-\(sms.jobID)-\(sms.attempt)") }
        if let field = settings.encodingField { object[field] = .string(sms.encoding.rawValue) }
        if let field = settings.callbackField, let callbacks {
            object[field] = .string(callbacks.url(provider: "webhook", jobID: sms.jobID, attempt: sms.attempt))
        }
        return .object(object)
    }

    public func makeSession() throws -> any SMSSession {
        HTTPSMSSession(client: HTTPClient(settings: http)) { sms in
            HTTPRequest(
                method: "POST", url: settings.url,
                headers: [("Content-Type", "application/json")] + settings.headers,
                body: Array(body(sms).jsonText.utf8))
        } interpret: { result in
            let what = "webhook \(GatewayURL.display(settings.url))"
            guard case .response(let status, let text) = result, (200...299).contains(status) else {
                return HTTPClassification.failure(result, what: what)
            }
            let ref = HTTPClassification.reference(in: text, at: settings.idField)
            return .accepted(
                ProviderResponse(
                    code: status, text: "\(status) " + HTTPClassification.summarize(text), providerRef: ref))
        }
    }
}

// MARK: shared

/// A session that turns an SMS into one HTTP request and its answer into an outcome.
final class HTTPSMSSession: SMSSession {
    let client: HTTPClient
    let request: @Sendable (OutgoingSMS) -> HTTPRequest
    let interpret: @Sendable (HTTPResult) -> DispatchOutcome

    init(
        client: HTTPClient, request: @escaping @Sendable (OutgoingSMS) -> HTTPRequest,
        interpret: @escaping @Sendable (HTTPResult) -> DispatchOutcome
    ) {
        self.client = client
        self.request = request
        self.interpret = interpret
    }

    func send(_ sms: OutgoingSMS, fence: DispatchFence) async -> DispatchOutcome {
        interpret(await client.perform(fence: fence, request(sms)))
    }

    func close() async { await client.close() }
}

enum GatewayProbe {
    static func judge(_ result: HTTPResult, what: String, refusing: Set<Int>) -> Result<String, DispatchFailure> {
        switch result {
        case .failure(let message), .unanswered(let message):
            return .failure(DispatchFailure(reason: .network, message: "\(what): \(message)"))
        case .fenced:
            return .failure(DispatchFailure(reason: .network, message: "\(what): not asked (no time left)"))
        case .response(let status, let body) where refusing.contains(status):
            return .failure(
                DispatchFailure(
                    reason: .gateway,
                    message: "\(what) refused the credentials (\(status): \(HTTPClassification.summarize(body)))",
                    code: status))
        case .response(let status, let body):
            return .success("\(what) answers (\(status): \(HTTPClassification.summarize(body, limit: 80)))")
        }
    }
}

// MARK: outbox

/// Writes each SMS as a JSON file into a folder instead of sending it (the default).
public struct SMSOutboxTransport: SMSTransport, SMSSession {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileErrors.createDirectory(directory)
    }

    public var summary: String { "outbox \(directory)" }
    public func makeSession() throws -> any SMSSession { self }

    public func probe() async -> Result<String, DispatchFailure> {
        FileManager.default.isWritableFile(atPath: directory)
            ? .success("outbox \(directory) is writable")
            : .failure(DispatchFailure(reason: .outbox, message: "outbox \(directory) is not writable"))
    }
    public func close() async {}

    public func send(_ sms: OutgoingSMS, fence: DispatchFence) async -> DispatchOutcome {
        let document = JSONValue.object([
            "to": .string(sms.to), "text": .string(sms.text), "encoding": .string(sms.encoding.rawValue),
            "segments": .number(String(sms.segments)), "job_id": .number(String(sms.jobID)),
            "attempt": .number(String(sms.attempt)),
        ])
        return await OutboxFile.write(
            Array((document.jsonText + "\n").utf8), directory: directory,
            name: "job-\(sms.jobID)-\(sms.attempt).sms.json", fence: fence)
    }
}
