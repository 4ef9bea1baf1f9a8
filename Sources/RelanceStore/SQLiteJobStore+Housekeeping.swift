import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Housekeeping: lease rescue and expiry, operator decisions, cancellation, retention.
extension SQLiteJobStore {
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
            let detail = try decision.traceDetail(for: job, note: note, force: force)
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
                        "UPDATE jobs SET state = 'cancelled', cancel_reason = CASE WHEN state = 'cancelled' THEN cancel_reason ELSE ? END, updated_at = \(clockNow) WHERE id = ?",
                    arguments: [CancelReason.manual.stored, jobID])
                try Self.record(db, &events, job: job, kind: .cancelled, detail: detail)
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]).map(Self.job(from:))
        }
    }

    public func cancelCase(_ caseRef: String, reason: CancelReason) async throws -> CaseCancellation {
        try await transaction { db, events in try Self.cancelPending(db, &events, caseRef: caseRef, reason: reason) }
    }

    /// Cancels the case's queued jobs at once, and flags its claimed jobs that have not
    /// started dispatching: the worker sees the flag just before dispatch and cancels them.
    static func cancelPending(_ db: Database, _ events: inout [DeliveryEvent], caseRef: String, reason: CancelReason)
        throws -> CaseCancellation
    {
        let rows = try Row.fetchAll(
            db,
            sql: """
                UPDATE jobs SET state = 'cancelled', cancel_reason = ?, finished_at = \(clockNow),
                  updated_at = \(clockNow)
                WHERE case_ref = ? AND state = 'queued' RETURNING *
                """, arguments: [reason.stored, caseRef])
        for row in rows {
            try record(db, &events, job: job(from: row), kind: .cancelled, detail: reason.traceDetail)
        }
        try db.execute(
            sql: """
                UPDATE jobs SET cancel_reason = ?, updated_at = \(clockNow)
                WHERE case_ref = ? AND state = 'running' AND dispatch_started_at IS NULL
                """, arguments: [reason.stored, caseRef])
        return CaseCancellation(cancelled: rows.count, inFlight: db.changesCount)
    }

    public func prune(retention: Double, batch: Int) async throws -> Int {
        try await transaction { db, _ in
            let cutoff = Self.modifier(seconds: -retention)
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM jobs j WHERE finished_at IS NOT NULL
                      AND finished_at < strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), :cutoff)
                      AND (case_ref IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs k WHERE k.case_ref = j.case_ref
                          AND (k.finished_at IS NULL
                            OR k.finished_at >= strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), :cutoff))))
                    LIMIT :batch
                    """, arguments: ["cutoff": cutoff, "batch": batch])
            guard !ids.isEmpty else { return 0 }
            let list = ids.map(String.init).joined(separator: ",")
            try db.execute(sql: "DELETE FROM delivery_events WHERE job_id IN (\(list))")
            try db.execute(sql: "DELETE FROM jobs WHERE id IN (\(list))")
            return ids.count
        }
    }
}
