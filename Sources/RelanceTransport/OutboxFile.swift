import Foundation
import RelanceCore

/// The outbox transports' common step: a message written whole into a folder instead
/// of being sent, so that a bare machine works and a person can look at what would go.
public enum OutboxFile {
    /// Writes `bytes` to `directory/name` (see `writeNow`), off Swift's cooperative pool.
    public static func write(_ bytes: [UInt8], directory: String, name: String) async -> DispatchOutcome {
        await offCooperativePool { writeNow(bytes, directory: directory, name: name) }
    }

    /// Runs blocking file work on a queue of its own and returns its result.
    ///
    /// Each outbox or spool file is written to a temporary file, synced to disk (`fsync`)
    /// and renamed. A worker waiting for the disk on one of the cooperative pool's threads
    /// (as many as cores) kept that core from rendering the other workers' messages: with
    /// letters, 12 % of the machine sat in I/O wait. Queues created here get threads of
    /// their own from libdispatch when their work blocks.
    public static func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            fileQueue.async { done.resume(returning: work()) }
        }
    }

    private static let fileQueue = DispatchQueue(label: "relance.outbox-files", attributes: .concurrent)

    /// Writes `bytes` to `directory/name` (whole, then renamed: a reader never sees half
    /// a file) and reports it as accepted, with its path and SHA-256 in the trace.
    public static func writeNow(_ bytes: [UInt8], directory: String, name: String) -> DispatchOutcome {
        let path = directory + "/" + name
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            return .transient(
                DispatchFailure(reason: "outbox", message: "cannot write \(path): \(FileErrors.describe(error))"))
        }
        return .accepted(
            ProviderResponse(
                text: "written to \(path)", providerRef: name,
                detail: [
                    "path": .string(path), "bytes": .number(String(bytes.count)), "sha256": .string(SHA256.hex(bytes)),
                ]))
    }
}
