import CZlib
import Foundation
import RelanceCore

/// The archive of what exactly was sent (docs/CONSOLE.md, "Evidence"): every message
/// handed to a provider, compressed, keyed by the SHA-256 of its bytes, kept for
/// `archive.retention`. In the database, so that every node reads what any node sent.
public protocol MessageArchive: Sendable {
    /// Keeps the message (again: an archived message's time is renewed).
    func archive(_ message: ArchivedMessage) async throws
    /// The message whose bytes hash to `sha256`, checked against it; nil when none is kept.
    /// Throws `ArchiveError.corrupted` when the stored bytes no longer hash to their key.
    func archived(sha256: String) async throws -> ArchivedMessage?
    /// Deletes messages archived more than `retention` seconds ago, at most `batch` at a
    /// time; returns how many.
    func pruneArchive(retention: Double, batch: Int) async throws -> Int
}

public enum ArchiveError: Error, Sendable, CustomStringConvertible, Equatable {
    case corrupted(sha256: String, found: String)
    case unreadable(sha256: String, why: String)

    public var description: String {
        switch self {
        case .corrupted(let key, let found):
            "archived message \(key) is corrupted: its stored bytes hash to \(found)"
        case .unreadable(let key, let why): "archived message \(key) cannot be read: \(why)"
        }
    }
}

/// zlib's deflate for the stored bytes; the row says which was used.
public enum ArchiveCodec {
    /// What to store: deflated when that saves space, else the bytes as they are. Level 1
    /// (zlib's fastest): at level 6 deflate took 11 % of the e-mail benchmark's CPU, for
    /// a few hundred bytes saved per message (docs/PERFORMANCE.md).
    public static func encode(_ bytes: [UInt8]) -> (compression: String, content: [UInt8]) {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &length, source.baseAddress, uLong(source.count), Z_BEST_SPEED)
            }
        }
        guard status == Z_OK, Int(length) < bytes.count else { return ("none", bytes) }
        return ("deflate", Array(out.prefix(Int(length))))
    }

    /// The bytes back, `size` long, checked against `sha256`.
    public static func decode(compression: String, content: [UInt8], size: Int, sha256: String) throws -> [UInt8] {
        var bytes = content
        switch compression {
        case "none": break
        case "deflate":
            guard size >= 0, size <= 1 << 30 else { throw ArchiveError.unreadable(sha256: sha256, why: "size \(size)") }
            var length = uLong(size)
            bytes = [UInt8](repeating: 0, count: max(size, 1))
            let status = bytes.withUnsafeMutableBufferPointer { target in
                content.withUnsafeBufferPointer { source in
                    uncompress(target.baseAddress, &length, source.baseAddress, uLong(source.count))
                }
            }
            guard status == Z_OK, Int(length) == size else {
                throw ArchiveError.unreadable(sha256: sha256, why: "zlib status \(status)")
            }
            bytes = Array(bytes.prefix(size))
        default: throw ArchiveError.unreadable(sha256: sha256, why: "unknown compression '\(compression)'")
        }
        let found = SHA256.hex(bytes)
        guard found == sha256 else { throw ArchiveError.corrupted(sha256: sha256, found: found) }
        return bytes
    }
}

/// What the archive holds for one attempt of a job.
public enum SentContent: Sendable, Equatable {
    case found(attempt: Int, message: ArchivedMessage)
    /// No attempt of the job began dispatching (or not that attempt).
    case notSent
    /// The attempt began before the archive existed, or its bytes were pruned.
    case notArchived(attempt: Int, sha256: String?)

    /// In words, for a CLI or an error body.
    public func explanation(jobID: Int64) -> String {
        switch self {
        case .found(let attempt, let message):
            "job \(jobID) attempt \(attempt): \(message.mediaType), sha256 \(message.sha256)"
        case .notSent: "job \(jobID) was never handed to a provider (no attempt began dispatching)"
        case .notArchived(let attempt, nil):
            "job \(jobID) attempt \(attempt) was sent before this version kept the messages' bytes: only its trace is left"
        case .notArchived(let attempt, let sha?):
            "job \(jobID) attempt \(attempt): the archive no longer holds \(sha) (pruned after archive.retention, or removed)"
        }
    }
}

extension JobStore {
    /// The exact bytes sent by the job's attempt (the last that began dispatching, when
    /// `attempt` is nil), read from the archive by the SHA-256 its trace recorded and
    /// checked against it.
    public func sentContent(jobID: Int64, attempt: Int? = nil) async throws -> SentContent {
        let rendered = try await events(jobID: jobID).filter { $0.kind == .rendered }
        guard let event = attempt.map({ wanted in rendered.last { $0.attempt == wanted } }) ?? rendered.last else {
            return .notSent
        }
        guard let sha = event.detail["content_sha256"]?.stringValue else {
            return .notArchived(attempt: event.attempt, sha256: nil)
        }
        guard let message = try await archived(sha256: sha) else {
            return .notArchived(attempt: event.attempt, sha256: sha)
        }
        return .found(attempt: event.attempt, message: message)
    }
}

/// The trace's hash chain (`TraceChain`): events are sealed shortly after they are
/// written, by the daemon, in the order they were written (a row inserted by another
/// service's SQL too); each chain is then a list in sealing order.
public protocol TraceSealing: Sendable {
    /// Seals up to `batch` events not sealed yet, oldest first; returns how many.
    func sealTrace(batch: Int) async throws -> Int
    /// The chain of a case (`TraceChain.key`), sealed events in sealing order, and the
    /// events of the case not sealed yet.
    func chain(caseRef: String) async throws -> (sealed: [TraceChain.Sealed], unsealed: [DeliveryEvent])
}

extension JobQueue {
    /// Begins a dispatch with nothing to archive.
    public func beginDispatch(_ job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue) async throws
        -> DispatchPermission
    {
        try await beginDispatch(job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered, content: nil)
    }

    public func complete(
        _ done: Job, outcome: DispatchOutcome, retry: RetryPolicy, random: Double, thenBeginDispatch job: Job,
        owner: String, leaseSeconds: Double, rendered: JSONValue
    ) async throws -> (completed: Bool, permission: DispatchPermission) {
        try await complete(
            done, outcome: outcome, retry: retry, random: random, thenBeginDispatch: job, owner: owner,
            leaseSeconds: leaseSeconds, rendered: rendered, content: nil)
    }
}
