import Foundation
import RelanceCore
import RelanceEmail
import Testing

@Suite("OutboxTransport")
struct OutboxTransportTests {
    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("relance-outbox-\(UUID().uuidString)").path
    }

    static func email(jobID: Int64, attempt: Int, bytes: [UInt8]) throws -> OutgoingEmail {
        OutgoingEmail(
            jobID: jobID, attempt: attempt, envelopeFrom: try EmailAddress("billing@lumen.example"),
            recipients: [try EmailAddress("compta@dupont.example")], bytes: bytes)
    }

    @Test("writes job-<id>-<attempt>.eml with exactly the bytes and reports it as accepted")
    func writes() async throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/nested/outbox"  // created on demand
        let transport = try OutboxTransport(directory: directory)
        #expect(transport.summary == "outbox \(directory)")
        let bytes = Array("Subject: test\r\n\r\nBonjour é\r\n.\r\n".utf8) + [0x00, 0xFF, 0x0D]
        let session = try transport.makeSession()
        let outcome = await session.send(try Self.email(jobID: 42, attempt: 3, bytes: bytes), fence: .unlimited)
        let path = directory + "/job-42-3.eml"
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == bytes)
        #expect(
            outcome
                == .accepted(
                    ProviderResponse(
                        text: "written to \(path)", providerRef: "job-42-3.eml",
                        detail: [
                            "path": .string(path), "bytes": .number(String(bytes.count)),
                            "sha256": .string(SHA256.hex(bytes)),
                        ])))
        await session.close()
    }

    @Test("each attempt gets its own file; the same attempt replaces its file")
    func attempts() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let transport = try OutboxTransport(directory: directory)
        _ = await transport.send(try Self.email(jobID: 7, attempt: 1, bytes: Array("first".utf8)), fence: .unlimited)
        _ = await transport.send(try Self.email(jobID: 7, attempt: 2, bytes: Array("second".utf8)), fence: .unlimited)
        _ = await transport.send(
            try Self.email(jobID: 7, attempt: 2, bytes: Array("second, again".utf8)), fence: .unlimited)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["job-7-1.eml", "job-7-2.eml"])
        #expect(FileManager.default.contents(atPath: directory + "/job-7-2.eml") == Data("second, again".utf8))
    }

    @Test("a directory that cannot be written gives a transient failure, not a crash")
    func unwritable() async throws {
        let directory = Self.temporaryDirectory()
        let transport = try OutboxTransport(directory: directory)
        try FileManager.default.removeItem(atPath: directory)
        let outcome = await transport.send(try Self.email(jobID: 1, attempt: 1, bytes: [1]), fence: .unlimited)
        guard case .transient(let failure) = outcome else {
            Issue.record("expected a transient failure, got \(outcome)")
            return
        }
        #expect(failure.reason == .outbox)
        #expect(failure.message.contains(directory + "/job-1-1.eml"))
    }
}
