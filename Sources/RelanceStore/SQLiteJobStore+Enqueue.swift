import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Enqueue: all-or-nothing inserts with idempotency keys and inline payers.
extension SQLiteJobStore {
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
}
