import Foundation
import Logging
import RelanceCore
import RelanceStore
import RelanceStorePostgres

#if canImport(Glibc)
    import Glibc
#endif

/// A lock file beside the SQLite database: every daemon serving it holds it shared for
/// its whole life (the kernel lets it go when the process ends, even by SIGKILL), and
/// `relance db copy` takes it exclusively, so that it never copies a database a daemon
/// is still writing.
public final class ServeLock: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock (`exclusive`: for the copy); nil when another process holds it in a
    /// way that excludes ours.
    public static func take(path: String, exclusive: Bool) throws -> ServeLock? {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw MoveError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            close(fd)
            return nil
        }
        return ServeLock(descriptor: fd)
    }

    deinit { close(descriptor) }

    /// The lock of the daemon in this process, held until it exits.
    nonisolated(unsafe) static var held: ServeLock?
}

public struct MoveError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// `relance db copy`: an SQLite database into an empty PostgreSQL schema.
public enum DatabaseMove {
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int, checksum: String)]
        public var leasesReleased: Int
    }

    public static func copy(
        from path: String, to settings: PostgresSettings, log: (String) -> Void
    ) async throws -> Report {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MoveError("\(path) does not exist")
        }
        let source = try SQLiteJobStore(path: path)
        guard let lock = try ServeLock.take(path: source.lockPath, exclusive: true) else {
            throw MoveError(
                "a daemon is serving \(path) (it holds \(source.lockPath)): stop it first, so that nothing is written during the copy"
            )
        }
        defer { withExtendedLifetime(lock) {} }
        guard try await source.isMigrated() else {
            throw MoveError("\(path) is not at the current schema: run `relance migrate` on it first")
        }
        var quiet = Logger(label: "relance.copy")
        quiet.logLevel = .critical
        let target = try PostgresJobStore(settings: settings, logger: quiet)
        defer { target.close() }
        let applied = try await target.migrate()
        if !applied.isEmpty { log("target \(settings.redacted): applied \(applied.joined(separator: ", "))") }
        let counts = try await target.rowCounts()
        if let (table, n) = counts.filter({ $0.value > 0 }).sorted(by: { $0.key < $1.key }).first {
            throw MoveError(
                "the target schema \(settings.schema) is not empty (\(n) rows in \(table)): copy into a new schema or database"
            )
        }
        var tables = try await source.exportForCopy()
        var released = 0
        if let index = tables.firstIndex(where: { $0.table.name == "jobs" }) {
            released = CopySchema.releaseLeases(&tables[index], now: Timestamp.string(from: Date()))
        }
        log("read \(tables.map { "\($0.rows.count) \($0.table.name)" }.joined(separator: ", ")) from \(path)")
        let expected = tables
        try await target.importCopy(tables) { copied in
            for (expected, actual) in zip(expected, copied) {
                guard expected.rows.count == actual.rows.count, expected.checksum == actual.checksum else {
                    throw MoveError(
                        "table \(expected.table.name): \(expected.rows.count) rows read, \(actual.rows.count) written, checksums \(expected.checksum.prefix(12)) and \(actual.checksum.prefix(12)) differ: nothing was committed"
                    )
                }
            }
        }
        var report = Report(tables: [], leasesReleased: released)
        for rows in tables { report.tables.append((rows.table.name, rows.rows.count, rows.checksum)) }
        return report
    }
}
