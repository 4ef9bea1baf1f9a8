import Foundation
import Hummingbird
import NIOCore
import RelanceCore
import RelanceDunning
import RelancePayments
import RelanceStore

/// Bank statements and lettrage (docs/PAYMENTS.md): `POST /v1/payments/statements`,
/// `GET /v1/payments/unmatched`, `POST /v1/payments/lines/{id}/dismiss`. All `admin`:
/// statements name payers' accounts.
extension Handlers {
    /// A day's statement of a busy account is a few megabytes: the limit is 16 MiB, or
    /// `api.max_body_bytes` when that is larger.
    var statementLimit: Int { max(settings.maxBodyBytes, 16 << 20) }

    func importStatement(_ request: Request) async throws -> Response {
        try authorize(request, .admin)
        if let type = request.headers[.contentType] {
            let parts = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let mediaType = parts.first ?? ""
            // The document is read as UTF-8: a body declared in another charset is refused, not misread.
            let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }.map {
                $0.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard mediaType == "application/xml" || mediaType == "text/xml", charset == nil || charset == "utf-8"
            else { throw APIError.unsupportedMediaType(type, expected: "application/xml (UTF-8)") }
        }
        let limit = statementLimit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.payloadTooLarge(limit)
        }
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit)
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.validation([FieldError("", "the request has no body: send a camt.053 or camt.054 document")])
        }
        let document: CamtDocument
        do { document = try CamtReader.read(Array(buffer.readableBytesView)) } catch let error as CamtError {
            throw APIError.validation([FieldError("", "\(error)")])
        }
        let report = try await PaymentDesk(store: environment.store, invoices: try desk()).importLines(document.lines)
        guard case .object(var body) = report.json else { return json(.ok, report.json) }
        body["document"] = document.summary
        return json(.ok, .object(body))
    }

    func unmatchedLines(_ request: Request) async throws -> Response {
        try authorize(request, .admin)
        let query = request.uri.queryParameters
        var limit = 100
        if let text = query.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.validation([FieldError("/limit", "'\(text)' is not a number from 1 to 1000")])
            }
            limit = value
        }
        let lines = try await environment.store.bankLines(reviewOnly: true, limit: limit)
        return json(.ok, ["lines": .array(lines.map(\.json))])
    }

    func dismissLine(_ request: Request, id: String) async throws -> Response {
        try authorize(request, .admin)
        var note = ""
        // The body is optional: none at all (no length, no chunks) or an empty one is no note.
        let length = request.headers[.contentLength].flatMap(Int.init)
        if (length ?? 0) > 0 || request.headers[.transferEncoding] != nil {
            guard case .object(let fields) = try await readJSON(request) else {
                throw APIError.validation([FieldError("", "expected an object {\"note\": \"…\"}")])
            }
            if let value = fields["note"], value != .null {
                guard let text = value.stringValue, text.count <= 500, !TextRules.hasControl(text) else {
                    throw APIError.validation([FieldError("/note", "must be one line of text, at most 500 characters")])
                }
                note = text
            }
        }
        guard try await environment.store.dismissLine(id: id, note: note) else {
            throw APIError.notFound("no statement line \(id) waits for review")
        }
        return json(.ok, ["id": .string(id), "status": .string("dismissed")])
    }
}

extension CamtDocument {
    /// What the API answers about the document read.
    public var summary: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "version": .string(version), "message_id": .string(messageID),
            "statements": .array(
                statements.map {
                    .object([
                        "id": .string($0.id), "account": .string($0.account), "entries": .number(String($0.entryCount)),
                    ])
                }),
        ])
    }
}
