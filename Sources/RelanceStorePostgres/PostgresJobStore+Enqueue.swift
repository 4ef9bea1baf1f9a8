import Foundation
import RelanceCore
import RelanceStore

/// Schema, enqueue and payers.
extension PostgresJobStore {
    @discardableResult
    public func migrate() async throws -> [String] {
        let schema = self.schema
        return try await withDirectSession { session in
            try await session.query("BEGIN")
            do {
                // One node at a time; the others wait, then find nothing left to apply.
                try await session.query(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", [.text(PostgresSchema.migrationLock(schema))])
                try await session.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
                try await session.query(
                    """
                    CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                      name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """)
                let applied = Set(
                    try await session.query("SELECT name FROM \(schema).schema_migrations").compactMap {
                        $0.text("name")
                    })
                var done: [String] = []
                for migration in PostgresSchema.migrations(schema: schema) where !applied.contains(migration.name) {
                    for statement in PostgresSchema.statements(migration.sql) { try await session.query(statement) }
                    try await session.query(
                        "INSERT INTO \(schema).schema_migrations(name) VALUES ($1)", [.text(migration.name)])
                    if migration.name == "p4-bank-lines" { try await Self.giveReferences(session, schema: schema) }
                    done.append(migration.name)
                }
                try await session.query("COMMIT")
                return done
            } catch {
                await session.rollback(after: error)
                throw error
            }
        }
    }

    public func isMigrated() async throws -> Bool {
        let schema = self.schema
        return try await withDirectSession { session in
            guard
                try await session.one(
                    "SELECT to_regclass($1) IS NOT NULL AS here", [.text("\(schema).schema_migrations")])?
                    .bool("here") == true
            else { return false }
            let applied = Set(
                try await session.query("SELECT name FROM \(schema).schema_migrations").compactMap { $0.text("name") })
            return PostgresSchema.migrations(schema: schema).allSatisfy { applied.contains($0.name) }
        }
    }

    /// Proves the database takes writes now: a transaction id is assigned (a standby in
    /// recovery, or a server shutting down, refuses).
    public func checkWritable() async throws {
        try await transaction { tx in _ = try await tx.query("SELECT txid_current()") }
    }

    /// Nothing to do: PostgreSQL looks after its own files.
    public func housekeep() async throws {}

    // MARK: enqueue

    public func enqueue(
        _ jobs: [NewJob], payers: [PayerProfile],
        check: @escaping @Sendable (_ storedPayer: (String) throws -> PayerProfile?) -> [FieldError]
    ) async throws -> [EnqueueResult] {
        let wantsEvents = enqueueEvents
        return try await retryingUniqueViolation {
            try await self.transaction { tx in
                // The stored payers the check may ask for, locked until the commit: no other
                // writer changes one between the check and the insert.
                let refs = Array(Set(jobs.map(\.payerRef) + payers.map(\.ref)))
                var stored: [String: PayerProfile] = [:]
                for row in try await tx.query(
                    "SELECT * FROM payers WHERE ref = ANY($1::text[]) FOR SHARE", [.texts(refs)])
                {
                    let ref = row.text("ref") ?? ""
                    if case .success(let profile) = PayerRow.profile(ref: ref, text: row.text) { stored[ref] = profile }
                }
                let errors = check { ref in stored[ref] }
                if !errors.isEmpty { throw InvalidFields(errors) }
                for payer in payers { try await Self.upsertPayer(payer, tx) }
                return try await Self.insertJobs(jobs, tx, wantsEvents: wantsEvents)
            }
        }
    }

    var enqueueEvents: Bool? { eventSink == nil ? nil : sinkEnqueued }

    /// Runs `body` again (twice at most) when it failed on a unique key another
    /// transaction inserted meanwhile (the same idempotency key, the same payer).
    func retryingUniqueViolation<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as PostgresStoreError where error.sqlState == "23505" && attempt < 2 {
                attempt += 1
            }
        }
    }

    /// Inserts jobs (skipping those whose idempotency key exists) in one statement.
    /// `wantsEvents`: nil for none, false for all but `enqueued`, true for all.
    static func insertJobs(_ jobs: [NewJob], _ tx: PGTransaction, wantsEvents: Bool?) async throws -> [EnqueueResult] {
        guard !jobs.isEmpty else { return [] }
        var existing: [String: EnqueueResult] = [:]
        let keys = jobs.compactMap(\.idempotencyKey)
        if !keys.isEmpty {
            for row in try await tx.query(
                "SELECT idempotency_key, id, state FROM jobs WHERE idempotency_key = ANY($1::text[])", [.texts(keys)])
            {
                existing[row.text("idempotency_key") ?? ""] = EnqueueResult(
                    id: row.int64("id"), state: JobState(rawValue: row.text("state") ?? "") ?? .queued, created: false)
            }
        }
        // New jobs, each key once (a batch repeating a key gets the first one's id).
        var fresh: [NewJob] = []
        var seen: Set<String> = []
        for job in jobs {
            if let key = job.idempotencyKey {
                if existing[key] != nil || seen.contains(key) { continue }
                seen.insert(key)
            }
            fresh.append(job)
        }
        var ids: [Int64] = []
        var failed: Set<Int64> = []
        if !fresh.isEmpty {
            let items: [JSONValue] = fresh.map { job in
                .object([
                    "idempotency_key": job.idempotencyKey.map(JSONValue.string) ?? .null,
                    "payer_ref": .string(job.payerRef), "case_ref": job.caseRef.map(JSONValue.string) ?? .null,
                    "channel": .string(job.channel.rawValue), "template": .string(job.template),
                    "run_at": job.runAt.map(JSONValue.string) ?? .null,
                    // The usual ISO 8601 instant, read here: the SQL then casts it, and only
                    // other texts go through relance_try_instant (an exception block: a
                    // subtransaction per row).
                    "at": job.runAt.flatMap(Timestamp.strictInstant).map { .string(Timestamp.string(from: $0)) }
                        ?? .null,
                    "priority": .number(String(job.priority)),
                ])
            }
            // A run_at that names no instant fails its job at once, with the text in the
            // error, as on SQLite; the others are stored on the database's clock. jsonb:
            // parsed once (with json, each ->> reads its element's text again, eight times
            // a job). The data texts, the bulk, come apart in a text array ($2): neither
            // escaped into the JSON here nor unescaped there.
            let rows = try await tx.query(
                """
                WITH items AS (
                  SELECT j, n, j->>'run_at' AS given,
                    CASE WHEN j->>'at' IS NOT NULL THEN (j->>'at')::timestamptz
                      WHEN j->>'run_at' IS NOT NULL THEN relance_try_instant(j->>'run_at') END AS at
                  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS items(j, n))
                INSERT INTO jobs(idempotency_key, payer_ref, case_ref, channel, template, data, run_at, due_at, priority,
                  state, finished_at, last_error)
                SELECT j->>'idempotency_key', j->>'payer_ref', j->>'case_ref', j->>'channel', j->>'template',
                  ($2::text[])[n], coalesce(at, relance_now()), coalesce(at, relance_now()), (j->>'priority')::integer,
                  CASE WHEN given IS NOT NULL AND at IS NULL THEN 'failed' ELSE 'queued' END,
                  CASE WHEN given IS NOT NULL AND at IS NULL THEN relance_now() END,
                  CASE WHEN given IS NOT NULL AND at IS NULL THEN 'run_at ' || quote_literal(given)
                    || ' is not a date (use ISO 8601, e.g. 2026-11-23T09:00:00Z)' END
                FROM items ORDER BY n
                RETURNING id, state, attempt, case_ref, channel, last_error
                """, [.text(JSONValue.array(items).postgresText), .texts(fresh.map(\.data))]
            ).sorted { $0.int64("id") < $1.int64("id") }
            for row in rows {
                // What the trace needs (the whole row, `data` included, would come back for
                // every job of the batch).
                let job = Self.job(from: row)
                ids.append(job.id)
                if job.state == .failed {
                    failed.insert(job.id)
                    tx.record(
                        job, kind: .permanentError,
                        detail: [
                            "reason": .string(FailureReason.data.rawValue), "message": .string(job.lastError ?? ""),
                        ])
                }
            }
        }
        var results: [EnqueueResult] = []
        var next = ids.makeIterator()
        var firstOfKey: [String: EnqueueResult] = [:]
        for job in jobs {
            if let key = job.idempotencyKey {
                if let known = existing[key] ?? firstOfKey[key] {
                    results.append(EnqueueResult(id: known.id, state: known.state, created: false))
                    continue
                }
                let id = next.next() ?? 0
                let result = EnqueueResult(id: id, state: failed.contains(id) ? .failed : .queued, created: true)
                firstOfKey[key] = result
                results.append(result)
            } else {
                let id = next.next() ?? 0
                results.append(EnqueueResult(id: id, state: failed.contains(id) ? .failed : .queued, created: true))
            }
        }
        if wantsEvents == true, !ids.isEmpty {
            // The trigger wrote the `enqueued` events; hand them to the sink like any other.
            tx.written += try await tx.query(
                """
                SELECT \(eventColumns) FROM delivery_events WHERE job_id = ANY($1::bigint[]) AND attempt = 0
                ORDER BY job_id, id
                """, [.ints(ids)]
            ).map(Self.event(from:))
        }
        return results
    }

    // MARK: payers

    @discardableResult
    public func upsertPayer(_ payer: PayerProfile) async throws -> Bool {
        try await retryingUniqueViolation {
            try await transaction { tx in try await Self.upsertPayer(payer, tx) }
        }
    }

    /// Creates or replaces the payer; true when it did not exist (decided by the write).
    @discardableResult
    static func upsertPayer(_ payer: PayerProfile, _ tx: PGTransaction) async throws -> Bool {
        // Phone numbers are stored in E.164 (06 12 34 56 78 for fr-FR → +33612345678).
        let payer = payer.normalized()
        let address = payer.postalAddressJSON
        // A suppressed contact point is usable again once the profile changes it.
        try await tx.query(
            """
            DELETE FROM suppressions WHERE payer_ref = $1 AND (
              (channel = 'email' AND contact IS DISTINCT FROM $2) OR (channel = 'sms' AND contact IS DISTINCT FROM $3)
              OR (channel = 'letter' AND contact IS DISTINCT FROM $4))
            """, [.text(payer.ref), .text(payer.email), .text(payer.phone), .text(address)])
        let channels = JSONValue.array(payer.channels.map { .string($0.rawValue) }).jsonText
        let row = try await tx.one(
            """
            INSERT INTO payers(ref, name, locale, timezone, segment, email, phone, postal_address, channels, kind)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (ref) DO UPDATE SET
              name = excluded.name, locale = excluded.locale, timezone = excluded.timezone,
              segment = excluded.segment, email = excluded.email, phone = excluded.phone,
              postal_address = excluded.postal_address, channels = excluded.channels, kind = excluded.kind,
              updated_at = relance_now()
            RETURNING (xmax = 0) AS inserted
            """,
            [
                .text(payer.ref), .text(payer.name), .text(payer.locale), .text(payer.timezone), .text(payer.segment),
                .text(payer.email), .text(payer.phone), .text(address), .text(channels), .text(payer.kind.rawValue),
            ])
        return row?.bool("inserted") ?? false
    }

    public func payer(ref: String) async throws -> PayerProfile? {
        try await withSession { session in
            guard let row = try await session.one("SELECT * FROM payers WHERE ref = $1", [.text(ref)]) else {
                return nil
            }
            return try PayerRow.profile(ref: ref, text: row.text).get()
        }
    }

    public func suppressedChannels(payerRef: String) async throws -> Set<Channel> {
        try await withSession { session in
            Set(
                try await session.query("SELECT channel FROM suppressions WHERE payer_ref = $1", [.text(payerRef)])
                    .compactMap { $0.text("channel").flatMap(Channel.init(rawValue:)) })
        }
    }
}
