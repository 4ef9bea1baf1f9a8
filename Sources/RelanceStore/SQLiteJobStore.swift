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

    // MARK: payers

    @discardableResult
    public func upsertPayer(_ payer: PayerProfile) async throws -> Bool {
        try await transaction { db, _ in
            let existed = try Row.fetchOne(db, sql: "SELECT 1 FROM payers WHERE ref = ?", arguments: [payer.ref]) != nil
            try Self.upsertPayer(payer, db)
            return !existed
        }
    }

    static func upsertPayer(_ payer: PayerProfile, _ db: Database) throws {
        // Phone numbers are stored in E.164 (06 12 34 56 78 for fr-FR → +33612345678).
        let payer = payer.normalized()
        // A suppressed contact point is usable again once the profile changes it.
        try db.execute(
            sql: """
                DELETE FROM suppressions WHERE payer_ref = ? AND (
                  (channel = 'email' AND contact IS NOT ?) OR (channel = 'sms' AND contact IS NOT ?)
                  OR (channel = 'letter' AND contact IS NOT ?))
                """,
            arguments: [payer.ref, payer.email, payer.phone, payer.postalAddressJSON])
        let address = payer.postalAddressJSON
        let channels = JSONValue.array(payer.channels.map { .string($0.rawValue) }).jsonText
        try db.execute(
            sql: """
                INSERT INTO payers(ref, name, locale, timezone, segment, email, phone, postal_address, channels, kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(ref) DO UPDATE SET
                  name = excluded.name, locale = excluded.locale, timezone = excluded.timezone,
                  segment = excluded.segment, email = excluded.email, phone = excluded.phone,
                  postal_address = excluded.postal_address, channels = excluded.channels, kind = excluded.kind,
                  updated_at = \(clockNow)
                """,
            arguments: [
                payer.ref, payer.name, payer.locale, payer.timezone, payer.segment, payer.email, payer.phone, address,
                channels, payer.kind.rawValue,
            ])
    }

    public func payer(ref: String) async throws -> PayerProfile? {
        try await pool.read { db in try Self.payer(ref: ref, db) }
    }

    static func payer(ref: String, _ db: Database) throws -> PayerProfile? {
        try storedPayer(ref: ref, db)?.get()
    }

    /// The payer's row read into a profile, or why it is unusable; nil when there is none.
    static func storedPayer(ref: String, _ db: Database) throws -> Result<PayerProfile, PayerUnusable>? {
        let statement = try db.cachedStatement(
            sql:
                "SELECT *, \(RowValue.firstNulColumn(RowValue.payerTextColumns)) AS relance_nul FROM payers WHERE ref = ?"
        )
        return try Row.fetchOne(statement, arguments: [ref]).map(Self.payer(from:))
    }

    static func payer(from row: Row) -> Result<PayerProfile, PayerUnusable> {
        // Payers may be written by SQL too: every column is read whatever it holds.
        func text(_ column: String) -> String? { RowValue.text(row, column) }
        let ref = text("ref") ?? ""
        func bad(_ column: String, _ why: String) -> Result<PayerProfile, PayerUnusable> {
            .failure(PayerUnusable(message: "payer \(ref): column \(column) \(why)"))
        }
        // A NUL byte would cut the text where SQLite's C API reads it: "victim@b.fr\0attacker@…"
        // would read as the first address. Refused, naming the column.
        if let column = text("relance_nul") { return bad(column, "contains a NUL byte") }
        for column in RowValue.payerTextColumns {
            let value: DatabaseValue = row[column]
            switch value.storage {
            case .null, .string: continue
            default: return bad(column, "is \(RowValue.describe(value)), not a text")
            }
        }
        var channels: [Channel] = [.email]
        if let text = text("channels") {
            guard let items = (try? JSONValue.parse(text))?.arrayValue else {
                return bad("channels", "is not a JSON array: \(text.prefix(80))")
            }
            channels = []
            for item in items {
                guard let name = item.stringValue, let channel = Channel(rawValue: name) else {
                    return bad("channels", "has an unknown channel \(item.jsonText) (email, sms, letter)")
                }
                channels.append(channel)
            }
        }
        var address: [String]?
        if let text = text("postal_address") {
            guard let items = (try? JSONValue.parse(text))?.arrayValue, items.allSatisfy({ $0.stringValue != nil })
            else {
                return bad("postal_address", "is not a JSON array of strings")
            }
            address = items.compactMap(\.stringValue)
        }
        guard let name = text("name") else { return bad("name", "is empty") }
        guard let kind = PayerKind(rawValue: text("kind") ?? "business") else {
            return bad("kind", "is '\(text("kind") ?? "")', not business or consumer")
        }
        // Bounded as at every door: a name goes into a header line (998 bytes at most).
        if name.count > 300 { return bad("name", "is longer than 300 characters") }
        if let problem = TextRules.referenceProblem(ref) { return bad("ref", problem) }
        return .success(
            PayerProfile(
                ref: ref, name: name, locale: text("locale") ?? "fr-FR", timezone: text("timezone") ?? "Europe/Paris",
                segment: text("segment") ?? "standard", email: text("email"), phone: text("phone"),
                postalAddress: address, channels: channels, kind: kind))
    }

    // MARK: enqueue

    public func enqueue(_ jobs: [NewJob], payers: [PayerProfile]) async throws -> [EnqueueResult] {
        try await enqueue(jobs, payers: payers) { _ in [] }
    }

    public func enqueue(
        _ jobs: [NewJob], payers: [PayerProfile],
        check: @escaping @Sendable (_ storedPayer: (String) throws -> PayerProfile?) -> [FieldError]
    ) async throws -> [EnqueueResult] {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            // In the write transaction: one trip to the writer, and no payer can change
            // between the check and the insert.
            let errors = check { ref in try Self.payer(ref: ref, db) }
            if !errors.isEmpty { throw InvalidFields(errors) }
            for payer in payers { try Self.upsertPayer(payer, db) }
            return try Self.insertJobs(jobs, db, &events, wantsEvents: wantsEvents)
        }
    }

    /// Inserts jobs (skipping those whose idempotency key exists) inside a transaction.
    static func insertJobs(
        _ jobs: [NewJob], _ db: Database, _ events: inout [DeliveryEvent], wantsEvents: EnqueueEvents
    ) throws -> [EnqueueResult] {
        do {
            var results: [EnqueueResult] = []
            results.reserveCapacity(jobs.count)
            // Cached: a batch runs these once per job.
            let existing = try db.cachedStatement(sql: "SELECT id, state FROM jobs WHERE idempotency_key = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO jobs(idempotency_key, payer_ref, case_ref, channel, template, data, run_at, due_at, priority)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, \(clockNow)), COALESCE(?7, \(clockNow)), ?8) RETURNING id
                    """)
            var firstNew: Int64?
            var lastNew: Int64 = 0
            // The run_at last found in the stored format (a batch usually shares one).
            var storedFormat: String?
            for job in jobs {
                if let key = job.idempotencyKey, let row = try Row.fetchOne(existing, arguments: [key]) {
                    results.append(
                        EnqueueResult(id: row["id"], state: JobState(rawValue: row["state"]) ?? .queued, created: false)
                    )
                    continue
                }
                let id = try Int64.fetchOne(
                    insert,
                    arguments: [
                        job.idempotencyKey, job.payerRef, job.caseRef, job.channel.rawValue, job.template, job.data,
                        job.runAt, job.priority,
                    ])!
                if firstNew == nil { firstNew = id }
                lastNew = id
                var state = JobState.queued
                if let runAt = job.runAt, runAt != storedFormat {
                    if Timestamp.date(from: runAt).map(Timestamp.string(from:)) == runAt {
                        storedFormat = runAt
                    } else {
                        // Not in the stored format: the trigger normalised it, or failed the job.
                        let text = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
                        state = text.flatMap(JobState.init(rawValue:)) ?? .queued
                    }
                }
                results.append(EnqueueResult(id: id, state: state, created: true))
            }
            if wantsEvents != .none, let firstNew {
                // The trigger wrote the `enqueued` events (and `permanent_error` for a bad
                // run_at); hand them to the sink like any other.
                let enqueued = try db.cachedStatement(
                    sql: """
                        SELECT * FROM delivery_events INDEXED BY delivery_events_job
                        WHERE job_id BETWEEN ? AND ? AND attempt = 0 AND (? OR event != 'enqueued') ORDER BY job_id, id
                        """)
                events += try Row.fetchAll(enqueued, arguments: [firstNew, lastNew, wantsEvents == .all]).map(
                    Self.event(from:))
            }
            return results
        }
    }

    // MARK: invoices

    public func openInvoice(_ invoice: Invoice, jobs: [NewJob]) async throws -> (
        invoice: Invoice, created: Bool, jobs: [EnqueueResult]
    ) {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [invoice.ref]) {
                // Already registered: its jobs' idempotency keys exist, so nothing new is inserted.
                let results = try Self.insertJobs(jobs, db, &events, wantsEvents: wantsEvents)
                return (Self.invoice(from: row), false, results)
            }
            try db.execute(
                sql: """
                    INSERT INTO invoices(ref, payer_ref, scenario, currency, amount, balance, issue_date, due_date)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    invoice.ref, invoice.payerRef, invoice.scenario, invoice.currency, Invoice.text(invoice.amount),
                    Invoice.text(invoice.balance), invoice.issueDate, invoice.dueDate,
                ])
            let results = try Self.insertJobs(jobs, db, &events, wantsEvents: wantsEvents)
            return (invoice, true, results)
        }
    }

    public func invoice(ref: String) async throws -> Invoice? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref]).map(Self.invoice(from:))
        }
    }

    public func stepReport(since: String, scenario: String?) async throws -> [StepFigures] {
        try await pool.read { db in
            // One row per (invoice, step, channel) message handed to a provider: the jobs
            // that went out, and the jobs merged into one of them (their invoice was in
            // that message; `sent` counts the message once, `invoices` every invoice).
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.scenario, j.idempotency_key, j.case_ref, coalesce(m.state, j.state) AS state,
                      substr(coalesce(m.finished_at, j.finished_at), 1, 10) AS day, i.paid_at, m.id IS NOT NULL AS merged
                    FROM jobs j JOIN invoices i ON i.ref = j.case_ref
                      LEFT JOIN jobs m ON j.state = 'cancelled' AND j.cancel_reason LIKE 'merged:%'
                        AND m.id = CAST(substr(j.cancel_reason, 8) AS INTEGER)
                    WHERE coalesce(m.state, j.state) IN ('sent', 'delivered', 'undelivered')
                      AND j.idempotency_key IS NOT NULL
                      AND coalesce(m.finished_at, j.finished_at) >= ? AND (? IS NULL OR i.scenario = ?)
                    """, arguments: [since, scenario, scenario])
            let payments = try Row.fetchAll(
                db,
                sql:
                    "SELECT p.invoice_ref AS invoice, p.amount, p.paid_on, i.currency FROM payments p JOIN invoices i ON i.ref = p.invoice_ref"
            )
            var byInvoice: [String: [(day: String, amount: Decimal, currency: String)]] = [:]
            for p in payments {
                byInvoice[p["invoice"], default: []].append(
                    (p["paid_on"], Invoice.parseAmount(p["amount"]) ?? 0, p["currency"]))
            }
            struct Key: Hashable { var scenario: String, step: String }
            var figures: [Key: StepFigures] = [:]
            var reached: [Key: [String: String]] = [:]  // invoice → day of the step (earliest)
            var paidAt: [String: String] = [:]
            for row in rows {
                let key: String = row["idempotency_key"]
                let caseRef: String = row["case_ref"]
                if let paid: String = row["paid_at"] { paidAt[caseRef] = paid }
                guard let stepKey = StepKey(key, caseRef: caseRef) else { continue }
                let k = Key(scenario: row["scenario"], step: stepKey.step)
                var f =
                    figures[k]
                    ?? StepFigures(
                        scenario: k.scenario, step: k.step, sent: 0, delivered: 0, invoices: 0, paidWithin7Days: 0,
                        paidWithin30Days: 0, recovered: [:])
                if !(row["merged"] as Bool) {
                    f.sent += 1
                    if (row["state"] as String) == "delivered" { f.delivered += 1 }
                }
                figures[k] = f
                let day: String = row["day"]
                if let earlier = reached[k]?[caseRef], earlier <= day { continue }
                reached[k, default: [:]][caseRef] = day
            }
            func days(_ from: String, _ to: String) -> Int? {
                guard let a = Scenario.day(String(from.prefix(10))), let b = Scenario.day(String(to.prefix(10))) else {
                    return nil
                }
                return Int((b.timeIntervalSince(a) / 86400).rounded())
            }
            for (k, invoices) in reached {
                for (ref, day) in invoices {
                    figures[k]!.invoices += 1
                    if let paid = paidAt[ref], let d = days(day, paid), d >= 0 {
                        if d <= 7 { figures[k]!.paidWithin7Days += 1 }
                        if d <= 30 { figures[k]!.paidWithin30Days += 1 }
                    }
                    for payment in byInvoice[ref] ?? [] where payment.day >= day {
                        figures[k]!.recovered[payment.currency, default: 0] += payment.amount
                    }
                }
            }
            return figures.values.sorted { ($0.scenario, $0.step) < ($1.scenario, $1.step) }
        }
    }

    public func suppressedChannels(payerRef: String) async throws -> Set<Channel> {
        try await pool.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT channel FROM suppressions WHERE payer_ref = ?", arguments: [payerRef]
                )
                .compactMap(Channel.init(rawValue:)))
        }
    }

    public func fallBack(from job: Job, contact: String, reason: String, to next: NewJob?) async throws -> Int64? {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            try db.execute(
                sql: """
                    INSERT INTO suppressions(payer_ref, channel, contact, reason) VALUES (?, ?, ?, ?)
                    ON CONFLICT(payer_ref, channel) DO UPDATE SET contact = excluded.contact,
                      reason = CASE WHEN contact IS excluded.contact THEN reason ELSE excluded.reason END,
                      created_at = CASE WHEN contact IS excluded.contact THEN created_at ELSE \(clockNow) END
                    """, arguments: [job.payerRef, job.channel, contact, reason])
            var newID: Int64?
            if let next {
                newID = try Self.insertJobs([next], db, &events, wantsEvents: wantsEvents).first?.id
            }
            var detail: [String: JSONValue] = [
                "reason": "channel fallback", "suppressed": .string(job.channel), "contact_problem": .string(reason),
            ]
            if let next, let newID {
                detail["to_channel"] = .string(next.channel.rawValue)
                detail["new_job"] = .number(String(newID))
            } else {
                detail["to_channel"] = .null
            }
            try Self.record(db, &events, job: job, kind: .rescued, detail: detail)
            return newID
        }
    }

    public func mergeSiblings(of job: Job) async throws -> [String] {
        try await transaction { db, events in
            // Already merged into a sibling by another worker: nothing to gather (its
            // pre-dispatch check cancels it).
            let own = try Row.fetchOne(db, sql: "SELECT cancel_reason FROM jobs WHERE id = ?", arguments: [job.id])
            if let reason: String = own?["cancel_reason"], !reason.isEmpty { return [] }
            let sameMessage = """
                payer_ref = ? AND template = ? AND channel = ? AND substr(run_at, 1, 10) = substr(?, 1, 10)
                  AND id != ? AND case_ref IS NOT NULL AND case_ref != ? AND instr(data, '\(Invoice.quotedDataKey)') > 0
                  AND cancel_reason IS NULL
                  AND (SELECT currency FROM invoices WHERE ref = jobs.case_ref)
                    IS (SELECT currency FROM invoices WHERE ref = ?)
                """
            // Only invoices in the same currency share a message (one total).
            let arguments: StatementArguments = [
                job.payerRef, job.template, job.channel, job.runAt, job.id, job.caseRef ?? "", job.caseRef ?? "",
            ]
            let queued = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'cancelled', cancel_reason = 'merged:\(job.id)', finished_at = \(clockNow),
                      updated_at = \(clockNow)
                    WHERE state = 'queued' AND \(sameMessage) RETURNING *
                    """, arguments: arguments)
            for row in queued {
                try Self.record(
                    db, &events, job: Self.job(from: row), kind: .cancelled,
                    detail: ["reason": "merged", "into_job": .number(String(job.id))])
            }
            // Claimed but not dispatching: their pre-dispatch check cancels them.
            try db.execute(
                sql: """
                    UPDATE jobs SET cancel_reason = 'merged:\(job.id)', updated_at = \(clockNow)
                    WHERE state = 'running' AND dispatch_started_at IS NULL AND \(sameMessage)
                    """, arguments: arguments)
            // Every case merged into this job, now or on an earlier attempt (a retry after a
            // transient error lists the same invoices as the first try).
            return try String.fetchAll(
                db,
                sql: """
                    SELECT case_ref FROM jobs WHERE cancel_reason = 'merged:\(job.id)' AND case_ref IS NOT NULL
                      AND case_ref != ? ORDER BY id
                    """, arguments: [job.caseRef ?? ""])
        }
    }

    public func hold(ref: String, until: String?, reason: String) async throws -> HoldOutcome {
        try await transaction { db, events in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM invoices WHERE ref = ?", arguments: [ref]) != nil else {
                throw OperatorError(message: "invoice \(ref) is not registered")
            }
            try db.execute(
                sql: "UPDATE invoices SET hold_until = ?, hold_reason = ?, updated_at = \(clockNow) WHERE ref = ?",
                arguments: [until, until == nil ? nil : reason, ref])
            let rows: [Row]
            if let until {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE jobs SET held_run_at = coalesce(held_run_at, run_at), run_at = ?, due_at = ?,
                          updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'queued' AND run_at < ? RETURNING *
                        """, arguments: [until, until, ref, until])
                for row in rows {
                    try Self.record(
                        db, &events, job: Self.job(from: row), kind: .deferred,
                        detail: ["reason": "hold", "hold_reason": .string(reason), "until": .string(until)])
                }
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE jobs SET run_at = max(held_run_at, \(clockNow)), due_at = max(held_run_at, \(clockNow)),
                          held_run_at = NULL, updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'queued' AND held_run_at IS NOT NULL RETURNING *
                        """, arguments: [ref])
                for row in rows {
                    let job = Self.job(from: row)
                    try Self.record(
                        db, &events, job: job, kind: .deferred,
                        detail: ["reason": "hold lifted", "note": .string(reason), "until": .string(job.runAt)])
                }
            }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref])!
            return HoldOutcome(invoice: Self.invoice(from: row), jobs: rows.count)
        }
    }

    public func recordPayment(
        ref: String, amount: Decimal, paidOn: String, thanks: @escaping @Sendable (Invoice) -> [NewJob]
    ) async throws -> PaymentOutcome {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref]) else {
                throw OperatorError(message: "invoice \(ref) is not registered")
            }
            var invoice = Self.invoice(from: row)
            guard invoice.status == "open" else {
                throw OperatorError(message: "invoice \(ref) is already paid")
            }
            invoice.balance -= amount
            try db.execute(
                sql: "INSERT INTO payments(invoice_ref, amount, paid_on) VALUES (?, ?, ?)",
                arguments: [ref, Invoice.text(amount), paidOn])
            let settled = invoice.balance <= 0
            if settled { invoice.status = "paid" }
            try db.execute(
                sql: """
                    UPDATE invoices SET balance = ?, status = ?, updated_at = \(clockNow),
                      paid_at = CASE WHEN ? THEN ? END
                    WHERE ref = ?
                    """, arguments: [Invoice.text(invoice.balance), invoice.status, settled, paidOn, ref])
            var cancelled = 0
            var thanked: [EnqueueResult] = []
            if settled {
                invoice.paidAt = try String.fetchOne(
                    db, sql: "SELECT paid_at FROM invoices WHERE ref = ?", arguments: [ref])
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE jobs SET state = 'cancelled', cancel_reason = 'paid', finished_at = \(clockNow),
                          updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'queued' RETURNING *
                        """, arguments: [ref])
                for row in rows {
                    try Self.record(db, &events, job: Self.job(from: row), kind: .cancelled, detail: ["reason": "paid"])
                }
                cancelled = rows.count
                // Claimed but not yet dispatching: the worker's pre-dispatch check cancels them.
                try db.execute(
                    sql: """
                        UPDATE jobs SET cancel_reason = 'paid', updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'running' AND dispatch_started_at IS NULL
                        """, arguments: [ref])
                thanked = try Self.insertJobs(thanks(invoice), db, &events, wantsEvents: wantsEvents)
            }
            return PaymentOutcome(invoice: invoice, settled: settled, cancelled: cancelled, thanks: thanked)
        }
    }

    static func invoice(from row: Row) -> Invoice {
        return Invoice(
            ref: row["ref"], payerRef: row["payer_ref"], scenario: row["scenario"], currency: row["currency"],
            amount: Invoice.parseAmount(row["amount"] ?? "0") ?? 0,
            balance: Invoice.parseAmount(row["balance"] ?? "0") ?? 0, issueDate: row["issue_date"],
            dueDate: row["due_date"], status: row["status"], paidAt: row["paid_at"], holdUntil: row["hold_until"],
            holdReason: row["hold_reason"])
    }

    // MARK: claim and dispatch

    public func claim(owner: String, limit: Int, leaseSeconds: Double) async throws -> [ClaimedJob] {
        try await transaction { db, events in
            // Highest priority first, then oldest run_at. Walked one priority level at a time
            // so that every step is an index range: a single ORDER BY over the whole queue
            // would scan every job scheduled for later on each claim.
            var ids: [Int64] = []
            var level = try Self.highestPriority(db, &events)
            while let priority = level, ids.count < limit {
                ids += try Int64.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT id FROM jobs INDEXED BY jobs_due
                            WHERE state = 'queued' AND priority = ? AND run_at <= \(clockNow)
                            ORDER BY priority DESC, run_at, id LIMIT ?
                            """),
                    arguments: [priority, limit - ids.count])
                let next = try DatabaseValue.fetchOne(
                    db.cachedStatement(
                        sql:
                            "SELECT max(priority) FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND priority < ?"
                    ),
                    arguments: [priority])
                // Only integers: anything else was failed by the triggers (and read here, it
                // must never stop the process).
                if case .int64(let number)? = next?.storage { level = Int(number) } else { level = nil }
            }
            guard !ids.isEmpty else { return [] }
            // The ids as one JSON array argument: the statement's text stays the same, and cached.
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = ?,
                          lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?),
                          dispatch_started_at = NULL, updated_at = \(clockNow)
                        WHERE id IN (SELECT value FROM json_each(?)) AND state = 'queued'
                        RETURNING *, \(RowValue.nulBytes) AS nul_bytes
                        """),
                arguments: [
                    owner, Self.modifier(seconds: leaseSeconds),
                    "[" + ids.map(String.init).joined(separator: ",") + "]",
                ])
            var claimed: [ClaimedJob] = []
            // A batch is often many jobs of a few payers: each is read once.
            var payers: [String: Result<PayerProfile, PayerUnusable>] = [:]
            for row in rows {
                let job = Self.job(from: row)
                try Self.record(db, &events, job: job, kind: .claimed, detail: ["worker": .string(owner)])
                if let problem = try RowValue.jobProblem(
                    row, hasNul: RowValue.integer(row, "nul_bytes") == 1,
                    rawText: { column in
                        try Data.fetchOne(
                            db, sql: "SELECT CAST(\(column) AS BLOB) FROM jobs WHERE id = ?", arguments: [job.id])
                    })
                {
                    try Self.failUnusableRow(db, &events, job: job, problem: problem)
                    continue
                }
                let payer =
                    try payers[job.payerRef] ?? Self.storedPayer(ref: job.payerRef, db)
                    ?? .failure(PayerUnusable(message: "payer \(job.payerRef) does not exist"))
                payers[job.payerRef] = payer
                claimed.append(ClaimedJob(job: job, payer: payer))
            }
            return claimed.sorted {
                ($0.job.priority, $1.job.runAt, $1.job.id) > ($1.job.priority, $0.job.runAt, $0.job.id)
            }
        }
    }

    /// The highest priority among queued jobs. Queued jobs whose priority is not an integer
    /// (written by SQL: `'high'`, `1.5`) are failed first, naming the column: they would
    /// otherwise stand above every other job and stop the queue.
    static func highestPriority(_ db: Database, _ events: inout [DeliveryEvent]) throws -> Int? {
        let sql = "SELECT max(priority) FROM jobs INDEXED BY jobs_due WHERE state = 'queued'"
        let value = try DatabaseValue.fetchOne(db.cachedStatement(sql: sql)) ?? .null
        switch value.storage {
        case .null: return nil
        case .int64(let number): return Int(number)
        default:
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'running', attempt = attempt + 1, updated_at = \(clockNow)
                    WHERE state = 'queued' AND typeof(priority) != 'integer' RETURNING *
                    """)
            for row in rows {
                let priority: DatabaseValue = row["priority"]
                try failUnusableRow(
                    db, &events, job: job(from: row),
                    problem: "column priority: \(RowValue.describe(priority)) is not an integer")
            }
            let again = try DatabaseValue.fetchOne(db.cachedStatement(sql: sql)) ?? .null
            if case .int64(let number) = again.storage { return Int(number) }
            return nil
        }
    }

    /// Fails a claimed job whose row cannot be used as it is (written by SQL), with the
    /// column and the rule in `last_error` and a `permanent_error` event.
    static func failUnusableRow(_ db: Database, _ events: inout [DeliveryEvent], job: Job, problem: String) throws {
        let message = "unusable row: \(problem)"
        try db.execute(
            sql: """
                UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                  finished_at = \(clockNow), updated_at = \(clockNow)
                WHERE id = ?
                """, arguments: [message, job.id])
        try record(
            db, &events, job: job, kind: .permanentError, detail: ["reason": "data", "message": .string(message)])
    }

    public func beginDispatch(_ job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue) async throws
        -> DispatchPermission
    {
        try await transaction { db, events in
            try Self.beginDispatch(db, &events, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
        }
    }

    public func complete(
        _ done: Job, outcome: DispatchOutcome, retry: RetryPolicy, random: Double, thenBeginDispatch job: Job,
        owner: String, leaseSeconds: Double, rendered: JSONValue
    ) async throws -> (completed: Bool, permission: DispatchPermission) {
        try await transaction { db, events in
            let completed = try self.complete(
                db, &events, job: done, owner: owner, outcome: outcome, retry: retry, random: random)
            let permission = try Self.beginDispatch(
                db, &events, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
            return (completed, permission)
        }
    }

    static func beginDispatch(
        _ db: Database, _ events: inout [DeliveryEvent], job: Job, owner: String, leaseSeconds: Double,
        rendered: JSONValue
    ) throws -> DispatchPermission {
        // The usual case in one statement: the job is still ours and not cancelled.
        try db.executeCached(
            sql: """
                UPDATE jobs SET dispatch_started_at = \(clockNow), updated_at = \(clockNow),
                  lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?)
                WHERE id = ? AND state = 'running' AND attempt = ? AND lease_owner = ? AND cancel_reason IS NULL
                  AND lease_expires_at >= \(clockNow)
                """, arguments: [Self.modifier(seconds: leaseSeconds), job.id, job.attempt, owner])
        if db.changesCount == 0 {
            // Not ours any more, or cancelled since the claim: look at which.
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT state, attempt, lease_owner, cancel_reason FROM jobs WHERE id = ?"),
                    arguments: [job.id]),
                row["state"] == "running", row["attempt"] == job.attempt, row["lease_owner"] == owner,
                let reason: String = row["cancel_reason"]
            else { return .leaseLost }
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = \(clockNow), updated_at = \(clockNow) WHERE id = ?
                    """, arguments: [job.id])
            var detail: [String: JSONValue] = ["reason": .string(reason), "checked": "before dispatch"]
            if reason.hasPrefix("merged:") {
                // Merged into another job's message (one letter per payer).
                detail["reason"] = "merged"
                detail["into_job"] = .number(String(reason.dropFirst("merged:".count)))
            }
            try Self.record(db, &events, job: job, kind: .cancelled, detail: detail)
            return .cancelled(reason: reason)
        }
        try Self.record(db, &events, job: job, kind: .rendered, detail: rendered.objectValue ?? [:])
        try Self.record(db, &events, job: job, kind: .dispatching)
        return .proceed
    }

    public func complete(_ job: Job, owner: String, outcome: DispatchOutcome, retry: RetryPolicy, random: Double)
        async throws -> Bool
    {
        try await transaction { db, events in
            try self.complete(db, &events, job: job, owner: owner, outcome: outcome, retry: retry, random: random)
        }
    }

    func complete(
        _ db: Database, _ events: inout [DeliveryEvent], job: Job, owner: String, outcome: DispatchOutcome,
        retry: RetryPolicy, random: Double
    ) throws -> Bool {
        let ours = """
            WHERE id = ? AND attempt = ? AND state = 'running' AND lease_owner = ?
            """
        let key: StatementArguments = [job.id, job.attempt, owner]
        if case .accepted = outcome {
        } else if let reported = try String.fetchOne(
            db.cachedStatement(sql: "SELECT reported_state FROM jobs \(ours) AND reported_state IS NOT NULL"),
            arguments: key)
        {
            // The gateway already reported this attempt: whatever its answer said, the
            // message left. Record the answer, keep the reported state, never resend.
            guard let failure = outcome.failure else { return false }
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = reported_state, last_error = ?, lease_owner = NULL,
                      lease_expires_at = NULL, finished_at = \(clockNow), updated_at = \(clockNow) \(ours)
                    """, arguments: [failure.message] + key)
            guard db.changesCount == 1 else { return false }
            var detail = Self.detail(failure)
            detail["already_reported"] = .string(reported)
            try Self.record(db, &events, job: job, kind: .accepted, detail: detail)
            return true
        }
        // The sweeper may have found the lease expired after dispatch started and made the
        // job `uncertain` before the worker's answer came: a definitive answer for that
        // same attempt is still the truth, and is recorded.
        let settledBySweeper = """
            WHERE id = ? AND attempt = ? AND state = 'uncertain' AND dispatch_started_at IS NOT NULL
            """
        let attemptKey: StatementArguments = [job.id, job.attempt]
        switch outcome {
        case .accepted(let response):
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = coalesce(reported_state, 'sent'), provider_ref = coalesce(?, provider_ref),
                      last_error = NULL, lease_owner = NULL,
                      lease_expires_at = NULL, finished_at = \(clockNow), updated_at = \(clockNow) \(ours)
                    """, arguments: [response.providerRef] + key)
            var detail = Self.detail(response)
            if db.changesCount == 0 {
                try db.executeCached(
                    sql: """
                        UPDATE jobs SET state = coalesce(reported_state, 'sent'), provider_ref = coalesce(?, provider_ref),
                          last_error = NULL, finished_at = \(clockNow), updated_at = \(clockNow) \(settledBySweeper)
                        """, arguments: [response.providerRef] + attemptKey)
                guard db.changesCount == 1 else { return false }
                detail["late"] = "the answer came after the lease expired; it settles the uncertain job"
            }
            try Self.record(db, &events, job: job, kind: .accepted, detail: detail)
        case .permanent(let failure):
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = \(clockNow), updated_at = \(clockNow) \(ours)
                    """, arguments: [failure.message] + key)
            var detail = Self.detail(failure)
            if db.changesCount == 0 {
                try db.executeCached(
                    sql: """
                        UPDATE jobs SET state = 'failed', last_error = ?, finished_at = \(clockNow),
                          updated_at = \(clockNow) \(settledBySweeper) AND reported_state IS NULL
                        """, arguments: [failure.message] + attemptKey)
                guard db.changesCount == 1 else { return false }
                detail["late"] = "the answer came after the lease expired; it settles the uncertain job"
            }
            try Self.record(db, &events, job: job, kind: .permanentError, detail: detail)
        case .uncertain(let failure):
            // Handed over, no definitive answer: never retried, whatever the lease.
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = 'uncertain', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = \(clockNow), updated_at = \(clockNow) \(ours)
                    """, arguments: [failure.message] + key)
            var detail = Self.detail(failure)
            if db.changesCount == 0 {
                // Already uncertain (the sweeper was first): keep the worker's words.
                guard
                    try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT 1 FROM jobs \(settledBySweeper)"), arguments: attemptKey)
                        != nil
                else { return false }
                detail["late"] = "the worker's account, after the sweeper had made the job uncertain"
            }
            try Self.record(db, &events, job: job, kind: .uncertain, detail: detail)
        case .transient(let failure):
            // A worker whose lease expired after dispatch started does not put the job back
            // in the queue: the message may be on its way whatever the worker thinks.
            let leaseHeld = "AND (dispatch_started_at IS NULL OR lease_expires_at >= \(clockNow))"
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = 'uncertain', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = \(clockNow), updated_at = \(clockNow)
                    \(ours) AND dispatch_started_at IS NOT NULL AND lease_expires_at < \(clockNow)
                    """,
                arguments: [
                    "lease expired before the worker recorded its outcome (\(failure.message)): the message may have been sent; an operator must decide"
                ] + key)
            if db.changesCount == 1 {
                var detail = Self.detail(failure)
                detail["lease_expired"] = true
                try Self.record(db, &events, job: job, kind: .uncertain, detail: detail)
                return true
            }
            let age = Timestamp.date(from: job.dueAt).map { self.clock.now().timeIntervalSince($0) } ?? 0
            let decision = retry.decision(
                afterAttempt: job.attempt, maxAttemptsOverride: job.maxAttempts, age: max(age, 0), unit: random)
            switch decision {
            case .retry(let delay):
                try db.executeCached(
                    sql: """
                        UPDATE jobs SET state = 'queued', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                          dispatch_started_at = NULL,
                          run_at = strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?), updated_at = \(clockNow)
                          \(ours) \(leaseHeld)
                        """, arguments: [failure.message, Self.modifier(seconds: delay)] + key)
                guard db.changesCount == 1 else { return false }
                var detail = Self.detail(failure)
                // Canonical number text (milliseconds precision), as it reads back from the table.
                detail["retry_in_seconds"] = .number((Decimal(Int((delay * 1000).rounded())) / 1000).description)
                try Self.record(db, &events, job: job, kind: .transientError, detail: detail)
            case .giveUp(let reason):
                try db.executeCached(
                    sql: """
                        UPDATE jobs SET state = 'dead', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                          finished_at = \(clockNow), updated_at = \(clockNow) \(ours) \(leaseHeld)
                        """, arguments: ["\(failure.message) (gave up: \(reason))"] + key)
                guard db.changesCount == 1 else { return false }
                try Self.record(db, &events, job: job, kind: .transientError, detail: Self.detail(failure))
                try Self.record(db, &events, job: job, kind: .dead, detail: ["reason": .string(reason)])
            }
        }
        return true
    }

    public func release(_ jobs: [Job], owner: String, reason: String) async throws {
        guard !jobs.isEmpty else { return }
        try await transaction { db, events in
            for job in jobs {
                // The attempt was never used: give it back.
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_owner = NULL,
                          lease_expires_at = NULL, updated_at = \(clockNow)
                        WHERE id = ? AND attempt = ? AND state = 'running' AND lease_owner = ? AND dispatch_started_at IS NULL
                        """, arguments: [job.id, job.attempt, owner])
                if db.changesCount == 1 {
                    try Self.record(db, &events, job: job, kind: .deferred, detail: ["reason": .string(reason)])
                }
            }
        }
    }

    public func postpone(_ job: Job, owner: String, until: String, detail: [String: JSONValue]) async throws -> Bool {
        try await transaction { db, events in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_owner = NULL,
                      lease_expires_at = NULL, run_at = ?, due_at = ?, updated_at = \(clockNow)
                    WHERE id = ? AND attempt = ? AND state = 'running' AND lease_owner = ? AND dispatch_started_at IS NULL
                    """, arguments: [until, until, job.id, job.attempt, owner])
            guard db.changesCount == 1 else { return false }
            var detail = detail
            detail["until"] = .string(until)
            try Self.record(db, &events, job: job, kind: .deferred, detail: detail)
            return true
        }
    }

    public func report(_ report: DeliveryReport) async throws -> ReportOutcome {
        try await transaction { db, events in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [report.jobID])
            else { return .unknownJob }
            let job = Self.job(from: row)
            let target: JobState = report.delivered ? .delivered : .undelivered
            guard job.attempt == report.attempt else {
                return .rejected("the report is for attempt \(report.attempt); the job is at attempt \(job.attempt)")
            }
            if let known = job.providerRef, let given = report.providerRef, known != given {
                return .rejected("the report names provider message \(given); the job was sent as \(known)")
            }
            // A message sent in several parts (SMS segments) may get a report per part (Kannel
            // behind an SMSC that splits it), or one for the whole (a gateway that does not
            // split, Twilio), with nothing saying which: the first `delivered` report makes it
            // delivered, and any `undelivered` one makes it undelivered, even after that. An
            // undelivered part is never hidden, and every part's report stays in the trace.
            let parts =
                try Int.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT json_extract(detail, '$.segments') FROM delivery_events
                            WHERE job_id = ? AND attempt = ? AND event = 'rendered' ORDER BY id DESC LIMIT 1
                            """), arguments: [job.id, job.attempt]) ?? 1
            if report.delivered && job.state == .undelivered {
                // Delivered after a part (or the whole) was reported undelivered: kept in the
                // trace, the state stays.
                var detail = report.detail
                if parts > 1 { detail["parts"] = .number(String(parts)) }
                try Self.record(db, &events, job: job, kind: .delivered, detail: detail)
                return .duplicate(.undelivered)
            }
            if job.state == .delivered && !report.delivered {
                // A later part (or a corrected report) says undelivered: never hidden.
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'undelivered', updated_at = \(clockNow)
                        WHERE id = ? AND attempt = ? AND state = 'delivered'
                        """, arguments: [job.id, job.attempt])
                var detail = report.detail
                detail["was"] = "delivered"
                if parts > 1 { detail["parts"] = .number(String(parts)) }
                try Self.record(db, &events, job: job, kind: .undelivered, detail: detail)
                return .applied(.undelivered)
            }
            if job.state == target {
                if parts > 1 {
                    // Another part's report of the same kind: kept in the trace.
                    var detail = report.detail
                    detail["parts"] = .number(String(parts))
                    try Self.record(
                        db, &events, job: job, kind: report.delivered ? .delivered : .undelivered, detail: detail)
                }
                return .duplicate(target)
            }
            if job.state == .running && job.dispatchStartedAt != nil {
                // The report overtook the worker: keep it; the outcome applies it.
                let held: String? = row["reported_state"]
                if held == target.rawValue { return .duplicate(target) }
                try db.execute(
                    sql: """
                        UPDATE jobs SET reported_state = ?, provider_ref = coalesce(provider_ref, ?),
                          updated_at = \(clockNow)
                        WHERE id = ? AND attempt = ? AND state = 'running'
                        """, arguments: [target.rawValue, report.providerRef, job.id, job.attempt])
                var detail = report.detail
                detail["before_outcome"] = true
                try Self.record(
                    db, &events, job: job, kind: report.delivered ? .delivered : .undelivered, detail: detail)
                return .applied(target)
            }
            guard job.state == .sent || job.state == .uncertain else {
                return .rejected("job \(job.id) is \(job.state.rawValue); only a sent job takes a delivery report")
            }
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, provider_ref = coalesce(provider_ref, ?),
                      finished_at = \(clockNow), updated_at = \(clockNow)
                    WHERE id = ? AND attempt = ? AND state = ?
                    """, arguments: [target.rawValue, report.providerRef, job.id, job.attempt, job.state.rawValue])
            guard db.changesCount == 1 else { return .rejected("job \(job.id) changed meanwhile") }
            var detail = report.detail
            if job.state == .uncertain { detail["was"] = .string("uncertain") }
            try Self.record(db, &events, job: job, kind: report.delivered ? .delivered : .undelivered, detail: detail)
            return .applied(target)
        }
    }

    public func sweep(maxAge: Double, maxAttempts: Int?) async throws -> SweepResult {
        try await transaction { db, events in
            var result = SweepResult()
            let expired = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET
                      state = CASE
                        WHEN dispatch_started_at IS NOT NULL THEN coalesce(reported_state, 'uncertain')
                        WHEN attempt >= COALESCE(max_attempts, :limit) THEN 'dead'
                        ELSE 'queued' END,
                      lease_owner = NULL, lease_expires_at = NULL, updated_at = \(clockNow),
                      finished_at = CASE WHEN dispatch_started_at IS NOT NULL
                        OR attempt >= COALESCE(max_attempts, :limit) THEN \(clockNow) END,
                      last_error = CASE WHEN dispatch_started_at IS NOT NULL AND reported_state IS NULL
                        THEN 'lease expired after dispatch started: the message may have been sent; an operator must decide'
                        ELSE last_error END
                    WHERE state = 'running' AND lease_expires_at < \(clockNow)
                    RETURNING *
                    """, arguments: ["limit": maxAttempts ?? Int.max])
            for row in expired {
                let job = Self.job(from: row)
                switch job.state {
                case .delivered, .undelivered:
                    // Lost after dispatch, but the gateway's report already settled it.
                    try Self.record(
                        db, &events, job: job, kind: .rescued,
                        detail: [
                            "reason": "lease expired after dispatch; the delivery report already received decides",
                            "state": .string(job.state.rawValue),
                        ])
                case .uncertain:
                    result.uncertain += 1
                    try Self.record(
                        db, &events, job: job, kind: .uncertain,
                        detail: ["reason": "lease expired after dispatch started; the message may have been sent"])
                case .dead:
                    result.dead += 1
                    try Self.record(
                        db, &events, job: job, kind: .dead,
                        detail: [
                            "reason": .string(
                                "lease expired on every attempt (\(job.attempt)); the job may crash workers")
                        ])
                default:
                    result.requeued += 1
                    try Self.record(
                        db, &events, job: job, kind: .rescued, detail: ["reason": "lease expired before dispatch"])
                }
            }
            let old = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'dead', finished_at = \(clockNow), updated_at = \(clockNow),
                      last_error = 'not sent within the maximum age: due ' || due_at
                    WHERE state = 'queued' AND due_at < strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?)
                    RETURNING *
                    """, arguments: [Self.modifier(seconds: -maxAge)])
            for row in old {
                result.dead += 1
                let job = Self.job(from: row)
                try Self.record(
                    db, &events, job: job, kind: .dead,
                    detail: ["reason": .string("older than the maximum age of \(Int(maxAge)) s")])
            }
            return result
        }
    }

    public func resolve(jobID: Int64, decision: OperatorDecision, note: String, force: Bool) async throws -> Job? {
        let budget = defaultMaxAttempts
        return try await transaction { db, events in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]) else {
                return nil
            }
            let job = Self.job(from: row)
            // Only settled jobs: a queued or running one belongs to the dispatcher.
            guard job.state.isFinished else {
                throw OperatorError(
                    message: "job \(jobID) is \(job.state.rawValue); only a finished job can be resolved")
            }
            if !force, let reason = decision.refusal(for: job.state) {
                throw OperatorError(
                    message:
                        "job \(jobID) is \(job.state.rawValue): \(reason); add --force to \(decision.rawValue) it all the same"
                )
            }
            let detail: [String: JSONValue] = [
                "by": "operator", "note": .string(note), "previous_state": .string(job.state.rawValue),
            ]
            switch decision {
            case .requeue:
                // A fresh attempt budget, due now.
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'queued', run_at = \(clockNow), due_at = \(clockNow),
                          max_attempts = attempt + ?, dispatch_started_at = NULL,
                          cancel_reason = NULL, finished_at = NULL, updated_at = \(clockNow) WHERE id = ?
                        """, arguments: [budget, jobID])
                try Self.record(db, &events, job: job, kind: .rescued, detail: detail)
            case .markSent:
                try db.execute(
                    sql: "UPDATE jobs SET state = 'sent', last_error = NULL, updated_at = \(clockNow) WHERE id = ?",
                    arguments: [jobID])
                try Self.record(db, &events, job: job, kind: .accepted, detail: detail)
            case .cancel:
                try db.execute(
                    sql:
                        "UPDATE jobs SET state = 'cancelled', cancel_reason = CASE WHEN state = 'cancelled' THEN cancel_reason ELSE 'manual' END, updated_at = \(clockNow) WHERE id = ?",
                    arguments: [jobID])
                try Self.record(db, &events, job: job, kind: .cancelled, detail: detail)
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]).map(Self.job(from:))
        }
    }

    public func cancelCase(_ caseRef: String, reason: String) async throws -> CaseCancellation {
        try await transaction { db, events in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'cancelled', cancel_reason = ?, finished_at = \(clockNow),
                      updated_at = \(clockNow)
                    WHERE case_ref = ? AND state = 'queued' RETURNING *
                    """, arguments: [reason, caseRef])
            for row in rows {
                try Self.record(
                    db, &events, job: Self.job(from: row), kind: .cancelled, detail: ["reason": .string(reason)])
            }
            // Claimed but not yet dispatching: the worker sees this flag just before dispatch.
            try db.execute(
                sql: """
                    UPDATE jobs SET cancel_reason = ?, updated_at = \(clockNow)
                    WHERE case_ref = ? AND state = 'running' AND dispatch_started_at IS NULL
                    """, arguments: [reason, caseRef])
            return CaseCancellation(cancelled: rows.count, inFlight: db.changesCount)
        }
    }

    public func prune(retention: Double, batch: Int) async throws -> Int {
        try await transaction { db, _ in
            let cutoff = Self.modifier(seconds: -retention)
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM jobs WHERE finished_at IS NOT NULL
                      AND finished_at < strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?) LIMIT ?
                    """, arguments: [cutoff, batch])
            guard !ids.isEmpty else { return 0 }
            let list = ids.map(String.init).joined(separator: ",")
            try db.execute(sql: "DELETE FROM delivery_events WHERE job_id IN (\(list))")
            try db.execute(sql: "DELETE FROM jobs WHERE id IN (\(list))")
            return ids.count
        }
    }

    // MARK: reading

    public func job(id: Int64) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job(from:))
        }
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await pool.read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let state = filter.state { clauses.append("state = ?"); arguments += [state.rawValue] }
            if let caseRef = filter.caseRef { clauses.append("case_ref = ?"); arguments += [caseRef] }
            if let payerRef = filter.payerRef { clauses.append("payer_ref = ?"); arguments += [payerRef] }
            if let after = filter.afterID { clauses.append("id > ?"); arguments += [after] }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            arguments += [filter.limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM jobs \(whereSQL) ORDER BY id LIMIT ?", arguments: arguments)
                .map(Self.job(from:))
        }
    }

    public func events(jobID: Int64) async throws -> [DeliveryEvent] {
        try await events(after: 0, filter: EventFilter(jobID: jobID), limit: 10_000)
    }

    public func events(after afterID: Int64, filter: EventFilter, limit: Int) async throws -> [DeliveryEvent] {
        try await pool.read { db in
            var clauses = ["id > ?"]
            var arguments: StatementArguments = [afterID]
            if let caseRef = filter.caseRef { clauses.append("case_ref = ?"); arguments += [caseRef] }
            if let channel = filter.channel { clauses.append("channel = ?"); arguments += [channel] }
            if let jobID = filter.jobID { clauses.append("job_id = ?"); arguments += [jobID] }
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM delivery_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY id LIMIT ?",
                arguments: arguments
            ).map(Self.event(from:))
        }
    }

    public func workload() async throws -> Workload {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT
                      (SELECT count(*) FROM jobs WHERE state = 'queued' AND run_at <= \(clockNow)) AS due,
                      (SELECT count(*) FROM jobs WHERE state = 'running') AS running,
                      (SELECT count(*) FROM jobs WHERE state = 'queued' AND run_at > \(clockNow)) AS scheduled,
                      (SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at > \(clockNow)) AS next_run_at
                    """)!
            return Workload(
                due: row["due"], running: row["running"], scheduled: row["scheduled"], nextRunAt: row["next_run_at"])
        }
    }

    /// Takes the write lock and lets it go: proves the file is writable now (readiness).
    public func checkWritable() async throws {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "ROLLBACK")
        }
    }

    public func statistics() async throws -> QueueStatistics {
        try await pool.read { db in
            var jobs: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, channel, count(*) AS n FROM jobs GROUP BY state, channel")
            {
                jobs[row["state"] ?? "", default: [:]][row["channel"] ?? ""] = row["n"]
            }
            let age =
                try Double.fetchOne(
                    db,
                    sql: """
                        SELECT (julianday(\(clockNow)) - julianday(min(run_at))) * 86400.0 FROM jobs
                        WHERE state = 'queued' AND run_at <= \(clockNow)
                        """) ?? 0
            return QueueStatistics(jobs: jobs, oldestDueAge: max(age, 0))
        }
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

    static func detail(_ response: ProviderResponse) -> [String: JSONValue] {
        var detail = response.detail
        if let code = response.code { detail["code"] = .number(String(code)) }
        detail["response"] = .string(response.text)
        if let ref = response.providerRef { detail["provider_ref"] = .string(ref) }
        return detail
    }

    static func detail(_ failure: DispatchFailure) -> [String: JSONValue] {
        var detail: [String: JSONValue] = ["reason": .string(failure.reason), "message": .string(failure.message)]
        if let code = failure.code { detail["code"] = .number(String(code)) }
        if let enhanced = failure.enhancedCode { detail["enhanced_code"] = .string(enhanced) }
        return detail
    }

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
