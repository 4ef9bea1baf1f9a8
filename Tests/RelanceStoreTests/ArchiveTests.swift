import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("Store: the message archive")
struct ArchiveTests {
    @Test("what is archived comes back byte for byte, compressed or not, under its SHA-256")
    func roundTrip() async throws {
        let fx = try await StoreFixture()
        let text = Array(String(repeating: "Madame, Monsieur, sauf erreur de notre part… ", count: 200).utf8)
        var noise = SystemRandomNumberGenerator()
        let random = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &noise) }
        for message in [
            ArchivedMessage(mediaType: ArchivedMessage.email, bytes: text),
            ArchivedMessage(mediaType: ArchivedMessage.letter, bytes: random),
            ArchivedMessage(mediaType: ArchivedMessage.sms, bytes: Array("Rappel: 12,00 €".utf8)),
            ArchivedMessage(mediaType: ArchivedMessage.sms, bytes: []),
        ] {
            try await fx.store.archive(message)
            try await fx.store.archive(message)  // twice: the same row
            #expect(try await fx.store.archived(sha256: message.sha256) == message)
        }
        #expect(ArchiveCodec.encode(text).compression == "deflate")
        #expect(ArchiveCodec.encode(random).compression == "none", "kept as is when deflate saves nothing")
        #expect(try await fx.store.archived(sha256: String(repeating: "0", count: 64)) == nil)
        #expect(try await fx.store.archived(sha256: "not a key'; DROP TABLE jobs; --") == nil)
    }

    @Test("bytes altered in the database are refused, not served")
    func corruption() throws {
        let bytes = Array("the message".utf8)
        let key = SHA256.hex(bytes)
        #expect(throws: ArchiveError.corrupted(sha256: key, found: SHA256.hex(Array("the massage".utf8)))) {
            try ArchiveCodec.decode(compression: "none", content: Array("the massage".utf8), size: 11, sha256: key)
        }
        #expect(throws: ArchiveError.self) {
            try ArchiveCodec.decode(compression: "deflate", content: [1, 2, 3], size: 11, sha256: key)
        }
        #expect(throws: ArchiveError.self) {
            try ArchiveCodec.decode(compression: "lzma", content: bytes, size: 11, sha256: key)
        }
    }

    @Test("a job's attempt finds its bytes through the hash its trace recorded")
    func sentContent() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w")
        #expect(try await fx.store.sentContent(jobID: job.id) == .notSent)
        let message = ArchivedMessage(mediaType: ArchivedMessage.email, bytes: Array("From: a\r\n\r\nbody".utf8))
        try await fx.store.archive(message)
        _ = try await fx.store.beginDispatch(
            job, owner: "w", leaseSeconds: 60, rendered: ["content_sha256": .string(message.sha256)])
        #expect(try await fx.store.sentContent(jobID: job.id) == .found(attempt: job.attempt, message: message))
        #expect(try await fx.store.sentContent(jobID: job.id, attempt: job.attempt + 1) == .notSent)
        // A job sent before the archive existed: its trace has no content_sha256.
        let old = try await fx.claimedJob(owner: "w")
        _ = try await fx.store.beginDispatch(old, owner: "w", leaseSeconds: 60, rendered: ["sha256": "abc"])
        #expect(try await fx.store.sentContent(jobID: old.id) == .notArchived(attempt: old.attempt, sha256: nil))
    }

    @Test("pruning removes what is older than the retention only")
    func prune() async throws {
        let fx = try await StoreFixture()
        let message = ArchivedMessage(mediaType: ArchivedMessage.sms, bytes: Array("kept".utf8))
        try await fx.store.archive(message)
        #expect(try await fx.store.pruneArchive(retention: 3600, batch: 100) == 0)
        #expect(try await fx.store.archived(sha256: message.sha256) != nil)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.pruneArchive(retention: 0.001, batch: 100) == 1)
        #expect(try await fx.store.archived(sha256: message.sha256) == nil)
    }
}
