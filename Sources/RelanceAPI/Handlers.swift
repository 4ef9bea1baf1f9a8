import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RelanceCore
import RelanceDunning
import RelanceStore

/// The route handlers. Each one authenticates, validates, calls the store, answers JSON.
struct Handlers: Sendable {
    let settings: APISettings
    let environment: APIEnvironment

    /// The enqueue checks with the templates and settings in force now.
    func enqueuer() -> Enqueuer {
        Enqueuer(store: environment.store, composer: environment.composer(), maxAge: environment.maxAge)
    }
    let logger: Logger

    // MARK: plumbing

    func authorize(_ request: Request, _ scope: APIScope) throws {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("missing bearer token")
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        let token = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        guard let identity = environment.tokens.authenticate(token) else {
            throw APIError.unauthorized("unknown token")
        }
        guard identity.scopes.contains(scope) || identity.scopes.contains(.admin) else {
            throw APIError.forbidden("token '\(identity.name)' lacks the '\(scope.rawValue)' scope")
        }
    }

    /// Reads and parses a JSON body within the size limit.
    func readJSON(_ request: Request) async throws -> JSONValue {
        if let type = request.headers[.contentType] {
            let mediaType =
                type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                throw APIError.unsupportedMediaType(type)
            }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maxBodyBytes {
            throw APIError.payloadTooLarge(settings.maxBodyBytes)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: settings.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(settings.maxBodyBytes)
        }
        guard buffer.readableBytes > 0 else { throw APIError.malformedJSON("the request has no body") }
        do {
            return try JSONValue.parse(data: Data(buffer.readableBytesView))
        } catch let error as JSONParseError {
            throw APIError.malformedJSON(error.description)
        }
    }

    func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        JSONResponse.make(status: status, value)
    }

    // MARK: jobs

    func enqueue(_ request: Request) async throws -> Response {
        try authorize(request, .enqueue)
        let body = try await readJSON(request)
        var items: [(pointer: String, value: JSONValue)]
        let isBatch: Bool
        switch body {
        case .array(let values):
            guard !values.isEmpty, values.count <= settings.maxBatch else {
                throw APIError.validation([FieldError("", "a batch holds 1 to \(settings.maxBatch) jobs")])
            }
            items = values.enumerated().map { ("/\($0.offset)", $0.element) }
            isBatch = true
        case .object:
            items = [("", body)]
            isBatch = false
        default:
            throw APIError.validation([FieldError("", "expected a job object or an array of job objects")])
        }
        if !isBatch, let field = request.headers[fields: .init("Idempotency-Key")!].first {
            // Its bytes, strictly: two different keys must never read as the same text.
            // (The HTTP layer may already have replaced bytes that are not UTF-8 with U+FFFD,
            // which no real key holds.)
            guard let header = field.withUnsafeBytesOfValue({ TextRules.strictUTF8($0) }),
                !header.unicodeScalars.contains("\u{FFFD}")
            else {
                throw APIError.validation([FieldError("/idempotency_key", "the Idempotency-Key header is not UTF-8")])
            }
            if let problem = TextRules.referenceProblem(header) {
                throw APIError.validation([FieldError("/idempotency_key", "the Idempotency-Key header \(problem)")])
            }
            if case .object(var fields) = items[0].value {
                if let given = fields["idempotency_key"], given != .string(header) {
                    throw APIError.validation([
                        FieldError("/idempotency_key", "differs from the Idempotency-Key header ('\(header)')")
                    ])
                }
                fields["idempotency_key"] = .string(header)
                items[0].value = .object(fields)
            }
        }
        // One set of templates and settings for the whole request, though SIGHUP may reload them.
        let enqueuer = enqueuer()
        var requests: [(pointer: String, request: EnqueueRequest)] = []
        var errors: [FieldError] = []
        for (pointer, value) in items {
            switch EnqueueRequest.parse(value, pointer: pointer, defaultCountry: enqueuer.composer.sms.defaultCountry) {
            case .success(let r): requests.append((pointer, r))
            case .failure(let e): errors += e.errors
            }
        }
        if !errors.isEmpty {
            // Report the checks of the well-formed items too: one answer, every bad field.
            errors += try await enqueuer.validate(requests)
            throw APIError.validation(errors.sorted { $0.pointer < $1.pointer })
        }
        let results: [EnqueueResult]
        do {
            results = try await enqueuer.enqueue(requests)
        } catch let error as InvalidFields {
            throw APIError.validation(error.errors)
        }
        let created = zip(requests, results).filter { $0.1.created }.map(\.0.request.job)
        if !created.isEmpty {
            let now = Timestamp.string(from: Date())
            // Waking the workers costs each a claim: only for work that is due now.
            let due = created.contains { $0.runAt.map { $0 <= now } ?? true }
            environment.onEnqueued(created.map(\.channel.rawValue), due)
        }
        let anyCreated = !created.isEmpty
        let answers = results.map { result -> JSONValue in
            [
                "id": .number(String(result.id)), "state": .string(result.state.rawValue),
                "created": .bool(result.created),
            ]
        }
        if isBatch { return json(anyCreated ? .created : .ok, ["jobs": .array(answers)]) }
        return json(anyCreated ? .created : .ok, answers[0])
    }

    func job(_ request: Request, id text: String) async throws -> Response {
        try authorize(request, .read)
        guard let id = Int64(text), id > 0, let job = try await environment.store.job(id: id) else {
            throw APIError.notFound("job \(text) does not exist")
        }
        var object = job.jsonValue.objectValue ?? [:]
        object["trace"] = .array(try await environment.store.events(jobID: id).map(\.jsonValue))
        return json(.ok, .object(object))
    }

    /// The exact bytes the job's attempt sent, from the archive, checked against the hash
    /// its trace recorded (docs/API.md).
    func content(_ request: Request, id text: String) async throws -> Response {
        try authorize(request, .read)
        guard let id = Int64(text), id > 0, try await environment.store.job(id: id) != nil else {
            throw APIError.notFound("job \(text) does not exist")
        }
        var attempt: Int?
        if let given = request.uri.queryParameters.get("attempt") {
            guard let n = Int(given), n >= 1 else {
                throw APIError.validation([FieldError("/attempt", "must be an attempt number (1 or more)")])
            }
            attempt = n
        }
        let found: SentContent
        do { found = try await environment.store.sentContent(jobID: id, attempt: attempt) } catch let error
            as ArchiveError
        {
            logger.error("archived message unusable", metadata: ["job": "\(id)", "error": "\(error)"])
            throw APIError(status: .internalServerError, code: "archive_corrupted", message: error.description)
        }
        guard case .found(let sent, let message) = found else { throw APIError.notFound(found.explanation(jobID: id)) }
        var headers = HTTPFields()
        headers[.contentType] = message.mediaType
        headers[HTTPField.Name("X-Content-SHA256")!] = message.sha256
        headers[HTTPField.Name("X-Relance-Attempt")!] = String(sent)
        headers[.contentDisposition] =
            "attachment; filename=\"job-\(id)-\(sent).\(message.mediaType == ArchivedMessage.letter ? "pdf" : message.mediaType == ArchivedMessage.email ? "eml" : "txt")\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: message.bytes)))
    }

    func listJobs(_ request: Request) async throws -> Response {
        try authorize(request, .read)
        let query = request.uri.queryParameters
        var errors: [FieldError] = []
        var filter = JobFilter(limit: 50)
        if let state = query.get("state") {
            if let s = JobState(rawValue: state) {
                filter.state = s
            } else {
                errors.append(
                    FieldError(
                        "/state",
                        "unknown state '\(state)' (\(JobState.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
        }
        if let limit = query.get("limit") {
            if let n = Int(limit), (1...500).contains(n) {
                filter.limit = n
            } else {
                errors.append(FieldError("/limit", "must be a whole number from 1 to 500"))
            }
        }
        if let cursor = query.get("cursor") {
            // 1 to 18 digits, as openapi.yaml says: every job id fits, and no spelling of one
            // (leading zeros past 18 digits) is taken that the document refuses.
            if (1...18).contains(cursor.utf8.count), cursor.utf8.allSatisfy({ (48...57).contains($0) }),
                let after = Int64(cursor)
            {
                filter.afterID = after
            } else {
                errors.append(FieldError("/cursor", "not a cursor returned by this API"))
            }
        }
        filter.caseRef = query.get("case_ref")
        filter.payerRef = query.get("payer_ref")
        // No reference holds a control character: `case_ref=%00` is a mistake, not a filter
        // (it matched the jobs without a case).
        for (name, value) in [("case_ref", filter.caseRef), ("payer_ref", filter.payerRef)] {
            if let value, TextRules.hasControl(value) {
                errors.append(
                    FieldError("/\(name)", "must not contain a NUL, line break, tab or other control character"))
            }
        }
        if !errors.isEmpty { throw APIError.validation(errors) }
        // One more than asked tells whether a next page exists.
        var probe = filter
        probe.limit = filter.limit + 1
        let jobs = try await environment.store.jobs(probe)
        let page = Array(jobs.prefix(filter.limit))
        let next: JSONValue = jobs.count > filter.limit ? .string(String(page.last!.id)) : .null
        return json(.ok, ["jobs": .array(page.map(\.jsonValue)), "next_cursor": next])
    }

    // MARK: payers

    func putPayer(_ request: Request, ref: String) async throws -> Response {
        try authorize(request, .enqueue)
        guard case .object(var fields) = try await readJSON(request) else {
            throw APIError.validation([FieldError("", "expected a payer object")])
        }
        if let given = fields["ref"], given != .string(ref) {
            throw APIError.validation([FieldError("/ref", "differs from the path ('\(ref)')")])
        }
        fields["ref"] = .string(ref)
        let enqueuer = enqueuer()
        switch EnqueueRequest.parsePayer(
            .object(fields), pointer: "", defaultCountry: enqueuer.composer.sms.defaultCountry)
        {
        case .failure(let errors): throw APIError.validation(errors.errors)
        case .success(let payer):
            let refused = enqueuer.payerErrors(payer)
            if !refused.isEmpty { throw APIError.validation(refused) }
            let created = try await environment.store.upsertPayer(payer)
            let stored = try await environment.store.payer(ref: ref) ?? payer
            return json(created ? .created : .ok, stored.jsonValue)
        }
    }

    func getPayer(_ request: Request, ref: String) async throws -> Response {
        try authorize(request, .read)
        guard let payer = try await environment.store.payer(ref: ref) else {
            throw APIError.notFound("payer \(ref) does not exist")
        }
        return json(.ok, payer.jsonValue)
    }

    // MARK: cases

    func cancel(_ request: Request, caseRef: String) async throws -> Response {
        try authorize(request, .enqueue)
        guard case .object(let fields) = try await readJSON(request) else {
            throw APIError.validation([FieldError("", "expected {\"reason\": \"paid\"|\"dispute\"|\"manual\"}")])
        }
        var errors: [FieldError] = []
        for key in fields.keys where key != "reason" { errors.append(FieldError("/\(key)", "unknown field")) }
        guard let name = fields["reason"]?.stringValue, let reason = CancelReason(operatorChoice: name) else {
            throw APIError.validation(errors + [FieldError("/reason", "must be one of paid, dispute, manual")])
        }
        if !errors.isEmpty { throw APIError.validation(errors) }
        let result = try await environment.store.cancelCase(caseRef, reason: reason)
        return json(
            .ok,
            [
                "case_ref": .string(caseRef), "reason": .string(reason.stored),
                "cancelled": .number(String(result.cancelled)),
                "in_flight": .number(String(result.inFlight)),
            ])
    }

    // MARK: operations

    func health(_ request: Request) async throws -> Response {
        if !settings.openHealth { try authorize(request, .read) }
        return json(.ok, ["status": "ok"])
    }

    func ready(_ request: Request) async throws -> Response {
        if !settings.openHealth { try authorize(request, .read) }
        let checks = await environment.readiness()
        var object: [String: JSONValue] = [:]
        for (name, problem) in checks { object[name] = .string(problem ?? "ok") }
        let ready = checks.values.allSatisfy { $0 == nil }
        return json(
            ready ? .ok : .serviceUnavailable,
            ["status": .string(ready ? "ready" : "unavailable"), "checks": .object(object)])
    }

    func metrics(_ request: Request) async throws -> Response {
        if !settings.openMetrics { try authorize(request, .read) }
        let text = await environment.metricsText()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func openAPI() -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: environment.openAPIDocument)))
    }
}
