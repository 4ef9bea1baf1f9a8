import Foundation
import HTTPTypes
import Hummingbird
import RelanceCore

/// Every error the API returns: a JSON body with a stable `code`, a message, and for
/// validation errors the fields at fault as JSON pointers.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let fields: [FieldError]
    var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, code: String, message: String, fields: [FieldError] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    public static func unauthorized(_ message: String) -> APIError {
        var error = APIError(status: .unauthorized, code: "unauthorized", message: message)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"relance\""
        return error
    }
    public static func forbidden(_ message: String) -> APIError {
        .init(status: .forbidden, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String) -> APIError {
        .init(status: .notFound, code: "not_found", message: message)
    }
    public static func methodNotAllowed(_ message: String) -> APIError {
        .init(status: .methodNotAllowed, code: "method_not_allowed", message: message)
    }
    public static func malformedJSON(_ message: String) -> APIError {
        .init(status: .badRequest, code: "malformed_json", message: message)
    }
    public static func payloadTooLarge(_ limit: Int) -> APIError {
        .init(status: .contentTooLarge, code: "payload_too_large", message: "request body larger than \(limit) bytes")
    }
    public static func unsupportedMediaType(_ type: String, expected: String = "application/json") -> APIError {
        .init(
            status: .unsupportedMediaType, code: "unsupported_media_type",
            message: "expected \(expected), got \(type)")
    }
    public static func validation(_ fields: [FieldError]) -> APIError {
        .init(
            status: .unprocessableContent, code: "validation_failed",
            message: fields.map(\.description).joined(separator: "; "), fields: fields)
    }
    public static func internalError() -> APIError {
        .init(status: .internalServerError, code: "internal", message: "internal error; see the daemon's log")
    }
    public static func unavailable(_ message: String) -> APIError {
        .init(status: .serviceUnavailable, code: "unavailable", message: message)
    }

    var body: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if !fields.isEmpty {
            error["fields"] = .array(fields.map { ["pointer": .string($0.pointer), "message": .string($0.message)] })
        }
        return ["error": .object(error)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status: status, body)
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// JSON responses, always `application/json; charset=utf-8`.
enum JSONResponse {
    static func make(status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(value.jsonText)
        buffer.writeString("\n")
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: buffer))
    }
}
