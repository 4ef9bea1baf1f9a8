import Foundation
import RelanceCore

/// Writes each e-mail as an `.eml` file into a folder instead of sending it.
/// The default when no SMTP server is configured, so that a bare machine works.
public struct OutboxTransport: EmailTransport, EmailSession {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public var summary: String { "outbox \(directory)" }
    public func makeSession() throws -> any EmailSession { self }
    public func close() async {}

    public func send(_ email: OutgoingEmail) async -> DispatchOutcome {
        let name = "job-\(email.jobID)-\(email.attempt).eml"
        let path = directory + "/" + name
        do {
            // Written whole then renamed: a reader never sees half a message.
            try Data(email.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            return .transient(
                DispatchFailure(reason: "outbox", message: "cannot write \(path): \(error.localizedDescription)"))
        }
        return .accepted(
            ProviderResponse(
                text: "written to \(path)", providerRef: name,
                detail: [
                    "path": .string(path), "bytes": .number(String(email.bytes.count)),
                    "sha256": .string(SHA256.hex(email.bytes)),
                ]))
    }
}
