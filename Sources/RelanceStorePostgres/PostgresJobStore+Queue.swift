import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore

/// The queue: claim, begin dispatch, outcomes, release, postpone. The same rules as
/// `SQLiteJobStore+Queue.swift`, in PostgreSQL's words; every comparison with "now" is
/// made with `relance_now()`, the database's clock.
extension PostgresJobStore {
    public func claim(owner: String, limit: Int, leaseSeconds: Double) async throws -> [ClaimedJob] {
        try await transaction { tx in
            // The priority levels of the queued jobs, highest first (a loose index scan):
            // each level is then an index range of due jobs, so that jobs scheduled for
            // later, however many, cost nothing.
            let levels = try await tx.query(ClaimLevels.sql).compactMap { $0.int("p") }
            var rows: [PGRow] = []
            for priority in levels where rows.count < limit {
                // SKIP LOCKED: rows another node is claiming right now are not waited for.
                rows += try await tx.query(
                    ClaimLevel.self, [.text(owner), .int(priority), .int(limit - rows.count), .double(leaseSeconds)])
            }
            guard !rows.isEmpty else { return [] }
            let refs = Array(Set(rows.compactMap { $0.text("payer_ref") }))
            var payers: [String: Result<PayerProfile, PayerUnusable>] = [:]
            for row in try await tx.query(PayersByRef.self, [.texts(refs)]) {
                let ref = row.text("ref") ?? ""
                payers[ref] = PayerRow.profile(ref: ref, text: row.text)
            }
            var claimed: [ClaimedJob] = []
            for row in rows {
                let job = Self.job(from: row)
                tx.record(job, kind: .claimed, detail: ["worker": .string(owner)])
                if let problem = Self.jobProblem(row) {
                    try await Self.failUnusableRow(tx, job: job, problem: problem)
                    continue
                }
                let payer =
                    payers[job.payerRef]
                    ?? .failure(PayerUnusable(message: "payer \(job.payerRef) does not exist"))
                claimed.append(ClaimedJob(job: job, payer: payer))
            }
            return claimed.sorted {
                ($0.job.priority, $1.job.runAt, $1.job.id) > ($1.job.priority, $0.job.runAt, $0.job.id)
            }
        }
    }

    /// What is wrong with a job row another service wrote, or nil. PostgreSQL's types
    /// and constraints already refuse what SQLite's rows may hold (a text priority, a
    /// NUL byte, invalid UTF-8, max_attempts below 1); the rest is checked here.
    static func jobProblem(_ row: PGRow) -> String? {
        if let runAt = row.text("run_at"), let problem = JobRowRules.runAtProblem(runAt) { return problem }
        for column in JobRowRules.textColumns {
            if let text = row.text(column) {
                if let problem = JobRowRules.textProblem(column: column, text: text) { return problem }
            } else if JobRowRules.requiredColumns.contains(column) {
                return "column \(column): NULL where a text is required"
            }
        }
        return nil
    }

    static func failUnusableRow(_ tx: PGTransaction, job: Job, problem: String) async throws {
        let message = "unusable row: \(problem)"
        try await tx.query(
            """
            UPDATE jobs SET state = 'failed', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
              finished_at = relance_now(), updated_at = relance_now()
            WHERE id = $2
            """, [.text(message), .int(job.id)])
        tx.record(
            job, kind: .permanentError,
            detail: ["reason": .string(FailureReason.data.rawValue), "message": .string(message)])
    }

    /// The archive's row is written first, in a statement of its own (the usual writes
    /// are one grouped statement): a dispatch that is then refused leaves an unreferenced
    /// row, which `archive.retention` prunes.
    public func beginDispatch(
        _ job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> DispatchPermission {
        if let content { try await archive(content) }
        let usual = try await usualWrite(
            accepted: nil, begin: (job, leaseSeconds, rendered.objectValue ?? [:]), owner: owner)
        if usual.began { return .proceed }
        return try await transaction { tx in
            try await Self.beginDispatch(tx, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
        }
    }

    public func complete(
        _ done: Job, outcome: DispatchOutcome, retry: RetryPolicy, random: Double, thenBeginDispatch job: Job,
        owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> (completed: Bool, permission: DispatchPermission) {
        if let content { try await archive(content) }
        guard case .accepted(let response) = outcome else {
            return try await transaction { tx in
                let completed = try await Self.complete(
                    tx, job: done, owner: owner, outcome: outcome, retry: retry, random: random)
                let permission = try await Self.beginDispatch(
                    tx, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
                return (completed, permission)
            }
        }
        // The usual case in one statement; a part it did not find as expected is then
        // written by the general path, in a transaction of its own (the two jobs are
        // independent: each part is whole on its own).
        let usual = try await usualWrite(
            accepted: (done, response), begin: (job, leaseSeconds, rendered.objectValue ?? [:]), owner: owner)
        var completed = usual.completed
        if !completed {
            completed = try await transaction { tx in
                try await Self.complete(tx, job: done, owner: owner, outcome: outcome, retry: retry, random: random)
            }
        }
        if usual.began { return (completed, .proceed) }
        let permission = try await transaction { tx in
            try await Self.beginDispatch(tx, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
        }
        return (completed, permission)
    }

    static func beginDispatch(
        _ tx: PGTransaction, job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue
    ) async throws -> DispatchPermission {
        // The usual case in one statement: the job is still ours and not cancelled.
        let started = try await tx.query(
            """
            UPDATE jobs SET dispatch_started_at = relance_now(), updated_at = relance_now(),
              lease_expires_at = relance_now() + make_interval(secs => $1)
            WHERE id = $2 AND state = 'running' AND attempt = $3 AND lease_owner = $4 AND cancel_reason IS NULL
              AND lease_expires_at >= relance_now()
            RETURNING id
            """, [.double(leaseSeconds), .int(job.id), .int(job.attempt), .text(owner)])
        if started.isEmpty {
            // Not ours any more, or cancelled since the claim: look at which.
            guard
                let row = try await tx.one(
                    "SELECT state, attempt, lease_owner, cancel_reason FROM jobs WHERE id = $1", [.int(job.id)]),
                row.text("state") == "running", row.int("attempt") == job.attempt, row.text("lease_owner") == owner,
                let stored = row.text("cancel_reason")
            else { return .leaseLost }
            let reason = CancelReason(stored: stored)
            try await tx.query(
                """
                UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                  finished_at = relance_now(), updated_at = relance_now() WHERE id = $1
                """, [.int(job.id)])
            var detail = reason.traceDetail
            detail["checked"] = "before dispatch"
            tx.record(job, kind: .cancelled, detail: detail)
            return .cancelled(reason: reason)
        }
        tx.record(job, kind: .rendered, detail: rendered.objectValue ?? [:])
        tx.record(job, kind: .dispatching)
        return .proceed
    }

    public func complete(_ job: Job, owner: String, outcome: DispatchOutcome, retry: RetryPolicy, random: Double)
        async throws -> Bool
    {
        if case .accepted(let response) = outcome,
            try await usualWrite(accepted: (job, response), begin: nil, owner: owner).completed
        {
            return true
        }
        return try await transaction { tx in
            try await Self.complete(tx, job: job, owner: owner, outcome: outcome, retry: retry, random: random)
        }
    }

    static func complete(
        _ tx: PGTransaction, job: Job, owner: String, outcome: DispatchOutcome, retry: RetryPolicy, random: Double
    ) async throws -> Bool {
        // The job, still ours: placeholders from $n (id, attempt, owner).
        func owned(from n: Int) -> String {
            "id = $\(n) AND attempt = $\(n + 1) AND state = 'running' AND lease_owner = $\(n + 2)"
        }
        let ours = owned(from: 2)
        let key: [PGBind] = [.int(job.id), .int(job.attempt), .text(owner)]
        if case .accepted = outcome {
        } else if let reported = try await tx.one(
            "SELECT reported_state FROM jobs WHERE \(owned(from: 1)) AND reported_state IS NOT NULL",
            key)?.text("reported_state")
        {
            // The gateway already reported this attempt: whatever its answer said, the
            // message left. Record the answer, keep the reported state, never resend.
            guard let failure = outcome.failure else { return false }
            let changed = try await tx.query(
                """
                UPDATE jobs SET state = reported_state, last_error = $1, lease_owner = NULL,
                  lease_expires_at = NULL, finished_at = relance_now(), updated_at = relance_now()
                WHERE \(ours) RETURNING id
                """, [.text(failure.message)] + key)
            guard changed.count == 1 else { return false }
            var detail = TraceDetail.of(failure)
            detail["already_reported"] = .string(reported)
            tx.record(job, kind: .accepted, detail: detail)
            return true
        }
        // The sweeper may have made the job `uncertain` before the worker's answer came:
        // a definitive answer for that same attempt is still the truth, and is recorded.
        func sweptUncertain(from n: Int) -> String {
            "id = $\(n) AND attempt = $\(n + 1) AND state = 'uncertain' AND dispatch_started_at IS NOT NULL"
        }
        let settledBySweeper = sweptUncertain(from: 2)
        let attemptKey: [PGBind] = [.int(job.id), .int(job.attempt)]
        switch outcome {
        case .accepted(let response):
            var detail = TraceDetail.of(response)
            let settled = try await tx.query(
                """
                UPDATE jobs SET state = coalesce(reported_state, 'sent'), provider_ref = coalesce($1, provider_ref),
                  last_error = NULL, lease_owner = NULL,
                  lease_expires_at = NULL, finished_at = relance_now(), updated_at = relance_now()
                WHERE \(ours) RETURNING id
                """, [.text(response.providerRef)] + key)
            if settled.isEmpty {
                let late = try await tx.query(
                    """
                    UPDATE jobs SET state = coalesce(reported_state, 'sent'), provider_ref = coalesce($1, provider_ref),
                      last_error = NULL, finished_at = relance_now(), updated_at = relance_now()
                    WHERE \(settledBySweeper) RETURNING id
                    """, [.text(response.providerRef)] + attemptKey)
                guard late.count == 1 else { return false }
                detail["late"] = .string(lateAnswer)
            }
            tx.record(job, kind: .accepted, detail: detail)
        case .permanent(let failure):
            var detail = TraceDetail.of(failure)
            let settled = try await tx.query(
                """
                UPDATE jobs SET state = 'failed', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
                  finished_at = relance_now(), updated_at = relance_now()
                WHERE \(ours) RETURNING id
                """, [.text(failure.message)] + key)
            if settled.isEmpty {
                let late = try await tx.query(
                    """
                    UPDATE jobs SET state = 'failed', last_error = $1, finished_at = relance_now(),
                      updated_at = relance_now()
                    WHERE \(settledBySweeper) AND reported_state IS NULL RETURNING id
                    """, [.text(failure.message)] + attemptKey)
                guard late.count == 1 else { return false }
                detail["late"] = .string(lateAnswer)
            }
            tx.record(job, kind: .permanentError, detail: detail)
        case .uncertain(let failure):
            // Handed over, no definitive answer: never retried, whatever the lease.
            var detail = TraceDetail.of(failure)
            let settled = try await tx.query(
                """
                UPDATE jobs SET state = 'uncertain', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
                  finished_at = relance_now(), updated_at = relance_now()
                WHERE \(ours) RETURNING id
                """, [.text(failure.message)] + key)
            if settled.isEmpty {
                // Already uncertain (the sweeper was first): keep the worker's words.
                let already = try await tx.query(
                    "SELECT 1 FROM jobs WHERE \(sweptUncertain(from: 1))",
                    attemptKey)
                guard !already.isEmpty else { return false }
                detail["late"] = "the worker's account, after the sweeper had made the job uncertain"
            }
            tx.record(job, kind: .uncertain, detail: detail)
        case .transient(let failure):
            // A worker whose lease expired after dispatch started does not put the job back
            // in the queue: the message may be on its way whatever the worker thinks.
            let expired = try await tx.query(
                """
                UPDATE jobs SET state = 'uncertain', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
                  finished_at = relance_now(), updated_at = relance_now()
                WHERE \(ours) AND dispatch_started_at IS NOT NULL AND lease_expires_at < relance_now()
                RETURNING id
                """,
                [
                    .text(
                        "lease expired before the worker recorded its outcome (\(failure.message)): the message may have been sent; an operator must decide"
                    )
                ] + key)
            if expired.count == 1 {
                var detail = TraceDetail.of(failure)
                detail["lease_expired"] = true
                tx.record(job, kind: .uncertain, detail: detail)
                return true
            }
            // The job's age on the database's clock.
            let age =
                try await tx.one(
                    "SELECT extract(epoch FROM relance_now() - due_at)::float8 AS age FROM jobs WHERE id = $1",
                    [.int(job.id)])?.double("age") ?? 0
            let leaseHeld = "AND (dispatch_started_at IS NULL OR lease_expires_at >= relance_now())"
            let decision = retry.decision(
                afterAttempt: job.attempt, maxAttemptsOverride: job.maxAttempts, age: max(age, 0), unit: random)
            switch decision {
            case .retry(let delay):
                let requeued = try await tx.query(
                    """
                    UPDATE jobs SET state = 'queued', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
                      dispatch_started_at = NULL, run_at = relance_now() + make_interval(secs => $5),
                      updated_at = relance_now()
                    WHERE \(ours) \(leaseHeld) RETURNING id
                    """, [.text(failure.message)] + key + [.double((delay * 1000).rounded() / 1000)])
                guard requeued.count == 1 else { return false }
                var detail = TraceDetail.of(failure)
                detail["retry_in_seconds"] = TraceDetail.retryDelay(delay)
                tx.record(job, kind: .transientError, detail: detail)
            case .giveUp(let reason):
                let dead = try await tx.query(
                    """
                    UPDATE jobs SET state = 'dead', last_error = $1, lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = relance_now(), updated_at = relance_now()
                    WHERE \(ours) \(leaseHeld) RETURNING id
                    """, [.text("\(failure.message) (gave up: \(reason))")] + key)
                guard dead.count == 1 else { return false }
                tx.record(job, kind: .transientError, detail: TraceDetail.of(failure))
                tx.record(job, kind: .dead, detail: ["reason": .string(reason)])
            }
        }
        return true
    }

    static let lateAnswer = "the answer came after the lease expired; it settles the uncertain job"

    public func release(_ jobs: [Job], owner: String, reason: String) async throws {
        guard !jobs.isEmpty else { return }
        try await transaction { tx in
            for job in jobs {
                // The attempt was never used: give it back.
                let released = try await tx.query(
                    """
                    UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_owner = NULL,
                      lease_expires_at = NULL, updated_at = relance_now()
                    WHERE id = $1 AND attempt = $2 AND state = 'running' AND lease_owner = $3
                      AND dispatch_started_at IS NULL
                    RETURNING id
                    """, [.int(job.id), .int(job.attempt), .text(owner)])
                if released.count == 1 {
                    tx.record(job, kind: .deferred, detail: ["reason": .string(reason)])
                }
            }
            try await tx.query("SELECT pg_notify($1, '')", [.text(PostgresSchema.channel(self.schema))])
        }
    }

    public func postpone(_ job: Job, owner: String, until: String, detail: [String: JSONValue]) async throws -> Bool {
        try await transaction { tx in
            let moved = try await tx.query(
                """
                UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_owner = NULL,
                  lease_expires_at = NULL, run_at = $1::timestamptz, due_at = $1::timestamptz, updated_at = relance_now()
                WHERE id = $2 AND attempt = $3 AND state = 'running' AND lease_owner = $4
                  AND dispatch_started_at IS NULL
                RETURNING id
                """, [.text(until), .int(job.id), .int(job.attempt), .text(owner)])
            guard moved.count == 1 else { return false }
            var detail = detail
            detail["until"] = .string(until)
            tx.record(job, kind: .deferred, detail: detail)
            return true
        }
    }
}

// The statements of every message and every claim, prepared once per connection.

/// The priority levels of the queued jobs, highest first (a loose index scan): each level
/// is then an index range of due jobs, so that jobs scheduled for later, however many,
/// cost nothing. Not prepared: a statement without parameters keeps its first plan, and
/// one made on an empty table scans the table once it is full.
enum ClaimLevels {
    static let sql = "WITH RECURSIVE \(PostgresJobStore.levels) SELECT p FROM level WHERE p IS NOT NULL"
}

/// Claims up to $3 due jobs of priority $2 for owner $1, leased for $4 seconds. SKIP
/// LOCKED: rows another node is claiming right now are not waited for.
enum ClaimLevel: PGStatement {
    static let name = "relance_claim_level"
    static let types: [PostgresDataType] = [.text, .int8, .int8, .float8]
    static let sql = """
        WITH picked AS (
          SELECT id AS picked_id FROM jobs
          WHERE state = 'queued' AND priority = $2 AND run_at <= relance_now()
          ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
        )
        UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $1,
          lease_expires_at = relance_now() + make_interval(secs => $4), dispatch_started_at = NULL,
          updated_at = relance_now()
        FROM picked WHERE id = picked_id
        RETURNING \(PostgresJobStore.jobColumns)
        """
}

enum PayersByRef: PGStatement {
    static let name = "relance_payers_by_ref"
    static let types: [PostgresDataType] = [.textArray]
    static let sql = "SELECT * FROM payers WHERE ref = ANY($1::text[])"
}
