import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Reports: delivery reports from providers, and the effectiveness of scenario steps.
extension SQLiteJobStore {
    public func stepReport(since: String, scenario: String?) async throws -> [StepFigures] {
        try await pool.read { db in
            // One row per (invoice, step, channel) message handed to a provider: the jobs
            // that went out, and the jobs merged into one of them (their invoice was in
            // that message; `sent` counts the message once, `invoices` every invoice).
            let merged = CancelReason.mergedPrefix
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.scenario, j.idempotency_key, j.case_ref, coalesce(m.state, j.state) AS state,
                      substr(coalesce(m.finished_at, j.finished_at), 1, 10) AS day, i.paid_at, m.id IS NOT NULL AS merged,
                      EXISTS (SELECT 1 FROM delivery_events e WHERE e.job_id = j.id AND e.event = 'complaint')
                        AS complained
                    FROM jobs j JOIN invoices i ON i.ref = j.case_ref
                      LEFT JOIN jobs m ON j.state = 'cancelled' AND j.cancel_reason LIKE '\(merged)%'
                        AND m.id = CAST(substr(j.cancel_reason, \(merged.count + 1)) AS INTEGER)
                    WHERE coalesce(m.state, j.state) IN ('sent', 'delivered', 'undelivered')
                      AND j.idempotency_key IS NOT NULL
                      AND coalesce(m.finished_at, j.finished_at) >= ? AND (? IS NULL OR i.scenario = ?)
                    """, arguments: [since, scenario, scenario])
            let payments = try Row.fetchAll(
                db,
                sql:
                    "SELECT p.invoice_ref AS invoice, p.amount, p.paid_on, i.currency FROM payments p JOIN invoices i ON i.ref = p.invoice_ref"
            )
            let messages = rows.map { row in
                StepReportAggregation.Message(
                    scenario: row["scenario"], idempotencyKey: row["idempotency_key"], caseRef: row["case_ref"],
                    state: row["state"], day: row["day"], invoicePaidAt: row["paid_at"], merged: row["merged"],
                    complained: row["complained"])
            }
            let paid = payments.map { p in
                StepReportAggregation.Payment(
                    invoice: p["invoice"], day: p["paid_on"], amount: Invoice.parseAmount(p["amount"]) ?? 0,
                    currency: p["currency"])
            }
            return StepReportAggregation.figures(messages: messages, payments: paid)
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
                if let suppression = report.suppression { try Self.suppress(db, suppression) }
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
                if !report.delivered, let suppression = report.suppression { try Self.suppress(db, suppression) }
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
            if !report.delivered, let suppression = report.suppression { try Self.suppress(db, suppression) }
            return .applied(target)
        }
    }

    public func notice(
        jobID: Int64, attempt: Int, kind: DeliveryEventKind, detail: [String: JSONValue], suppression: Suppression?
    ) async throws -> Bool {
        try await transaction { db, events in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]) else {
                return false
            }
            let job = Self.job(from: row)
            guard attempt >= 1, attempt <= job.attempt else { return false }
            try Self.record(db, &events, job: job, attempt: attempt, kind: kind, detail: detail)
            if let suppression { try Self.suppress(db, suppression) }
            return true
        }
    }
}
