import Foundation
import RelanceCore
import RelanceTransport

/// A letter ready for the printer: the PDF and what the trace keeps as proof.
public struct OutgoingLetter: Sendable {
    /// What the trace records about paying (the reference, whether a QR code is printed).
    public var paymentProof: [String: JSONValue] = [:]
    public var jobID: Int64
    public var attempt: Int
    public var payerRef: String
    public var caseRef: String?
    /// The address as printed in the envelope window.
    public var address: [String]
    public var envelope: String
    public var pdf: [UInt8]
    public var pages: Int
    public var sha256: String

    public init(
        jobID: Int64, attempt: Int, payerRef: String, caseRef: String?, address: [String], envelope: String,
        pdf: [UInt8], pages: Int, sha256: String
    ) {
        self.jobID = jobID
        self.attempt = attempt
        self.payerRef = payerRef
        self.caseRef = caseRef
        self.address = address
        self.envelope = envelope
        self.pdf = pdf
        self.pages = pages
        self.sha256 = sha256
    }

    var baseName: String { "job-\(jobID)-\(attempt)" }

    /// The JSON manifest that goes with the PDF.
    public var manifest: JSONValue {
        var object: [String: JSONValue] = [
            "job_id": .number(String(jobID)), "attempt": .number(String(attempt)), "payer_ref": .string(payerRef),
            "address": .array(address.map(JSONValue.string)), "envelope": .string(envelope),
            "pages": .number(String(pages)), "bytes": .number(String(pdf.count)), "sha256": .string(sha256),
            "pdf": .string(baseName + ".pdf"),
        ]
        if let caseRef { object["case_ref"] = .string(caseRef) }
        return .object(object)
    }

    /// What every `accepted` event of a letter records.
    var proof: [String: JSONValue] {
        ["sha256": .string(sha256), "pages": .number(String(pages)), "bytes": .number(String(pdf.count))]
    }
}

/// Hands letters to a printer: a spool folder or a print provider's HTTP endpoint.
public protocol LetterTransport: Sendable {
    var summary: String { get }
    /// Hands the letter over; the irrevocable step happens only while `fence` allows it.
    func send(_ letter: OutgoingLetter, fence: DispatchFence) async -> DispatchOutcome
    /// Whether the destination is usable, without sending anything: for `relance doctor`.
    func probe() async -> Result<String, DispatchFailure>
}

/// Writes `job-<id>-<attempt>.pdf`, then its manifest `job-<id>-<attempt>.json`, each
/// whole and synced under a hidden temporary name, then renamed, into a folder a
/// print-and-post pickup reads. The PDF is renamed first and the manifest last, so a
/// manifest always names a complete PDF: a pickup takes letters by their manifest
/// (docs/LETTERS.md), and the manifest's rename is the irrevocable step.
public struct SpoolTransport: LetterTransport {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileErrors.createDirectory(directory)
    }

    public var summary: String { "spool \(directory)" }

    public func send(_ letter: OutgoingLetter, fence: DispatchFence) async -> DispatchOutcome {
        await OutboxFile.offCooperativePool { [directory] in
            let pdfName = letter.baseName + ".pdf"
            let pdf: OutboxFile.Staged
            switch OutboxFile.stage(letter.pdf, directory: directory, name: pdfName) {
            case .success(let staged): pdf = staged
            case .failure(let failure): return .transient(failure)
            }
            if let failure = pdf.commit() { return .transient(failure) }
            let manifest = OutboxFile.writeNow(
                Array((letter.manifest.jsonText + "\n").utf8), directory: directory, name: letter.baseName + ".json",
                fence: fence)
            guard case .accepted(var response) = manifest else {
                // No manifest: the PDF alone is never taken; remove it rather than leave it.
                unlink(pdf.path)
                return manifest
            }
            response.detail = letter.proof.merging(["path": .string(directory + "/" + letter.baseName + ".pdf")]) {
                $1
            }
            return .accepted(response)
        }
    }

    public func probe() async -> Result<String, DispatchFailure> {
        FileManager.default.isWritableFile(atPath: directory)
            ? .success("spool \(directory) is writable")
            : .failure(DispatchFailure(reason: .spool, message: "spool \(directory) is not writable"))
    }
}

/// A print provider's upload endpoint: multipart POST of the PDF (`file`) and the
/// manifest (`manifest`), through the shared libcurl layer.
public struct HTTPUploadSettings: Sendable {
    public var url: String
    public var headers: [(String, String)]
    /// Where the provider's reference is in its JSON answer (`id`, `data.id`).
    public var idField: String?

    public init(url: String, headers: [(String, String)] = [], idField: String? = "id") {
        self.url = url
        self.headers = headers
        self.idField = idField
    }
}

public final class HTTPUploadTransport: LetterTransport {
    let settings: HTTPUploadSettings
    let http: HTTPSettings

    public init(settings: HTTPUploadSettings, http: HTTPSettings) {
        self.settings = settings
        self.http = http
    }

    public var summary: String { "http-upload \(GatewayURL.display(settings.url))" }

    public func send(_ letter: OutgoingLetter, fence: DispatchFence) async -> DispatchOutcome {
        let client = HTTPClient(settings: http)
        defer { Task { await client.close() } }
        let what = "print provider \(GatewayURL.display(settings.url))"
        let result = await client.perform(
            fence: fence,
            HTTPRequest(
                method: "POST", url: settings.url, headers: settings.headers,
                multipart: [
                    MultipartPart(
                        name: "file", data: letter.pdf, filename: letter.baseName + ".pdf",
                        contentType: "application/pdf"),
                    MultipartPart(
                        name: "manifest", data: Array(letter.manifest.jsonText.utf8),
                        filename: letter.baseName + ".json",
                        contentType: "application/json"),
                ]))
        guard case .response(let status, let body) = result, (200...299).contains(status) else {
            return HTTPClassification.failure(result, what: what)
        }
        let ref = HTTPClassification.reference(in: body, at: settings.idField)
        return .accepted(
            ProviderResponse(
                code: status, text: "\(status) " + HTTPClassification.summarize(body), providerRef: ref,
                detail: letter.proof))
    }

    public func probe() async -> Result<String, DispatchFailure> {
        let client = HTTPClient(settings: http)
        defer { Task { await client.close() } }
        switch await client.perform(HTTPRequest(url: settings.url, headers: settings.headers)) {
        case .failure(let message), .unanswered(let message):
            return .failure(DispatchFailure(reason: .network, message: "\(summary): \(message)"))
        case .fenced:
            return .failure(DispatchFailure(reason: .network, message: "\(summary): not asked (no time left)"))
        case .response(let status, _) where [401, 403].contains(status):
            return .failure(
                DispatchFailure(reason: .gateway, message: "\(summary) refused the credentials (\(status))"))
        case .response(let status, _):
            return .success("\(summary) answers (\(status))")
        }
    }
}
