import Foundation
import RelanceCore

/// The outbox transports' common step: a message written whole into a folder instead
/// of being sent, so that a bare machine works and a person can look at what would go.
///
/// Each file is written under a hidden temporary name (`.relance-tmp.<pid>.<name>`),
/// synced to disk, then renamed into place: the rename is the irrevocable moment (a
/// reader may take the file from then on), so the worker's lease is checked just before
/// it. Temporary files of a process that died are removed at start (`removeStale`).
public enum OutboxFile {
    /// The prefix of temporary files; readers ignore names starting with a dot.
    public static let temporaryPrefix = ".relance-tmp."

    /// Writes `bytes` to `directory/name` (see `writeNow`), off Swift's cooperative pool.
    public static func write(_ bytes: [UInt8], directory: String, name: String, fence: DispatchFence) async
        -> DispatchOutcome
    {
        await offCooperativePool { writeNow(bytes, directory: directory, name: name, fence: fence) }
    }

    /// Runs blocking file work on a queue of its own and returns its result.
    ///
    /// A worker waiting for the disk on one of the cooperative pool's threads (as many as
    /// cores) kept that core from rendering the other workers' messages: with letters,
    /// 12 % of the machine sat in I/O wait. Queues created here get threads of their own
    /// from libdispatch when their work blocks.
    public static func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            fileQueue.async { done.resume(returning: work()) }
        }
    }

    private static let fileQueue = DispatchQueue(label: "relance.outbox-files", attributes: .concurrent)

    /// Writes `bytes` to `directory/name` (whole, synced, then renamed: a reader never
    /// sees half a file) and reports it as accepted, with its path and SHA-256 in the trace.
    public static func writeNow(_ bytes: [UInt8], directory: String, name: String, fence: DispatchFence)
        -> DispatchOutcome
    {
        let path = directory + "/" + name
        let staged: Staged
        switch stage(bytes, directory: directory, name: name) {
        case .success(let s): staged = s
        case .failure(let failure): return .transient(failure)
        }
        if !fence.permits(answeredBy: .now) {
            staged.discard()
            return fence.refusal("\(path) could be written")
        }
        if let failure = staged.commit() { return .transient(failure) }
        return .accepted(
            ProviderResponse(
                text: "written to \(path)", providerRef: name,
                detail: [
                    "path": .string(path), "bytes": .number(String(bytes.count)), "sha256": .string(SHA256.hex(bytes)),
                ]))
    }

    /// A file written and synced under its temporary name, not yet visible.
    public struct Staged: Sendable {
        public let temporary: String
        public let path: String
        let directory: String

        /// Renames it into place and syncs the folder; nil when done, else why not (the
        /// temporary file is then removed).
        public func commit() -> DispatchFailure? {
            // A rename only ever replaces a regular file: never a device, FIFO or link
            // someone left at that name.
            var status = stat()
            if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
                unlink(temporary)
                return DispatchFailure(
                    reason: .outbox, message: "cannot write \(path): it exists and is not a regular file")
            }
            guard rename(temporary, path) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(temporary)
                return DispatchFailure(reason: .outbox, message: "cannot rename into \(path): \(why)")
            }
            let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if folder >= 0 {
                _ = fsync(folder)
                close(folder)
            }
            return nil
        }

        public func discard() { unlink(temporary) }
    }

    /// Writes `bytes` to a temporary file beside `directory/name` and syncs it.
    public static func stage(_ bytes: [UInt8], directory: String, name: String) -> Result<Staged, DispatchFailure> {
        let path = directory + "/" + name
        let temporary = "\(directory)/\(temporaryPrefix)\(getpid()).\(name)"
        func failure(_ what: String) -> DispatchFailure {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            return DispatchFailure(reason: .outbox, message: "cannot write \(path): \(what)\(why)")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { return .failure(failure("")) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let result = failure("")
                close(fd)
                return .failure(result)
            }
            offset += written
        }
        if fsync(fd) != 0 {
            let result = failure("fsync: ")
            close(fd)
            return .failure(result)
        }
        guard close(fd) == 0 else { return .failure(failure("close: ")) }
        return .success(Staged(temporary: temporary, path: path, directory: directory))
    }

    /// Removes the temporary files a process that is gone left in `directory` (killed
    /// between writing and renaming), and those of Foundation's atomic writes of earlier
    /// versions (`.dat.nosync*`). A file of a live process on this host is left alone.
    /// Returns the names removed.
    @discardableResult
    public static func removeStale(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names {
            var stale = false
            if name.hasPrefix(".dat.nosync") {
                stale = true
            } else if name.hasPrefix(temporaryPrefix) {
                let pidText = name.dropFirst(temporaryPrefix.count).prefix { $0 != "." }
                if let pid = Int32(pidText) {
                    stale = pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)
                }
                // A live process keeps a temporary file for milliseconds: one older than ten
                // minutes is stale even if its process id was given to another process since.
                if !stale, let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name),
                    let modified = attributes[.modificationDate] as? Date, Date().timeIntervalSince(modified) > 600
                {
                    stale = true
                }
            }
            if stale, unlink(directory + "/" + name) == 0 { removed.append(name) }
        }
        return removed
    }
}

/// Writes a file the way a person asking for it expects (`relance render --out`): `-` is
/// standard output; a device, a FIFO or a symbolic link is written in place, through it
/// (a rename would replace the node itself: `/dev/null` turned into a regular file); a
/// regular file, or none yet, is written whole to a temporary file and renamed over it.
public enum SafeFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            if kind == S_IFDIR { throw FileSystemError(description: "cannot write \(path): it is a directory") }
            if kind != S_IFREG {
                try writeInPlace(bytes, to: path)
                return
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        switch OutboxFile.stage(bytes, directory: directory.isEmpty ? "." : directory, name: name) {
        case .failure(let failure): throw FileSystemError(description: failure.message)
        case .success(let staged):
            if let failure = staged.commit() { throw FileSystemError(description: failure.message) }
        }
    }

    static func writeInPlace(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileSystemError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
