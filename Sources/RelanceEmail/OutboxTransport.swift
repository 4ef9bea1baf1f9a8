import Foundation
import RelanceCore
import RelanceTransport

/// Writes each e-mail as an `.eml` file into a folder instead of sending it.
/// The default when no SMTP server is configured, so that a bare machine works.
public struct OutboxTransport: EmailTransport, EmailSession {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileErrors.createDirectory(directory)
    }

    public var summary: String { "outbox \(directory)" }
    public func makeSession() throws -> any EmailSession { self }
    public func close() async {}

    public func send(_ email: OutgoingEmail, fence: DispatchFence) async -> DispatchOutcome {
        await OutboxFile.write(
            email.bytes, directory: directory, name: "job-\(email.jobID)-\(email.attempt).eml", fence: fence)
    }
}
