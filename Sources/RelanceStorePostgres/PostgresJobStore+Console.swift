import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore

/// What the web console reads (`ConsoleReader`), as on SQLite.
extension PostgresJobStore {
    public func searchPayers(_ text: String, limit: Int) async throws -> [PayerSummary] {
        try await withSession { session in
            try await session.query(
                """
                SELECT ref, name, email, phone FROM payers
                WHERE strpos(lower(ref), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0
                  OR strpos(lower(coalesce(email, '')), lower($1)) > 0
                  OR ref IN (SELECT payer_ref FROM jobs WHERE case_ref = $1)
                  OR ref IN (SELECT payer_ref FROM invoices WHERE ref = $1)
                ORDER BY ref LIMIT $2
                """, [.text(text), .int(Int64(limit))]
            ).map {
                PayerSummary(
                    ref: $0.text("ref") ?? "", name: $0.text("name") ?? "", email: $0.text("email"),
                    phone: $0.text("phone"))
            }
        }
    }

    public func invoices(payerRef: String) async throws -> [Invoice] {
        try await withSession { session in
            try await session.query(
                "SELECT \(Self.invoiceColumns) FROM invoices WHERE payer_ref = $1 ORDER BY due_date DESC, ref",
                [.text(payerRef)]
            ).map(Self.invoice(from:))
        }
    }

    public func suppressions(payerRef: String?, limit: Int) async throws -> [SuppressionEntry] {
        try await withSession { session in
            try await session.query(
                """
                SELECT payer_ref, channel, contact, reason, relance_iso(created_at) AS created_at FROM suppressions
                WHERE ($1::text IS NULL OR payer_ref = $1) ORDER BY suppressions.created_at DESC, payer_ref, channel
                LIMIT $2
                """, [.text(payerRef), .int(Int64(limit))]
            ).map {
                SuppressionEntry(
                    payerRef: $0.text("payer_ref") ?? "", channel: $0.text("channel") ?? "",
                    contact: $0.text("contact") ?? "", reason: $0.text("reason") ?? "",
                    createdAt: $0.text("created_at") ?? "")
            }
        }
    }

    public func suppressionCount() async throws -> Int {
        try await withSession { session in
            try await session.one("SELECT count(*) AS n FROM suppressions")?.int("n") ?? 0
        }
    }

    public func reviewLineCount() async throws -> Int {
        try await withSession { session in
            try await session.one("SELECT count(*) AS n FROM bank_lines WHERE status = 'review'")?.int("n") ?? 0
        }
    }

    public func openBalances() async throws -> [OpenBalance] {
        try await withSession { session in
            try await session.query("SELECT currency, due_date, balance FROM invoices WHERE status = 'open'").compactMap
            { row in
                guard let balance = Invoice.parseAmount(row.text("balance") ?? ""), balance > 0 else { return nil }
                return OpenBalance(
                    currency: row.text("currency") ?? "", dueDate: row.text("due_date") ?? "", balance: balance)
            }
        }
    }

    public func finishedCounts(since: String) async throws -> [String: [String: Int]] {
        try await withSession { session in
            var counts: [String: [String: Int]] = [:]
            for row in try await session.query(
                """
                SELECT channel, state, count(*) AS n FROM jobs
                WHERE finished_at IS NOT NULL AND finished_at >= $1::timestamptz GROUP BY channel, state
                """, [.text(since)])
            {
                counts[row.text("channel") ?? "", default: [:]][row.text("state") ?? ""] = row.int("n") ?? 0
            }
            return counts
        }
    }

    public func recentEvents(filter: EventFilter, limit: Int) async throws -> [DeliveryEvent] {
        try await withSession { session in
            var clauses = ["true"]
            var binds: [PGBind] = []
            func add(_ column: String, _ bind: PGBind) {
                binds.append(bind)
                clauses.append("\(column) = $\(binds.count)")
            }
            if let caseRef = filter.caseRef { add("case_ref", .text(caseRef)) }
            if let channel = filter.channel { add("channel", .text(channel)) }
            if let jobID = filter.jobID { add("job_id", .int(jobID)) }
            binds.append(.int(Int64(limit)))
            return try await session.query(
                """
                SELECT \(Self.eventColumns) FROM delivery_events WHERE \(clauses.joined(separator: " AND "))
                ORDER BY id DESC LIMIT $\(binds.count)
                """, binds
            ).map(Self.event(from:)).reversed()
        }
    }

    public func attentionCounts() async throws -> [String: [String: Int]] {
        try await withSession { session in
            var counts: [String: [String: Int]] = [:]
            let states = attentionStates.map { "'\($0)'" }.joined(separator: ", ")
            for row in try await session.query(
                "SELECT state, channel, count(*) AS n FROM jobs WHERE state IN (\(states)) GROUP BY state, channel")
            {
                counts[row.text("state") ?? "", default: [:]][row.text("channel") ?? ""] = row.int("n") ?? 0
            }
            return counts
        }
    }

    public func oldestDueAge() async throws -> Double {
        let age = try await read { session in
            try await session.one(
                """
                SELECT extract(epoch FROM relance_now() - min(run_at))::float8 AS age FROM jobs
                WHERE state = 'queued' AND run_at <= relance_now()
                """)?.double("age") ?? 0
        }
        return max(age, 0)
    }
}
