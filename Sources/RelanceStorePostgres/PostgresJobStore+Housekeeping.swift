import Foundation
import RelanceCore
import RelanceStore

/// Housekeeping: lease rescue and expiry, operator decisions, cancellation, retention.
/// The sweeper and the pruner of every node call these; an advisory lock lets one node
/// at a time do each (the others find it taken and skip this round).
extension PostgresJobStore {
    /// Takes the schema's advisory lock named `name` for this transaction, without
    /// waiting; false when another node holds it.
    static func trySingleton(_ tx: PGTransaction, _ name: String, schema: String) async throws -> Bool {
        try await tx.one("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS got", [.text("relance.\(name).\(schema)")])?
            .bool("got") ?? false
    }

    public func sweep(maxAge: Double, maxAttempts: Int?) async throws -> SweepResult {
        let schema = self.schema
        return try await transaction { tx in
            var result = SweepResult()
            guard try await Self.trySingleton(tx, "sweep", schema: schema) else { return result }
            let limit: Int64 = maxAttempts.map(Int64.init) ?? Int64(Int32.max)
            let expired = try await tx.query(
                """
                UPDATE jobs SET
                  state = CASE
                    WHEN dispatch_started_at IS NOT NULL THEN coalesce(reported_state, 'uncertain')
                    WHEN attempt >= coalesce(max_attempts, $1) THEN 'dead'
                    ELSE 'queued' END,
                  lease_owner = NULL, lease_expires_at = NULL, updated_at = relance_now(),
                  finished_at = CASE WHEN dispatch_started_at IS NOT NULL
                    OR attempt >= coalesce(max_attempts, $1) THEN relance_now() END,
                  last_error = CASE WHEN dispatch_started_at IS NOT NULL AND reported_state IS NULL
                    THEN 'lease expired after dispatch started: the message may have been sent; an operator must decide'
                    ELSE last_error END
                WHERE state = 'running' AND lease_expires_at < relance_now()
                RETURNING \(Self.jobColumns)
                """, [.int(limit)])
            for row in expired.sorted(by: { $0.int64("id") < $1.int64("id") }) {
                let job = Self.job(from: row)
                switch job.state {
                case .delivered, .undelivered:
                    tx.record(
                        job, kind: .rescued,
                        detail: [
                            "reason": "lease expired after dispatch; the delivery report already received decides",
                            "state": .string(job.state.rawValue),
                        ])
                case .uncertain:
                    result.uncertain += 1
                    tx.record(
                        job, kind: .uncertain,
                        detail: ["reason": "lease expired after dispatch started; the message may have been sent"])
                case .dead:
                    result.dead += 1
                    tx.record(
                        job, kind: .dead,
                        detail: [
                            "reason": .string(
                                "lease expired on every attempt (\(job.attempt)); the job may crash workers")
                        ])
                default:
                    result.requeued += 1
                    tx.record(job, kind: .rescued, detail: ["reason": "lease expired before dispatch"])
                }
            }
            let old = try await tx.query(
                """
                UPDATE jobs SET state = 'dead', finished_at = relance_now(), updated_at = relance_now(),
                  last_error = 'not sent within the maximum age: due ' || relance_iso(due_at)
                WHERE state = 'queued' AND due_at < relance_now() - make_interval(secs => $1)
                RETURNING \(Self.jobColumns)
                """, [.double(maxAge)])
            for row in old.sorted(by: { $0.int64("id") < $1.int64("id") }) {
                result.dead += 1
                tx.record(
                    Self.job(from: row), kind: .dead,
                    detail: ["reason": .string("older than the maximum age of \(Int(maxAge)) s")])
            }
            if result.requeued > 0 {
                try await tx.query("SELECT pg_notify($1, '')", [.text(PostgresSchema.channel(schema))])
            }
            return result
        }
    }

    public func resolve(jobID: Int64, decision: OperatorDecision, note: String, force: Bool) async throws -> Job? {
        let budget = defaultMaxAttempts
        return try await transaction { tx in
            guard
                let row = try await tx.one(
                    "SELECT \(Self.jobColumns) FROM jobs WHERE id = $1 FOR UPDATE", [.int(jobID)])
            else { return nil }
            let job = Self.job(from: row)
            let detail = try decision.traceDetail(for: job, note: note, force: force)
            switch decision {
            case .requeue:
                // A fresh attempt budget, due now.
                try await tx.query(
                    """
                    UPDATE jobs SET state = 'queued', run_at = relance_now(), due_at = relance_now(),
                      max_attempts = attempt + $1, dispatch_started_at = NULL,
                      cancel_reason = NULL, finished_at = NULL, updated_at = relance_now() WHERE id = $2
                    """, [.int(budget), .int(jobID)])
                tx.record(job, kind: .rescued, detail: detail)
                try await tx.query("SELECT pg_notify($1, '')", [.text(PostgresSchema.channel(self.schema))])
            case .markSent:
                try await tx.query(
                    "UPDATE jobs SET state = 'sent', last_error = NULL, updated_at = relance_now() WHERE id = $1",
                    [.int(jobID)])
                tx.record(job, kind: .accepted, detail: detail)
            case .cancel:
                try await tx.query(
                    """
                    UPDATE jobs SET state = 'cancelled',
                      cancel_reason = CASE WHEN state = 'cancelled' THEN cancel_reason ELSE $1 END,
                      updated_at = relance_now() WHERE id = $2
                    """, [.text(CancelReason.manual.stored), .int(jobID)])
                tx.record(job, kind: .cancelled, detail: detail)
            }
            return try await tx.one("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [.int(jobID)]).map(
                Self.job(from:))
        }
    }

    public func cancelCase(_ caseRef: String, reason: CancelReason) async throws -> CaseCancellation {
        try await transaction { tx in try await Self.cancelPending(tx, caseRef: caseRef, reason: reason) }
    }

    /// Cancels the case's queued jobs at once, and flags its claimed jobs that have not
    /// started dispatching: the worker sees the flag just before dispatch and cancels them.
    static func cancelPending(_ tx: PGTransaction, caseRef: String, reason: CancelReason) async throws
        -> CaseCancellation
    {
        let rows = try await tx.query(
            """
            UPDATE jobs SET state = 'cancelled', cancel_reason = $1, finished_at = relance_now(),
              updated_at = relance_now()
            WHERE case_ref = $2 AND state = 'queued' RETURNING \(jobColumns)
            """, [.text(reason.stored), .text(caseRef)])
        for row in rows.sorted(by: { $0.int64("id") < $1.int64("id") }) {
            tx.record(job(from: row), kind: .cancelled, detail: reason.traceDetail)
        }
        let flagged = try await tx.query(
            """
            UPDATE jobs SET cancel_reason = $1, updated_at = relance_now()
            WHERE case_ref = $2 AND state = 'running' AND dispatch_started_at IS NULL RETURNING id
            """, [.text(reason.stored), .text(caseRef)])
        return CaseCancellation(cancelled: rows.count, inFlight: flagged.count)
    }

    public func prune(retention: Double, batch: Int) async throws -> Int {
        try await transaction { tx in
            let ids = try await tx.query(
                """
                SELECT id FROM jobs j WHERE finished_at IS NOT NULL
                  AND finished_at < relance_now() - make_interval(secs => $1)
                  AND (case_ref IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs k WHERE k.case_ref = j.case_ref
                      AND (k.finished_at IS NULL OR k.finished_at >= relance_now() - make_interval(secs => $1))))
                LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [.double(retention), .int(batch)]
            ).map { $0.int64("id") }
            guard !ids.isEmpty else { return 0 }
            try await tx.query("DELETE FROM delivery_events WHERE job_id = ANY($1::bigint[])", [.ints(ids)])
            try await tx.query("DELETE FROM jobs WHERE id = ANY($1::bigint[])", [.ints(ids)])
            return ids.count
        }
    }
}
