import Foundation
import GRDB
import RelanceCore
import Synchronization

/// The queue: claim, begin dispatch, outcomes, release, postpone.
extension SQLiteJobStore {
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
            db, &events, job: job, kind: .permanentError,
            detail: ["reason": .string(FailureReason.data.rawValue), "message": .string(message)])
    }

    public func beginDispatch(
        _ job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> DispatchPermission {
        let stored = content.map { ($0, ArchiveCodec.encode($0.bytes)) }
        return try await transaction { db, events in
            let permission = try Self.beginDispatch(
                db, &events, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
            if permission == .proceed, let stored { try Self.archive(db, stored.0, stored.1) }
            return permission
        }
    }

    public func complete(
        _ done: Job, outcome: DispatchOutcome, retry: RetryPolicy, random: Double, thenBeginDispatch job: Job,
        owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> (completed: Bool, permission: DispatchPermission) {
        // Deflated before the write transaction: the writer waits for no compression.
        let stored = content.map { ($0, ArchiveCodec.encode($0.bytes)) }
        return try await transaction { db, events in
            let completed = try self.complete(
                db, &events, job: done, owner: owner, outcome: outcome, retry: retry, random: random)
            let permission = try Self.beginDispatch(
                db, &events, job: job, owner: owner, leaseSeconds: leaseSeconds, rendered: rendered)
            if permission == .proceed, let stored { try Self.archive(db, stored.0, stored.1) }
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
                let stored: String = row["cancel_reason"]
            else { return .leaseLost }
            let reason = CancelReason(stored: stored)
            try db.executeCached(
                sql: """
                    UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                      finished_at = \(clockNow), updated_at = \(clockNow) WHERE id = ?
                    """, arguments: [job.id])
            var detail = reason.traceDetail
            detail["checked"] = "before dispatch"
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
                detail["retry_in_seconds"] = TraceDetail.retryDelay(delay)
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
}
