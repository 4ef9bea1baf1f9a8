import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RelanceCore
import RelanceStore
import Synchronization

/// Who is asking, as the gate let them in.
struct Visitor {
    var token: String
    var session: ConsoleSession
    var language: ConsoleLanguage
}

/// What a page needs of its visitor's role.
enum Need {
    /// Any signed-in user (the overview, with what the role may see).
    case signedIn
    /// Payers, jobs, messages, the live log, the audit trail: not the advisor.
    case personalData
    /// Changes: admins only.
    case action
}

/// The console's handlers share this: settings, the daemon's environment, the sessions,
/// the users file and the audit trail.
final class Console: Sendable {
    let settings: ConsoleSettings
    let environment: ConsoleEnvironment
    let logger: Logger
    let sessions: ConsoleSessions
    let users: UsersSource
    let audit: ConsoleAudit
    let overviewSnapshot = OverviewSnapshot()
    let streams = StreamCount()
    let auditThrottle = AuditThrottle()

    static let sessionCookie = "relance_session"
    static let loginCookie = "relance_login"
    static let languageCookie = "relance_lang"

    init(settings: ConsoleSettings, environment: ConsoleEnvironment, logger: Logger) {
        self.settings = settings
        self.environment = environment
        self.logger = logger
        sessions = ConsoleSessions(idleLifetime: settings.sessionIdleSeconds)
        users = UsersSource(path: settings.usersFile, logger: logger)
        audit = ConsoleAudit(path: settings.auditFile, logger: logger)
    }

    var store: any JobStore { environment.store }

    // MARK: the gate

    func language(_ request: Request) -> ConsoleLanguage {
        if let chosen = request.cookies[Self.languageCookie]?.value, let language = ConsoleLanguage(rawValue: chosen) {
            return language
        }
        return ConsoleLanguage.from(acceptLanguage: request.headers[.acceptLanguage])
    }

    /// The signed-in visitor, if the session cookie names a live session whose user is
    /// still in the users file with the same role and password. `renew` false: the
    /// request does not count as activity (the live log's stream).
    func visitor(_ request: Request, renew: Bool = true) -> Visitor? {
        guard let token = request.cookies[Self.sessionCookie]?.value,
            let session = renew ? sessions.session(token) : sessions.peek(token)
        else {
            return nil
        }
        guard let user = users.current().user(named: session.user), user.role == session.role,
            user.hash == session.hash
        else {
            sessions.close(token)
            return nil
        }
        return Visitor(token: token, session: session, language: language(request))
    }

    /// Lets the visitor in if their role allows `need`; otherwise stops the request.
    func gate(_ request: Request, _ need: Need, renew: Bool = true) throws -> Visitor {
        guard let visitor = visitor(request, renew: renew) else {
            let next = request.method == .get ? request.uri.description : "/"
            throw ConsoleStop.signIn(next: next)
        }
        switch need {
        case .signedIn: break
        case .personalData: if !visitor.session.role.readsPersonalData { throw ConsoleStop.forbidden }
        case .action: if !visitor.session.role.mayAct { throw ConsoleStop.forbidden }
        }
        return visitor
    }

    /// A form's fields, after its CSRF token was checked against the session's.
    func form(_ request: Request, _ visitor: Visitor) async throws -> [String: String] {
        let fields = try await formFields(request)
        guard let posted = fields["csrf"], ConsoleSessions.same(posted, visitor.session.csrf) else {
            throw ConsoleStop.csrf
        }
        return fields
    }

    /// An url-encoded body of at most 16 KiB; a field that is not UTF-8 text without
    /// control characters (tabs and line breaks aside) is refused.
    func formFields(_ request: Request) async throws -> [String: String] {
        // A form posted from another site (an old browser without SameSite) is refused.
        if let origin = request.headers[.origin], let host = request.head.authority,
            origin != "http://\(host)" && origin != "https://\(host)"
        {
            throw ConsoleStop.csrf
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw ConsoleStop.badInput("expected a form (application/x-www-form-urlencoded)")
        }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) else {
            throw ConsoleStop.badInput("the form is not UTF-8")
        }
        var fields: [String: String] = [:]
        for (name, value) in FormEncoding.decode(Substring(text)) {
            if let problem = Self.textProblem(value) { throw ConsoleStop.badInput("\(name): \(problem)") }
            fields[name] = value
        }
        return fields
    }

    static func textProblem(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: {
            ($0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t") || $0.value == 0x7F
        }) {
            return "contains a control character"
        }
        if value.unicodeScalars.contains(where: { TextRules.isHidden($0) }) {
            return "contains an invisible or bidirectional control character"
        }
        return nil
    }

    /// The query string's fields, decoded as a browser's form encodes them (`+` is a
    /// space, as in `?q=Boulangerie+Martin`).
    static func queryFields(_ request: Request) -> [String: String] {
        FormEncoding.decode(Substring(request.uri.query ?? ""))
    }

    /// A query parameter, checked like a form field; empty counts as absent.
    func query(_ request: Request, _ name: String, max: Int = 200) throws -> String? {
        guard let value = Self.queryFields(request)[name], !value.isEmpty else { return nil }
        if let problem = Self.textProblem(value) { throw ConsoleStop.badInput("\(name): \(problem)") }
        if value.count > max { throw ConsoleStop.badInput("\(name): longer than \(max) characters") }
        return value
    }

    /// A path parameter, percent-decoded and held to the references' rules.
    func parameter(_ context: ConsoleContext, _ name: String) throws -> String {
        let raw = context.parameters.get(name) ?? ""
        guard let decoded = raw.removingPercentEncoding else {
            throw ConsoleStop.badInput("\(name): not valid UTF-8 once percent-decoded")
        }
        if let problem = TextRules.referenceProblem(decoded) { throw ConsoleStop.badInput("\(name): \(problem)") }
        return decoded
    }

    func jobID(_ context: ConsoleContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw ConsoleStop.notFound }
        return id
    }

    static func escapePath(_ text: String) -> String { FormEncoding.escape(text) }

    // MARK: pages

    func page(
        _ request: Request, _ visitor: Visitor?, title: String, template: String, context: [String: Any],
        status: HTTPResponse.Status = .ok, script: String? = nil, flash: String? = nil
    ) -> Response {
        let language = visitor?.language ?? self.language(request)
        var body = context
        body["t"] = language.phrases
        if let visitor { body["may_act"] = visitor.session.role.mayAct }
        var layout: [String: Any] = [
            "lang": language.rawValue, "title": title, "t": language.phrases, "other_lang": language.other.rawValue,
            "other_lang_name": language.other.name, "back": Self.escapePath(request.uri.description),
            "body": ConsoleViews.render(template, body),
        ]
        if let script { layout["script"] = script }
        if let flash { layout["flash"] = flash }
        if let visitor {
            layout["session"] =
                [
                    "user": visitor.session.user, "role": visitor.session.role.rawValue, "csrf": visitor.session.csrf,
                    "reads": visitor.session.role.readsPersonalData,
                ] as [String: Any]
        }
        return Self.html(ConsoleViews.render("layout", layout), status: status)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    func messagePage(
        _ request: Request, status: HTTPResponse.Status, text: String, kind: String = "error", back: String? = nil
    ) -> Response {
        let visitor = visitor(request)
        var context: [String: Any] = ["text": text, "kind": kind, "aria_role": kind == "error" ? "alert" : "status"]
        if let back { context["back_href"] = back }
        let language = visitor?.language ?? language(request)
        let title = status == .ok ? language.text("done") : language.text("error")
        return page(request, visitor, title: title, template: "message", context: context, status: status)
    }

    func stopPage(_ stop: ConsoleStop, _ request: Request) -> Response {
        let language = language(request)
        switch stop {
        case .signIn(let next): return Self.redirect("/login?next=" + Self.escapePath(next))
        case .redirect(let location): return Self.redirect(location)
        case .tooMany(let why): return messagePage(request, status: .tooManyRequests, text: why)
        case .forbidden: return messagePage(request, status: .forbidden, text: language.text("forbidden"))
        case .notFound: return messagePage(request, status: .notFound, text: language.text("not_found"))
        case .csrf: return messagePage(request, status: .forbidden, text: language.text("csrf_failed"))
        case .badInput(let why):
            return messagePage(request, status: .badRequest, text: language.text("bad_input") + " " + why)
        }
    }

    /// A cookie of the console: HttpOnly, SameSite=Strict, Secure when served over TLS.
    func cookie(_ request: Request, name: String, value: String, maxAge: Int?) -> Cookie {
        let secure = settings.secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        return Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}

/// The users file, read again when it changes (a user added, removed or given another
/// role takes effect at once, without a restart).
final class UsersSource: Sendable {
    let path: String?
    let logger: Logger
    private let cache = Mutex<(stamp: String, users: ConsoleUsers)?>(nil)

    init(path: String?, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    func current() -> ConsoleUsers {
        guard let path else { return ConsoleUsers() }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let stamp =
            "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\((attributes?[.size] as? NSNumber)?.intValue ?? -1)"
        if let cached = cache.withLock({ $0 }), cached.stamp == stamp { return cached.users }
        var users = ConsoleUsers()
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            users = try ConsoleUsers.parse(text, source: path)
        } catch {
            // Nobody signs in with a broken file, rather than some users with a half-read one.
            logger.error("console users file unusable: nobody can sign in", metadata: ["error": "\(error)"])
        }
        cache.withLock { $0 = (stamp, users) }
        return users
    }
}
