import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Reading: jobs, the trace, workload and statistics.
extension SQLiteJobStore {
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
            if let channel = filter.channel { clauses.append("channel = ?"); arguments += [channel] }
            if let template = filter.template { clauses.append("template = ?"); arguments += [template] }
            if let since = filter.createdSince { clauses.append("created_at >= ?"); arguments += [since] }
            if let before = filter.createdBefore { clauses.append("created_at < ?"); arguments += [before] }
            if let after = filter.afterID {
                clauses.append(filter.newestFirst ? "id < ?" : "id > ?")
                arguments += [after]
            }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            arguments += [filter.limit]
            let order = filter.newestFirst ? "id DESC" : "id"
            return try Row.fetchAll(
                db, sql: "SELECT * FROM jobs \(whereSQL) ORDER BY \(order) LIMIT ?", arguments: arguments
            )
            .map(Self.job(from:))
        }
    }

    public func events(jobID: Int64) async throws -> [DeliveryEvent] {
        try await events(after: 0, filter: EventFilter(jobID: jobID), limit: 10_000)
    }

    public func events(after afterID: Int64, filter: EventFilter, limit: Int) async throws -> [DeliveryEvent] {
        try await pool.read { db in
            var (clauses, arguments) = Self.clauses(of: filter)
            clauses.append("id > ?")
            arguments += [afterID, limit]
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

    /// The `WHERE` clauses of an event filter, and their arguments.
    static func clauses(of filter: EventFilter) -> ([String], StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let caseRef = filter.caseRef { clauses.append("case_ref = ?"); arguments += [caseRef] }
        if let channel = filter.channel { clauses.append("channel = ?"); arguments += [channel] }
        if let jobID = filter.jobID { clauses.append("job_id = ?"); arguments += [jobID] }
        return (clauses, arguments)
    }
}
