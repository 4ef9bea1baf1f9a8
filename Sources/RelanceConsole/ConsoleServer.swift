import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RelanceCore
import RelanceDunning
import RelanceStore

public struct ConsoleSettings: Sendable {
    public var host: String
    public var port: Int
    /// `console.users_file`; nil: nobody can sign in.
    public var usersFile: String?
    /// Where logins and actions are appended, one JSON object a line.
    public var auditFile: String
    /// Cookies marked Secure even without `X-Forwarded-Proto: https` (the console behind
    /// a TLS proxy that does not say so).
    public var secureCookies: Bool
    public var sessionIdleSeconds: Double

    public init(
        host: String = "127.0.0.1", port: Int = 8426, usersFile: String? = nil, auditFile: String,
        secureCookies: Bool = false, sessionIdleSeconds: Double = 1800
    ) {
        self.host = host
        self.port = port
        self.usersFile = usersFile
        self.auditFile = auditFile
        self.secureCookies = secureCookies
        self.sessionIdleSeconds = sessionIdleSeconds
    }
}

/// What the console needs from the daemon, as values and closures (like the API's).
public struct ConsoleEnvironment: Sendable {
    public var store: any JobStore
    /// The templates and settings in force now (they change on SIGHUP).
    public var composer: @Sendable () -> MessageComposer
    public var clock: any WallClock
    /// `<templates>/samples/<message>.json` feeds the templates' preview.
    public var templatesDirectory: String
    /// After an action put a job back in the queue: wakes the dispatcher.
    public var onRequeued: @Sendable () -> Void

    public init(
        store: any JobStore, composer: @escaping @Sendable () -> MessageComposer, clock: any WallClock,
        templatesDirectory: String, onRequeued: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.composer = composer
        self.clock = clock
        self.templatesDirectory = templatesDirectory
        self.onRequeued = onRequeued
    }
}

/// The request context: Hummingbird's, with the client's address (login throttle, audit).
public struct ConsoleContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
    var client: String { remoteAddress?.ipAddress ?? "unknown" }
}

public enum ConsoleServer {
    /// The console application: a Service to run in the daemon's service group.
    public static func makeApplication(settings: ConsoleSettings, environment: ConsoleEnvironment, logger: Logger)
        -> some ApplicationProtocol
    {
        let console = Console(settings: settings, environment: environment, logger: logger)
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: ConsoleMiddleware(console: console))
        router.get("/static/console.css") { _, _ in ConsoleAssets.response(ConsoleAssets.css, type: "text/css") }
        router.get("/static/log.js") { _, _ in
            ConsoleAssets.response(ConsoleAssets.liveLogScript, type: "text/javascript")
        }
        router.get("/login") { request, context in try await console.loginPage(request, context) }
        router.post("/login") { request, context in try await console.login(request, context) }
        router.post("/logout") { request, context in try await console.logout(request, context) }
        router.get("/lang") { request, _ in console.switchLanguage(request) }
        router.get("/") { request, context in try await console.overview(request, context) }
        router.get("/payers") { request, context in try await console.payers(request, context) }
        router.get("/payers/:ref") { request, context in
            try await console.payer(request, context, ref: try console.parameter(context, "ref"), printable: false)
        }
        router.get("/payers/:ref/history") { request, context in
            try await console.payer(request, context, ref: try console.parameter(context, "ref"), printable: true)
        }
        router.get("/jobs") { request, context in try await console.jobs(request, context) }
        router.get("/jobs/:id") { request, context in
            try await console.job(request, context, id: console.jobID(context))
        }
        router.get("/jobs/:id/content") { request, context in
            try await console.sentContent(request, context, id: console.jobID(context))
        }
        router.get("/jobs/:id/preview.html") { request, context in
            try await console.previewHTML(request, context, id: console.jobID(context))
        }
        router.get("/jobs/:id/letter.pdf") { request, context in
            try await console.letterPDF(request, context, id: console.jobID(context))
        }
        router.get("/jobs/:id/resolve") { request, context in
            try await console.confirmResolve(request, context, id: console.jobID(context))
        }
        router.post("/jobs/:id/resolve") { request, context in
            try await console.resolve(request, context, id: console.jobID(context))
        }
        router.get("/cases/:ref/export.zip") { request, context in
            try await console.exportCase(request, context, caseRef: try console.parameter(context, "ref"))
        }
        router.get("/cases/:ref/cancel") { request, context in
            try await console.confirmCancel(request, context, caseRef: try console.parameter(context, "ref"))
        }
        router.post("/cases/:ref/cancel") { request, context in
            try await console.cancelCase(request, context, caseRef: try console.parameter(context, "ref"))
        }
        router.get("/invoices/:ref/hold") { request, context in
            try await console.confirmHold(request, context, ref: try console.parameter(context, "ref"), lift: false)
        }
        router.post("/invoices/:ref/hold") { request, context in
            try await console.hold(request, context, ref: try console.parameter(context, "ref"), lift: false)
        }
        router.get("/invoices/:ref/release") { request, context in
            try await console.confirmHold(request, context, ref: try console.parameter(context, "ref"), lift: true)
        }
        router.post("/invoices/:ref/release") { request, context in
            try await console.hold(request, context, ref: try console.parameter(context, "ref"), lift: true)
        }
        router.get("/log") { request, context in try await console.liveLog(request, context) }
        router.get("/log/events") { request, context in try await console.liveEvents(request, context) }
        router.get("/audit") { request, context in try await console.auditPage(request, context) }
        router.get("/templates") { request, context in try await console.templatesPage(request, context) }
        router.get("/templates/preview") { request, context in try await console.templatePreview(request, context) }
        return Application(
            responder: router.buildResponder(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "relance-console"),
            logger: logger)
    }
}

/// Why a request ends before its handler's answer; the middleware turns each into a page.
enum ConsoleStop: Error {
    /// Not signed in: to the login page, then back to `next`.
    case signIn(next: String)
    case forbidden
    case notFound
    /// The form's CSRF token (or the login's) is missing or wrong.
    case csrf
    /// A parameter that cannot be used, said in words.
    case badInput(String)
    case redirect(String)
    /// A limit reached (live logs open): 429.
    case tooMany(String)
}

/// Security headers on every answer; errors turned into pages.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let stop as ConsoleStop {
            response = console.stopPage(stop, request)
        } catch let error as HTTPError where error.status == .notFound {
            response = console.stopPage(.notFound, request)
        } catch let error as any HTTPResponseError {
            response = console.messagePage(request, status: error.status, text: error.status.reasonPhrase)
        } catch let error as ArchiveError {
            console.logger.error("archived message unusable", metadata: ["error": "\(error)"])
            response = console.messagePage(request, status: .internalServerError, text: error.description)
        } catch let error as any DatabaseUnavailable where error.isUnavailable {
            response = console.messagePage(
                request, status: .serviceUnavailable, text: console.language(request).text("unavailable"))
        } catch {
            console.logger.error(
                "console request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = console.messagePage(
                request, status: .internalServerError, text: console.language(request).text("error"))
        }
        ConsoleHeaders.secure(&response.headers, path: request.uri.path)
        return response
    }
}

enum ConsoleHeaders {
    /// The console's policy: only its own scripts and styles, no inline ones, never framed
    /// by another site; the e-mail preview (its own document) is sandboxed and may only be
    /// framed by the console.
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static let previewPolicy =
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

    static func secure(_ headers: inout HTTPFields, path: String) {
        if headers[.contentSecurityPolicy] == nil { headers[.contentSecurityPolicy] = policy }
        headers[.xContentTypeOptions] = "nosniff"
        // Not `no-referrer`: under it Chromium sends `Origin: null` with a form, which the
        // console refuses as foreign.
        headers[.referrerPolicy] = "same-origin"
        if headers[.xFrameOptions] == nil { headers[.xFrameOptions] = "DENY" }
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        if !path.hasPrefix("/static/") { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
