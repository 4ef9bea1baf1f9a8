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
                      substr(coalesce(m.finished_at, j.finished_at), 1, 10) AS day, i.paid_at, m.id IS NOT NULL AS merged
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
}
