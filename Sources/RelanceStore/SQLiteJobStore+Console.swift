import Foundation
import GRDB
import RelanceCore

/// What the web console reads (`ConsoleReader`).
extension SQLiteJobStore {
    public func searchPayers(_ text: String, limit: Int) async throws -> [PayerSummary] {
        try await pool.read { db in
            // lower() is ASCII-only in SQLite ("É" matches "É" only); PostgreSQL's follows
            // the database's locale: a search by a non-ASCII name may find more there.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT ref, name, email, phone FROM payers
                    WHERE instr(lower(ref), lower(:q)) > 0 OR instr(lower(name), lower(:q)) > 0
                      OR instr(lower(coalesce(email, '')), lower(:q)) > 0
                      OR ref IN (SELECT payer_ref FROM jobs WHERE case_ref = :q)
                      OR ref IN (SELECT payer_ref FROM invoices WHERE ref = :q)
                    ORDER BY ref LIMIT :limit
                    """, arguments: ["q": text, "limit": limit]
            ).map { PayerSummary(ref: $0["ref"], name: $0["name"] ?? "", email: $0["email"], phone: $0["phone"]) }
        }
    }

    public func invoices(payerRef: String) async throws -> [Invoice] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM invoices WHERE payer_ref = ? ORDER BY due_date DESC, ref", arguments: [payerRef]
            ).map(Self.invoice(from:))
        }
    }

    public func suppressions(payerRef: String?, limit: Int) async throws -> [SuppressionEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM suppressions WHERE (? IS NULL OR payer_ref = ?)
                    ORDER BY created_at DESC, payer_ref, channel LIMIT ?
                    """, arguments: [payerRef, payerRef, limit]
            ).map {
                SuppressionEntry(
                    payerRef: $0["payer_ref"], channel: $0["channel"], contact: $0["contact"], reason: $0["reason"],
                    createdAt: $0["created_at"])
            }
        }
    }

    public func suppressionCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM suppressions") ?? 0 }
    }

    public func reviewLineCount() async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM bank_lines WHERE status = 'review'") ?? 0
        }
    }

    public func openBalances() async throws -> [OpenBalance] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT currency, due_date, balance FROM invoices WHERE status = 'open'")
                .compactMap { row in
                    guard let balance = Invoice.parseAmount(row["balance"] ?? ""), balance > 0 else { return nil }
                    return OpenBalance(currency: row["currency"], dueDate: row["due_date"], balance: balance)
                }
        }
    }

    public func finishedCounts(since: String) async throws -> [String: [String: Int]] {
        try await pool.read { db in
            var counts: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT channel, state, count(*) AS n FROM jobs
                    WHERE finished_at IS NOT NULL AND finished_at >= ? GROUP BY channel, state
                    """, arguments: [since])
            {
                counts[row["channel"] ?? "", default: [:]][row["state"] ?? ""] = row["n"]
            }
            return counts
        }
    }

    public func recentEvents(filter: EventFilter, limit: Int) async throws -> [DeliveryEvent] {
        try await pool.read { db in
            var (clauses, arguments) = Self.clauses(of: filter)
            clauses.append("1")
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM delivery_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
                arguments: arguments
            ).map(Self.event(from:)).reversed()
        }
    }

    public func attentionCounts() async throws -> [String: [String: Int]] {
        try await pool.read { db in
            var counts: [String: [String: Int]] = [:]
            let states = attentionStates.map { "'\($0)'" }.joined(separator: ", ")
            for row in try Row.fetchAll(
                db,
                sql: "SELECT state, channel, count(*) AS n FROM jobs WHERE state IN (\(states)) GROUP BY state, channel"
            ) {
                counts[row["state"] ?? "", default: [:]][row["channel"] ?? ""] = row["n"]
            }
            return counts
        }
    }

    public func oldestDueAge() async throws -> Double {
        try await pool.read { db in
            let age =
                try Double.fetchOne(
                    db,
                    sql: """
                        SELECT (julianday(\(clockNow)) - julianday(min(run_at))) * 86400.0 FROM jobs
                        WHERE state = 'queued' AND run_at <= \(clockNow)
                        """) ?? 0
            return max(age, 0)
        }
    }
}
