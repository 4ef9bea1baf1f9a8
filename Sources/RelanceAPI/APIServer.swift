import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RelanceCore
import RelanceDunning
import RelanceStore

public struct APISettings: Sendable {
    public var host: String
    public var port: Int
    public var openHealth: Bool
    public var openMetrics: Bool
    public var maxBodyBytes: Int
    /// Jobs per POST /v1/jobs batch.
    public var maxBatch: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8425, openHealth: Bool = true, openMetrics: Bool = true,
        maxBodyBytes: Int = 1 << 20, maxBatch: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.openHealth = openHealth
        self.openMetrics = openMetrics
        self.maxBodyBytes = maxBodyBytes
        self.maxBatch = maxBatch
    }
}

/// What the API needs from the daemon, as values and closures so that the API module
/// depends on the store and the domain services, not on the process that runs them.
public struct APIEnvironment: Sendable {
    public var store: any JobStore
    /// The templates, scenarios and settings in force now (they change on SIGHUP).
    public var composer: @Sendable () -> MessageComposer
    /// `retry.max_age`: a job due longer ago than this is refused at enqueue.
    public var maxAge: Double?
    /// What "today" is for a payer (invoices: a payment without a date, the first step).
    public var clock: any WallClock = SystemWallClock()
    public var tokens: APITokens
    public var openAPIDocument: String
    /// Named checks, each nil when fine or the reason it is not.
    public var readiness: @Sendable () async -> [String: String?]
    public var metricsText: @Sendable () async -> String
    /// Called after jobs were enqueued with the channel of each new job, and whether
    /// any of them is due now (then the dispatcher is woken at once).
    public var onEnqueued: @Sendable (_ channels: [String], _ due: Bool) -> Void
    /// Called for every response: method, route template, status.
    public var onResponse: @Sendable (String, String, Int) -> Void
    /// Verifies delivery-report callbacks; nil when they are not configured.
    public var callbackSigner: CallbackSigner?
    /// Twilio-compatible callbacks: the auth token that signs them (`X-Twilio-Signature`)
    /// and the base URL the gateway calls (`sms.callback_base_url`), to rebuild the signed URL.
    public var twilioAuthToken: String?
    public var callbackBaseURL: String?

    public init(
        store: any JobStore, composer: @escaping @Sendable () -> MessageComposer, maxAge: Double?, tokens: APITokens,
        openAPIDocument: String, readiness: @escaping @Sendable () async -> [String: String?],
        metricsText: @escaping @Sendable () async -> String,
        onEnqueued: @escaping @Sendable (_ channels: [String], _ due: Bool) -> Void,
        onResponse: @escaping @Sendable (String, String, Int) -> Void, callbackSigner: CallbackSigner? = nil
    ) {
        self.callbackSigner = callbackSigner
        self.store = store
        self.composer = composer
        self.maxAge = maxAge
        self.tokens = tokens
        self.openAPIDocument = openAPIDocument
        self.readiness = readiness
        self.metricsText = metricsText
        self.onEnqueued = onEnqueued
        self.onResponse = onResponse
    }
}

public enum APIServer {
    /// The API's socket could not be bound (the port in use, or a privileged one): the
    /// error SwiftNIO's bootstrap throws, told by its errno, not by its text.
    public static func isListenFailure(_ error: any Error) -> Bool {
        guard let io = error as? IOError else { return false }
        return [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(io.errnoCode)
    }

    /// The routes and their allowed methods, for 405 answers.
    static let routes: [(pattern: [String], template: String, methods: [HTTPRequest.Method])] = [
        (["v1", "jobs"], "/v1/jobs", [.get, .post]), (["v1", "jobs", "*"], "/v1/jobs/{id}", [.get]),
        (["v1", "jobs", "*", "content"], "/v1/jobs/{id}/content", [.get]),
        (["v1", "payers", "*"], "/v1/payers/{ref}", [.get, .put]),
        (["v1", "cases", "*", "cancel"], "/v1/cases/{case_ref}/cancel", [.post]), (["healthz"], "/healthz", [.get]),
        (["v1", "invoices"], "/v1/invoices", [.post]), (["v1", "invoices", "*"], "/v1/invoices/{number}", [.get]),
        (["v1", "invoices", "*", "payments"], "/v1/invoices/{number}/payments", [.post]),
        (["v1", "invoices", "*", "hold"], "/v1/invoices/{number}/hold", [.post, .delete]),
        (["v1", "reports", "steps"], "/v1/reports/steps", [.get]),
        (["v1", "payments", "statements"], "/v1/payments/statements", [.post]),
        (["v1", "payments", "unmatched"], "/v1/payments/unmatched", [.get]),
        (["v1", "payments", "lines", "*", "dismiss"], "/v1/payments/lines/{line}/dismiss", [.post]),
        (["v1", "callbacks", "*", "*", "*"], "/v1/callbacks/{provider}/{job_id}/{attempt}", [.get, .post]),
        (["readyz"], "/readyz", [.get]), (["metrics"], "/metrics", [.get]), (["openapi.yaml"], "/openapi.yaml", [.get]),
    ]

    /// The HTTP application: a Service to run in the daemon's service group.
    public static func makeApplication(settings: APISettings, environment: APIEnvironment, logger: Logger)
        -> some ApplicationProtocol
    {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIMiddleware(environment: environment, logger: logger))
        let handlers = Handlers(settings: settings, environment: environment, logger: logger)
        router.post("/v1/jobs") { request, _ in try await handlers.enqueue(request) }
        router.get("/v1/jobs") { request, _ in try await handlers.listJobs(request) }
        // Path parameters arrive percent-encoded: "FA%2F2026%2F0142" is the case "FA/2026/0142".
        // Escapes that do not decode to UTF-8 (`LB%C0%AE`), and references a body could
        // not hold (a NUL, a control character, not NFC), are refused, never taken as given.
        @Sendable func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
            let raw = context.parameters.get(name) ?? ""
            guard let decoded = raw.removingPercentEncoding else {
                throw APIError.validation([FieldError("/\(name)", "is not valid UTF-8 once percent-decoded")])
            }
            if name != "id", let problem = TextRules.referenceProblem(decoded) {
                throw APIError.validation([FieldError("/\(name)", problem)])
            }
            return decoded
        }
        router.get("/v1/jobs/:id") { request, context in try await handlers.job(request, id: parameter(context, "id")) }
        router.get("/v1/jobs/:id/content") { request, context in
            try await handlers.content(request, id: parameter(context, "id"))
        }
        router.put("/v1/payers/:ref") { request, context in
            try await handlers.putPayer(request, ref: parameter(context, "ref"))
        }
        router.get("/v1/payers/:ref") { request, context in
            try await handlers.getPayer(request, ref: parameter(context, "ref"))
        }
        router.post("/v1/cases/:case_ref/cancel") { request, context in
            try await handlers.cancel(request, caseRef: parameter(context, "case_ref"))
        }
        router.post("/v1/invoices") { request, _ in try await handlers.openInvoice(request) }
        router.get("/v1/invoices/:number") { request, context in
            try await handlers.getInvoice(request, ref: parameter(context, "number"))
        }
        router.post("/v1/invoices/:number/payments") { request, context in
            try await handlers.recordPayment(request, ref: parameter(context, "number"))
        }
        router.post("/v1/invoices/:number/hold") { request, context in
            try await handlers.hold(request, ref: parameter(context, "number"), lift: false)
        }
        router.delete("/v1/invoices/:number/hold") { request, context in
            try await handlers.hold(request, ref: parameter(context, "number"), lift: true)
        }
        router.get("/v1/reports/steps") { request, _ in try await handlers.stepReport(request) }
        router.post("/v1/payments/statements") { request, _ in try await handlers.importStatement(request) }
        router.get("/v1/payments/unmatched") { request, _ in try await handlers.unmatchedLines(request) }
        router.post("/v1/payments/lines/:line/dismiss") { request, context in
            try await handlers.dismissLine(request, id: parameter(context, "line"))
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/v1/callbacks/:provider/:job/:attempt", method: method) { request, context in
                try await handlers.callback(
                    request, provider: parameter(context, "provider"), job: parameter(context, "job"),
                    attempt: parameter(context, "attempt"))
            }
        }
        router.get("/healthz") { request, _ in try await handlers.health(request) }
        router.get("/readyz") { request, _ in try await handlers.ready(request) }
        router.get("/metrics") { request, _ in try await handlers.metrics(request) }
        router.get("/openapi.yaml") { _, _ in handlers.openAPI() }
        return Application(
            responder: HeadAsGet(inner: router.buildResponder()),
            server: .http1(configuration: .init(additionalChannelHandlers: [ParserErrorBody()])),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "relance"),
            logger: logger)
    }

    /// The allowed methods when the path exists but not for this method.
    static func allowedMethods(path: String) -> [HTTPRequest.Method]? {
        route(path: path)?.methods
    }

    static func route(path: String) -> (template: String, methods: [HTTPRequest.Method])? {
        let components = path.split(separator: "/").map(String.init)
        for route in routes where route.pattern.count == components.count {
            if zip(route.pattern, components).allSatisfy({ $0 == "*" || $0 == $1 }) {
                return (route.template, route.methods)
            }
        }
        return nil
    }
}

/// Turns every error into the JSON error body, answers 405 where a path exists for
/// other methods, and counts responses.
struct APIMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let environment: APIEnvironment
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            if let methods = APIServer.allowedMethods(path: request.uri.path) {
                var answer = try APIError.methodNotAllowed(
                    "\(request.method) is not allowed on \(request.uri.path) (allowed: \(methods.map(\.rawValue).joined(separator: ", ")))"
                ).response(from: request, context: context)
                answer.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
                response = answer
            } else {
                response = try APIError.notFound("no such resource: \(request.uri.path)").response(
                    from: request, context: context)
            }
        } catch let error as any HTTPResponseError {
            // Errors from Hummingbird itself (e.g. a body over its limits): same JSON shape.
            let status = error.status
            let code =
                status == .contentTooLarge ? "payload_too_large" : (status.code < 500 ? "bad_request" : "internal")
            response = try APIError(status: status, code: code, message: status.reasonPhrase).response(
                from: request, context: context)
        } catch let error as any DatabaseUnavailable where error.isUnavailable {
            logger.warning(
                "API call failed: database unavailable", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            var answer = try APIError.unavailable("the database cannot be reached now; try again later").response(
                from: request, context: context)
            answer.headers[.retryAfter] = "5"
            response = answer
        } catch {
            logger.error("API handler failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = try APIError.internalError().response(from: request, context: context)
        }
        let route = context.endpointPath ?? APIServer.route(path: request.uri.path)?.template ?? "unmatched"
        environment.onResponse(request.method.rawValue, route, response.status.code)
        return response
    }
}

/// HEAD is GET without the body (RFC 9110 §9.3.2): rewritten before routing.
struct HeadAsGet<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        guard request.method == .head else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
        // The GET's Content-Length stays (RFC 9110 §8.6): a HEAD tells the size of what a
        // GET would send. An empty `ResponseBody()` would set it to 0.
        response.body = ResponseBody(contentLength: response.body.contentLength) { _ in }
        return response
    }
}
