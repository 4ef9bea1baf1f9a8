import Foundation
import Hummingbird
import NIOCore
import RelanceCore
import RelanceStore

/// Delivery-report callbacks from SMS gateways:
/// `GET|POST /v1/callbacks/{provider}/{job}/{attempt}?token=…`. No bearer token (a
/// gateway cannot hold one): the HMAC token in the URL, which only the daemon can
/// compute, authenticates the report for that one attempt of that one job.
extension Handlers {
    func callback(_ request: Request, provider: String, job jobText: String, attempt attemptText: String)
        async throws -> Response
    {
        guard let signer = environment.callbackSigner else {
            throw APIError.notFound("delivery reports are not configured (sms.callback_secret_file)")
        }
        guard DeliveryReportParser.providers.contains(provider) else {
            throw APIError.notFound(
                "no delivery reports from '\(provider)' (\(DeliveryReportParser.providers.joined(separator: ", ")))")
        }
        guard let jobID = Int64(jobText), jobID > 0, let attempt = Int(attemptText), attempt > 0 else {
            throw APIError.notFound("no such job attempt: \(jobText)/\(attemptText)")
        }
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
        let token = fields.removeValue(forKey: "token") ?? ""
        guard signer.verify(token, provider: provider, jobID: jobID, attempt: attempt) else {
            logger.warning(
                "delivery report rejected: bad token",
                metadata: ["provider": "\(provider)", "job": "\(jobID)", "attempt": "\(attempt)"])
            throw APIError.forbidden("the callback token does not match this job attempt")
        }
        var posted: [String: String] = [:]
        if request.method == .post {
            posted = try await callbackBody(request)
            for (name, value) in posted { fields[name] = value }
        }
        if provider == "twilio" {
            try checkTwilioSignature(request, posted: posted, jobID: jobID)
        }
        // The webhook's `reference` (relance-<job>-<attempt>) must name this very attempt.
        if provider == "webhook", let reference = fields["reference"], reference != "relance-\(jobID)-\(attempt)" {
            throw APIError(
                status: .conflict, code: "conflict",
                message: "the report's reference \(reference) is not this job attempt (relance-\(jobID)-\(attempt))")
        }
        switch DeliveryReportParser.parse(provider: provider, fields: fields) {
        case .invalid(let why):
            logger.warning(
                "delivery report rejected: \(why)", metadata: ["provider": "\(provider)", "job": "\(jobID)"])
            throw APIError.validation([FieldError("", why)])
        case .interim(let status):
            logger.info(
                "delivery report (intermediate)",
                metadata: [
                    "provider": "\(provider)", "job": "\(jobID)", "attempt": "\(attempt)", "status": "\(status)",
                ])
            return json(
                .ok, .object(["job_id": .number(String(jobID)), "applied": .bool(false), "status": .string(status)]))
        case .final(let delivered, let status, let providerRef, let detail):
            let outcome = try await environment.store.report(
                DeliveryReport(
                    jobID: jobID, attempt: attempt, delivered: delivered, providerRef: providerRef, detail: detail))
            switch outcome {
            case .applied(let state), .duplicate(let state):
                return json(
                    .ok,
                    .object([
                        "job_id": .number(String(jobID)), "state": .string(state.rawValue),
                        "applied": .bool(outcome == .applied(state)), "status": .string(status),
                    ]))
            case .unknownJob:
                logger.warning(
                    "delivery report for an unknown job", metadata: ["provider": "\(provider)", "job": "\(jobID)"])
                throw APIError.notFound("job \(jobID) does not exist")
            case .rejected(let why):
                logger.warning(
                    "delivery report rejected: \(why)", metadata: ["provider": "\(provider)", "job": "\(jobID)"])
                throw APIError(status: .conflict, code: "conflict", message: why)
            }
        }
    }

    /// Twilio-compatible callbacks also carry `X-Twilio-Signature`, an HMAC-SHA1 keyed with
    /// the auth token over the URL the gateway called and the sorted POST fields: checked
    /// when the Twilio-compatible provider is configured, and refused without it.
    func checkTwilioSignature(_ request: Request, posted: [String: String], jobID: Int64) throws {
        guard let authToken = environment.twilioAuthToken, let base = environment.callbackBaseURL else {
            throw APIError.notFound("Twilio-compatible delivery reports are not configured (sms.twilio)")
        }
        let signature = request.headers[.init("X-Twilio-Signature")!] ?? ""
        let url = base + request.uri.description
        guard !signature.isEmpty else {
            logger.warning("delivery report rejected: no X-Twilio-Signature", metadata: ["job": "\(jobID)"])
            throw APIError.forbidden("the X-Twilio-Signature header is missing")
        }
        guard
            TwilioSignature.verify(
                signature, url: url, fields: posted.map { ($0.key, $0.value) }, authToken: authToken)
        else {
            logger.warning(
                "delivery report rejected: bad X-Twilio-Signature", metadata: ["job": "\(jobID)"])
            throw APIError.forbidden("the X-Twilio-Signature header does not match this request")
        }
    }

    /// A form (`application/x-www-form-urlencoded`) or JSON object body, as strings.
    func callbackBody(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: min(settings.maxBodyBytes, 64 * 1024))
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(min(settings.maxBodyBytes, 64 * 1024))
        }
        guard buffer.readableBytes > 0 else { return [:] }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        if type.hasPrefix("application/json") {
            let value: JSONValue
            do { value = try JSONValue.parse(data: Data(buffer.readableBytesView)) } catch let error as JSONParseError {
                throw APIError.malformedJSON(error.description)
            }
            guard let object = value.objectValue else {
                throw APIError.validation([FieldError("", "a report body must be a JSON object")])
            }
            var fields: [String: String] = [:]
            for (key, value) in object {
                switch value {
                case .string(let s): fields[key] = s
                case .number(let n): fields[key] = n
                case .bool(let b): fields[key] = b ? "true" : "false"
                default: continue
                }
            }
            return fields
        }
        return FormEncoding.decode(Substring(text))
    }
}
