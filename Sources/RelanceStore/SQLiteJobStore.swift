import Foundation
import GRDB
import RelanceCore
import Synchronization

/// The embedded store: one SQLite file in WAL mode, written in IMMEDIATE transactions
/// so that concurrent writers (daemon, CLI, other services) queue on the busy timeout
/// instead of failing on a lock upgrade.
/// The SQL function every statement of the store reads "now" from: the store's
/// `clock`, in the stored timestamp format. The schema's column defaults keep SQLite's
/// own clock, so that other services inserting rows directly need no Relance function.
let clockNowName = "relance_now"
let clockNow = "\(clockNowName)()"

public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool
    /// Called after each commit with the trace events it wrote (the daemon logs them).
    let eventSink: (@Sendable ([DeliveryEvent]) -> Void)?
    /// Whether the sink wants `enqueued` events (the daemon's log shows them at info level
    /// only); the other events of an enqueue, and of everything else, always go to it.
    let sinkEnqueued: Bool
    var enqueueEvents: EnqueueEvents { eventSink == nil ? .none : (sinkEnqueued ? .all : .problems) }

    public let path: String
    /// The attempt budget an operator's `requeue` gives a job (the configured `retry.max_attempts`).
    let defaultMaxAttempts: Int
    /// What "now" is for every time the store writes or compares (due jobs, leases,
    /// backoff, trace events): the system clock, or a simulated one in tests.
    public let clock: any WallClock
    /// "Now" for the write transaction under way (`transaction(_:)` sets it).
    let pinnedNow: PinnedNow
    /// Every write transaction goes through it.
    let writes: GroupCommit
    /// A connection of its own for `checkpoint()`, opened on first use.
    let checkpointer = Mutex<DatabaseQueue?>(nil)
    let busyTimeout: Double

    public init(
        path: String, busyTimeout: Double = 10, defaultMaxAttempts: Int = 8, clock: any WallClock = SystemWallClock(),
        sinkEnqueued: Bool = true, eventSink: (@Sendable ([DeliveryEvent]) -> Void)? = nil
    ) throws {
        self.sinkEnqueued = sinkEnqueued
        self.defaultMaxAttempts = defaultMaxAttempts
        self.clock = clock
        self.busyTimeout = busyTimeout
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        // Inside a write transaction "now" is the instant the transaction began (as
        // PostgreSQL's now()): `finished_at` and `updated_at` set by one UPDATE, or
        // `run_at` and `due_at` by one INSERT, are equal. SQLite would call the function
        // once per use, a millisecond apart at times.
        let pinned = PinnedNow()
        self.pinnedNow = pinned
        let now = DatabaseFunction(clockNowName, argumentCount: 0, pure: false) { _ in
            pinned.value.withLock { $0 } ?? Timestamp.string(from: clock.now())
        }
        config.prepareDatabase { db in
            // WAL + NORMAL: durable across process crashes; a power loss may lose the
            // last transactions but never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Statement journals and savepoint journals in memory: on a temp file (the
            // default past 64 KB) every page a batch insert or a grouped write touched was
            // first written there, two pwrite(2) a page: about 300 for one request of 100
            // jobs, a quarter of the daemon's CPU in the API batch benchmark (strace).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            db.add(function: now)
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileErrors.createDirectory(directory)
        }
        self.pool = try DatabasePool(path: path, configuration: config)
        self.writes = GroupCommit(
            pool: pool, begin: { pinned.value.withLock { $0 = Timestamp.string(from: clock.now()) } },
            end: { pinned.value.withLock { $0 = nil } })
        self.path = path
        self.eventSink = eventSink
    }

    @discardableResult
    public func migrate() async throws -> [String] {
        let before = try await pool.read { try Schema.migrator.appliedIdentifiers($0) }
        try Schema.migrator.migrate(pool)
        let after = try await pool.read { try Schema.migrator.appliedIdentifiers($0) }
        return Schema.migrator.migrations.filter { after.contains($0) && !before.contains($0) }
    }

    /// Copies the write-ahead log into the database file from a connection of its own,
    /// and leaves that work to the caller from then on.
    ///
    /// By default SQLite checkpoints inside the commit that fills the log past 1,000
    /// pages: that transaction copies the pages and waits for two `fdatasync` while
    /// every other writer queues behind it (10 to 20 ms here, every 150 enqueue
    /// requests or so). The daemon calls this a few times a second instead: passive
    /// checkpoints on another connection copy the log while writers go on. The log file
    /// starts over only after a checkpoint that no commit overlapped, which under a
    /// steady flow of writes a passive one seldom is; so when the log has
    /// grown past `maxLogFrames` the last frames are copied by the writer itself (only
    /// those written since the passive pass), and the next write starts the log over.
    ///
    /// The first call turns the in-commit checkpoint off for this process's writer; a
    /// failed call turns it back on. Other processes (CLI, services writing the job
    /// table) keep SQLite's default.
    @discardableResult
    public func checkpoint(maxLogFrames: Int = 2000) async throws -> WALCheckpoint {
        let (queue, first) = try checkpointer.withLock { queue in
            if let queue { return (queue, false) }
            var config = Configuration()
            config.busyMode = .timeout(busyTimeout)
            let opened = try DatabaseQueue(path: path, configuration: config)
            queue = opened
            return (opened, true)
        }
        @Sendable func passive(_ db: Database) throws -> WALCheckpoint {
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")!
            return WALCheckpoint(logFrames: row[1], copiedFrames: row[2])
        }
        do {
            if first {
                try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
            }
            var result = try await queue.writeWithoutTransaction(passive)
            if result.logFrames > maxLogFrames {
                // Frames committed while the pass above ran are still to copy, and the
                // log restarts only after a checkpoint no write overlapped: the writer's.
                result = try await pool.writeWithoutTransaction(passive)
                result.byWriter = true
            }
            return result
        } catch {
            try? await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
            checkpointer.withLock { $0 = nil }
            throw error
        }
    }

    /// The WAL checkpoint (`checkpoint()`).
    public func housekeep() async throws { try await checkpoint() }

    /// True when every migration this build knows has been applied.
    public func isMigrated() async throws -> Bool {
        try await pool.read { db in try Schema.migrator.hasCompletedMigrations(db) }
    }

    // MARK: transactions

    /// Runs `body` in an IMMEDIATE transaction (shared with the writes queued meanwhile,
    /// see `GroupCommit`), then hands the events it recorded to the sink.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Database, inout [DeliveryEvent]) throws -> T)
        async throws -> T
    {
        let (result, events) = try await writes.write { db -> (T, [DeliveryEvent]) in
            var events: [DeliveryEvent] = []
            let result = try body(db, &events)
            return (result, events)
        }
        if !events.isEmpty { eventSink?(events) }
        return result
    }

    /// Appends one trace event; returns it as stored.
    @discardableResult
    static func record(
        _ db: Database, _ events: inout [DeliveryEvent], job: Job, attempt: Int? = nil, kind: DeliveryEventKind,
        detail: [String: JSONValue] = [:]
    ) throws -> DeliveryEvent {
        let detailText = JSONValue.object(detail).jsonText
        // Cached: this statement runs several times for every job.
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail, at)
                VALUES (?, ?, ?, ?, ?, ?, \(clockNow)) RETURNING id, at
                """)
        let row = try Row.fetchOne(
            statement, arguments: [job.id, attempt ?? job.attempt, kind.rawValue, job.caseRef, job.channel, detailText])!
        let event = DeliveryEvent(
            id: row[0], jobID: job.id, attempt: attempt ?? job.attempt, at: row[1], kind: kind,
            caseRef: job.caseRef, channel: job.channel, detail: .object(detail))
        events.append(event)
        return event
    }

    // MARK: row mapping

    /// A job as its row holds it. The columns another service may write with SQL are read
    /// whatever they hold (`RowValue`): a text priority reads as 0 here, and the claim
    /// fails that job with `RowValue.jobProblem` rather than send it.
    static func job(from row: Row) -> Job {
        func text(_ column: String) -> String? { RowValue.text(row, column) }
        return Job(
            id: row["id"], idempotencyKey: text("idempotency_key"), payerRef: text("payer_ref") ?? "",
            caseRef: text("case_ref"), channel: text("channel") ?? "", template: text("template") ?? "",
            data: text("data") ?? "{}", runAt: text("run_at") ?? "", dueAt: text("due_at") ?? text("run_at") ?? "",
            priority: RowValue.integer(row, "priority") ?? 0, state: JobState(rawValue: text("state") ?? "") ?? .failed,
            attempt: RowValue.integer(row, "attempt") ?? 0, maxAttempts: RowValue.integer(row, "max_attempts"),
            leaseOwner: text("lease_owner"), leaseExpiresAt: text("lease_expires_at"),
            dispatchStartedAt: text("dispatch_started_at"), lastError: text("last_error"),
            providerRef: text("provider_ref"), createdAt: text("created_at") ?? "", updatedAt: text("updated_at") ?? "")
    }

    static func event(from row: Row) -> DeliveryEvent {
        let detailText: String = row["detail"] ?? "{}"
        return DeliveryEvent(
            id: row["id"], jobID: row["job_id"], attempt: row["attempt"], at: row["at"],
            kind: DeliveryEventKind(rawValue: row["event"]) ?? .permanentError, caseRef: row["case_ref"],
            channel: row["channel"] ?? "", detail: (try? JSONValue.parse(detailText)) ?? .object([:]))
    }

    static func detail(_ response: ProviderResponse) -> [String: JSONValue] { TraceDetail.of(response) }
    static func detail(_ failure: DispatchFailure) -> [String: JSONValue] { TraceDetail.of(failure) }

    /// An SQLite date modifier, e.g. `+30.000 seconds`.
    static func modifier(seconds: Double) -> String {
        // Written by hand: `String(format:)` cost 1 % of the daemon's CPU here (a lease is
        // set on every claim and every dispatch).
        let milliseconds = (seconds * 1000).rounded()
        guard milliseconds.magnitude < 1e15 else { return String(format: "%+.3f seconds", seconds) }
        let whole = Int(milliseconds.magnitude)
        let fraction = String(whole % 1000)
        return (milliseconds < 0 ? "-" : "+") + String(whole / 1000) + "."
            + String(repeating: "0", count: 3 - fraction.utf8.count) + fraction + " seconds"
    }
}

/// An operator command that cannot apply to the job as it is.
public struct OperatorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// What one `SQLiteJobStore.checkpoint()` did.
public struct WALCheckpoint: Sendable, Equatable {
    /// Frames in the write-ahead log, and how many of them are now in the database file.
    public var logFrames: Int
    public var copiedFrames: Int
    /// The writer copied the last frames (the log had grown past the limit).
    public var byWriter = false
    public var isComplete: Bool { copiedFrames >= logFrames }
}

/// The instant a write transaction stamps everything with (see `SQLiteJobStore.init`).
final class PinnedNow: Sendable {
    let value = Mutex<String?>(nil)
}

/// Which trace events an enqueue hands to the sink.
enum EnqueueEvents {
    case none
    /// Only those about a problem (a `run_at` that is not a date).
    case problems
    case all
}

extension Database {
    /// `execute(sql:arguments:)` through the connection's statement cache, for the
    /// statements of fixed text that run for every job: compiling one (GRDB checks
    /// every column it reads) costs more than running it.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
