import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore

/// Reading: jobs, the trace, workload, statistics and the step report.
extension PostgresJobStore {
    public func job(id: Int64) async throws -> Job? {
        try await withSession { session in
            try await session.one("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [.int(id)]).map(Self.job(from:))
        }
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await withSession { session in
            var clauses: [String] = []
            var binds: [PGBind] = []
            func add(_ clause: String, _ bind: PGBind) {
                binds.append(bind)
                clauses.append(clause.replacingOccurrences(of: "?", with: "$\(binds.count)"))
            }
            if let state = filter.state { add("state = ?", .text(state.rawValue)) }
            if let caseRef = filter.caseRef { add("case_ref = ?", .text(caseRef)) }
            if let payerRef = filter.payerRef { add("payer_ref = ?", .text(payerRef)) }
            if let channel = filter.channel { add("channel = ?", .text(channel)) }
            if let template = filter.template { add("template = ?", .text(template)) }
            if let since = filter.createdSince { add("created_at >= ?::timestamptz", .text(since)) }
            if let before = filter.createdBefore { add("created_at < ?::timestamptz", .text(before)) }
            if let after = filter.afterID { add(filter.newestFirst ? "id < ?" : "id > ?", .int(after)) }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            binds.append(.int(filter.limit))
            let order = filter.newestFirst ? "id DESC" : "id"
            return try await session.query(
                "SELECT \(Self.jobColumns) FROM jobs \(whereSQL) ORDER BY \(order) LIMIT $\(binds.count)", binds
            ).map(Self.job(from:))
        }
    }

    public func events(jobID: Int64) async throws -> [DeliveryEvent] {
        try await events(after: 0, filter: EventFilter(jobID: jobID), limit: 10_000)
    }

    public func events(after afterID: Int64, filter: EventFilter, limit: Int) async throws -> [DeliveryEvent] {
        try await withSession { session in
            var clauses = ["id > $1"]
            var binds: [PGBind] = [.int(afterID)]
            func add(_ column: String, _ bind: PGBind) {
                binds.append(bind)
                clauses.append("\(column) = $\(binds.count)")
            }
            if let caseRef = filter.caseRef { add("case_ref", .text(caseRef)) }
            if let channel = filter.channel { add("channel", .text(channel)) }
            if let jobID = filter.jobID { add("job_id", .int(jobID)) }
            binds.append(.int(limit))
            return try await session.query(
                """
                SELECT \(Self.eventColumns) FROM delivery_events WHERE \(clauses.joined(separator: " AND "))
                ORDER BY id LIMIT $\(binds.count)
                """, binds
            ).map(Self.event(from:))
        }
    }

    public func activity() async throws -> (due: Int, running: Int) {
        let row = try await read { session in try await session.one(Activity.sql) }
        return (row?.int("due") ?? 0, row?.int("running") ?? 0)
    }

    public func workload() async throws -> Workload {
        try await read { session in
            let row = try await session.one(
                """
                WITH RECURSIVE \(Self.levels)
                SELECT
                  (SELECT coalesce(sum(n), 0)::bigint FROM level, LATERAL (
                    SELECT count(*) AS n FROM jobs WHERE state = 'queued' AND priority = level.p AND run_at <= relance_now()
                  ) c WHERE level.p IS NOT NULL) AS due,
                  (SELECT count(*) FROM jobs WHERE state = 'running') AS running,
                  (SELECT count(*) FROM jobs WHERE state = 'queued' AND run_at > relance_now()) AS scheduled,
                  (SELECT relance_iso(min(run_at)) FROM jobs WHERE state = 'queued' AND run_at > relance_now())
                    AS next_run_at
                """)
            return Workload(
                due: row?.int("due") ?? 0, running: row?.int("running") ?? 0, scheduled: row?.int("scheduled") ?? 0,
                nextRunAt: row?.text("next_run_at"))
        }
    }

    public func statistics() async throws -> QueueStatistics {
        try await read { session in
            var jobs: [String: [String: Int]] = [:]
            for row in try await session.query("SELECT state, channel, count(*) AS n FROM jobs GROUP BY state, channel")
            {
                jobs[row.text("state") ?? "", default: [:]][row.text("channel") ?? ""] = row.int("n") ?? 0
            }
            let age =
                try await session.one(
                    """
                    SELECT extract(epoch FROM relance_now() - min(run_at))::float8 AS age FROM jobs
                    WHERE state = 'queued' AND run_at <= relance_now()
                    """)?.double("age") ?? 0
            return QueueStatistics(jobs: jobs, oldestDueAge: max(age, 0))
        }
    }

    public func stepReport(since: String, scenario: String?) async throws -> [StepFigures] {
        try await withSession { session in
            // As SQLiteJobStore.stepReport: one row per message handed to a provider, and
            // the jobs merged into one of them.
            let merged = CancelReason.mergedPrefix
            let rows = try await session.query(
                """
                SELECT i.scenario, j.idempotency_key, j.case_ref, coalesce(m.state, j.state) AS state,
                  substr(relance_iso(coalesce(m.finished_at, j.finished_at)), 1, 10) AS day, i.paid_at,
                  m.id IS NOT NULL AS merged,
                  EXISTS (SELECT 1 FROM delivery_events e WHERE e.job_id = j.id AND e.event = 'complaint')
                    AS complained
                FROM jobs j JOIN invoices i ON i.ref = j.case_ref
                  LEFT JOIN jobs m ON j.state = 'cancelled' AND j.cancel_reason LIKE '\(merged)%'
                    AND substr(j.cancel_reason, \(merged.count + 1)) ~ '^[0-9]{1,18}$'
                    AND m.id = substr(j.cancel_reason, \(merged.count + 1))::bigint
                WHERE coalesce(m.state, j.state) IN ('sent', 'delivered', 'undelivered')
                  AND j.idempotency_key IS NOT NULL
                  AND coalesce(m.finished_at, j.finished_at) >= $1::timestamptz
                  AND ($2::text IS NULL OR i.scenario = $2)
                """, [.text(since), .text(scenario)])
            let payments = try await session.query(
                """
                SELECT p.invoice_ref AS invoice, p.amount, p.paid_on, i.currency
                FROM payments p JOIN invoices i ON i.ref = p.invoice_ref
                """)
            let messages = rows.map { row in
                StepReportAggregation.Message(
                    scenario: row.text("scenario") ?? "", idempotencyKey: row.text("idempotency_key") ?? "",
                    caseRef: row.text("case_ref") ?? "", state: row.text("state") ?? "", day: row.text("day") ?? "",
                    invoicePaidAt: row.text("paid_at"), merged: row.bool("merged"), complained: row.bool("complained"))
            }
            let paid = payments.map { p in
                StepReportAggregation.Payment(
                    invoice: p.text("invoice") ?? "", day: p.text("paid_on") ?? "",
                    amount: Invoice.parseAmount(p.text("amount") ?? "") ?? 0, currency: p.text("currency") ?? "")
            }
            return StepReportAggregation.figures(messages: messages, payments: paid)
        }
    }
}

extension PostgresJobStore {
    /// The priority levels of the queued jobs (a loose index scan), as `level(p)`: due jobs
    /// are then counted one index range per level, future jobs never read.
    static let levels = """
        level(p) AS (
          SELECT max(priority) FROM jobs WHERE state = 'queued'
          UNION ALL
          SELECT (SELECT max(priority) FROM jobs WHERE state = 'queued' AND priority < level.p)
          FROM level WHERE level.p IS NOT NULL
        )
        """
}

/// Due and running jobs (`activity()`): index ranges only, whatever is scheduled. Not
/// prepared, as `ClaimLevels`.
enum Activity {
    static let sql = """
        WITH RECURSIVE \(PostgresJobStore.levels)
        SELECT
          (SELECT coalesce(sum(n), 0)::bigint FROM level, LATERAL (
            SELECT count(*) AS n FROM jobs WHERE state = 'queued' AND priority = level.p AND run_at <= relance_now()
          ) c WHERE level.p IS NOT NULL) AS due,
          (SELECT count(*) FROM jobs WHERE state = 'running') AS running
        """
}
