import Foundation
import GRDB
import RelanceCore

/// What `relance db copy` moves from one backend to another: every table, its columns,
/// and which of them hold instants (text on SQLite, `timestamptz` on PostgreSQL),
/// integers and JSON.
public enum CopySchema {
    public struct Table: Sendable {
        public var name: String
        public var columns: [String]
        public var instants: Set<String> = []
        public var integers: Set<String> = []
        public var json: Set<String> = []
        /// Bytes, copied as upper-case hex text.
        public var binary: Set<String> = []
        /// The column rows are ordered by (and the identity is set from, for `id`).
        public var key: String
    }

    public static let tables: [Table] = [
        Table(
            name: "payers",
            columns: [
                "ref", "name", "locale", "timezone", "segment", "email", "phone", "postal_address", "channels", "kind",
                "created_at", "updated_at",
            ], instants: ["created_at", "updated_at"], key: "ref"),
        Table(
            name: "invoices",
            columns: [
                "ref", "payer_ref", "scenario", "currency", "amount", "balance", "issue_date", "due_date", "status",
                "hold_until", "hold_reason", "created_at", "updated_at", "paid_at",
            ], instants: ["created_at", "updated_at"], key: "ref"),
        Table(
            name: "payments", columns: ["id", "invoice_ref", "amount", "paid_on", "recorded_at"],
            instants: ["recorded_at"], integers: ["id"], key: "id"),
        Table(
            name: "suppressions", columns: ["payer_ref", "channel", "contact", "reason", "created_at"],
            instants: ["created_at"], key: "payer_ref, channel"),
        Table(
            name: "jobs",
            columns: [
                "id", "idempotency_key", "payer_ref", "case_ref", "channel", "template", "data", "run_at", "due_at",
                "priority", "state", "attempt", "max_attempts", "lease_owner", "lease_expires_at",
                "dispatch_started_at", "cancel_reason", "last_error", "provider_ref", "reported_state", "held_run_at",
                "created_at", "updated_at", "finished_at",
            ],
            instants: [
                "run_at", "due_at", "lease_expires_at", "dispatch_started_at", "held_run_at", "created_at",
                "updated_at", "finished_at",
            ], integers: ["id", "priority", "attempt", "max_attempts"], key: "id"),
        Table(
            name: "delivery_events",
            columns: [
                "id", "job_id", "attempt", "at", "event", "case_ref", "channel", "detail", "chain_prev", "chain_hash",
                "chain_seq",
            ],
            instants: ["at"], integers: ["id", "job_id", "attempt", "chain_seq"], json: ["detail"], key: "id"),
        Table(
            name: "message_archive",
            columns: ["sha256", "media_type", "size", "compression", "content", "archived_at"],
            instants: ["archived_at"], integers: ["size"], binary: ["content"], key: "sha256"),
    ]

    /// A table's rows as text (nil for NULL), instants in the stored format.
    public struct Rows: Sendable {
        public var table: Table
        public var rows: [[String?]]

        public init(table: Table, rows: [[String?]]) {
            self.table = table
            self.rows = rows
        }

        /// SHA-256 of the rows, one line per row (columns separated by a unit separator,
        /// NULL written apart from every text), lines sorted by their bytes: the same on
        /// both backends whatever their collations.
        public var checksum: String {
            let lines = rows.map { row in
                Array((row.map { $0.map { "=" + $0 } ?? "\u{0}" }.joined(separator: "\u{1F}") + "\n").utf8)
            }
            return SHA256.hex(lines.sorted { $0.lexicographicallyPrecedes($1) }.flatMap { $0 })
        }
    }

    /// An instant written any way a row may hold it, in the stored format; the text as it
    /// is when it names none.
    public static func canonicalInstant(_ text: String) -> String {
        Timestamp.date(from: text).map(Timestamp.string(from:)) ?? text
    }

    /// Releases the leases of running jobs as a copy must (no daemon runs on the source):
    /// a job not yet dispatching goes back to the queue with its attempt given back; one
    /// whose dispatch started becomes `uncertain`, as the sweeper would make it.
    /// Returns the number of leases released.
    public static func releaseLeases(_ jobs: inout Rows, now: String) -> Int {
        let column = Dictionary(uniqueKeysWithValues: jobs.table.columns.enumerated().map { ($1, $0) })
        var released = 0
        for index in jobs.rows.indices where jobs.rows[index][column["state"]!] == "running" {
            released += 1
            var row = jobs.rows[index]
            row[column["lease_owner"]!] = nil
            row[column["lease_expires_at"]!] = nil
            row[column["updated_at"]!] = now
            if row[column["dispatch_started_at"]!] == nil {
                row[column["state"]!] = "queued"
                row[column["attempt"]!] = String(max(0, (Int(row[column["attempt"]!] ?? "1") ?? 1) - 1))
            } else {
                row[column["state"]!] = row[column["reported_state"]!] ?? "uncertain"
                row[column["finished_at"]!] = now
                if row[column["reported_state"]!] == nil {
                    row[column["last_error"]!] =
                        "running when the database was copied, after dispatch started: the message may have been sent; an operator must decide"
                }
            }
            jobs.rows[index] = row
        }
        return released
    }
}

extension SQLiteJobStore {
    /// Every table of `CopySchema` in one read transaction (a consistent snapshot).
    public func exportForCopy() async throws -> [CopySchema.Rows] {
        try await pool.read { db in
            try CopySchema.tables.map { table in
                let select = table.columns.map { table.binary.contains($0) ? "hex(\($0))" : "CAST(\($0) AS TEXT)" }
                    .joined(separator: ", ")
                let rows = try Row.fetchAll(db, sql: "SELECT \(select) FROM \(table.name) ORDER BY \(table.key)")
                return CopySchema.Rows(
                    table: table,
                    rows: rows.map { row in
                        table.columns.indices.map { i -> String? in
                            guard let text: String = row[i] else { return nil }
                            return table.instants.contains(table.columns[i])
                                ? CopySchema.canonicalInstant(text) : text
                        }
                    })
            }
        }
    }

    /// True when a daemon serving this database holds its lock file (`DaemonLock`).
    public var lockPath: String { path + ".serve.lock" }
}
