import Foundation
import RelanceCore
import RelanceStore

/// The PostgreSQL end of `relance db copy`: rows written in one transaction into an empty
/// schema, identities moved past the copied ids, then read back for the checksums.
extension PostgresJobStore {
    /// How many rows the tables of the schema hold (the copy refuses a target that is not empty).
    public func rowCounts() async throws -> [String: Int] {
        try await withSession { session in
            var counts: [String: Int] = [:]
            for table in CopySchema.tables {
                counts[table.name] = try await session.one("SELECT count(*) AS n FROM \(table.name)")?.int("n") ?? 0
            }
            return counts
        }
    }

    /// Writes every table in one transaction, 500 rows a statement, then reads them back
    /// in that transaction and hands them to `verify`: nothing is committed when a row is
    /// refused (the error names the table) or when `verify` throws.
    public func importCopy(
        _ tables: [CopySchema.Rows], verify: @escaping @Sendable ([CopySchema.Rows]) throws -> Void
    ) async throws {
        try await transaction { tx in
            // The copied trace must not get a second `enqueued` event, nor wake anyone yet.
            try await tx.query("ALTER TABLE jobs DISABLE TRIGGER jobs_enqueued")
            for rows in tables {
                let table = rows.table
                let casts = table.columns.map { column -> String in
                    let value = "r->>\(column.sqlLiteral)"
                    if table.instants.contains(column) { return "(\(value))::timestamptz" }
                    if table.integers.contains(column) { return "(\(value))::bigint" }
                    if table.json.contains(column) { return "(\(value))::json" }
                    if table.binary.contains(column) { return "decode(\(value), 'hex')" }
                    return value
                }
                for start in stride(from: 0, to: rows.rows.count, by: 500) {
                    let chunk = rows.rows[start..<min(start + 500, rows.rows.count)]
                    let items: [JSONValue] = chunk.map { row in
                        .object(
                            Dictionary(
                                uniqueKeysWithValues: zip(table.columns, row).map {
                                    ($0, $1.map(JSONValue.string) ?? .null)
                                }))
                    }
                    do {
                        try await tx.query(
                            """
                            INSERT INTO \(table.name) (\(table.columns.joined(separator: ", ")))
                            SELECT \(casts.joined(separator: ", ")) FROM json_array_elements($1::json) AS items(r)
                            """, [.text(JSONValue.array(items).postgresText)])
                    } catch let error as PostgresStoreError {
                        throw PostgresStoreError(
                            description: "table \(table.name), rows \(start + 1)…: \(error.description)",
                            connectionFailure: error.isConnectionFailure)
                    }
                }
                if table.integers.contains("id") {
                    try await tx.query(
                        """
                        SELECT setval(pg_get_serial_sequence($1, 'id'), greatest((SELECT max(id) FROM \(table.name)), 1),
                          (SELECT max(id) FROM \(table.name)) IS NOT NULL)
                        """, [.text(table.name)])
                }
            }
            try await tx.query("ALTER TABLE jobs ENABLE TRIGGER jobs_enqueued")
            try verify(try await Self.exportForCopy(tx.session))
            try await tx.query("SELECT pg_notify($1, '')", [.text(PostgresSchema.channel(self.schema))])
        }
    }

    /// Every table as `SQLiteJobStore.exportForCopy` gives it, for the checksums.
    public func exportForCopy() async throws -> [CopySchema.Rows] {
        try await withSession { session in try await Self.exportForCopy(session) }
    }

    static func exportForCopy(_ session: PGSession) async throws -> [CopySchema.Rows] {
        var result: [CopySchema.Rows] = []
        for table in CopySchema.tables {
            let select = table.columns.map { column in
                if table.binary.contains(column) { return "upper(encode(\(column), 'hex')) AS \(column)" }
                return table.instants.contains(column)
                    ? "relance_iso(\(column)) AS \(column)" : "(\(column))::text AS \(column)"
            }
            let rows = try await session.query(
                "SELECT \(select.joined(separator: ", ")) FROM \(table.name) ORDER BY \(table.key)")
            result.append(CopySchema.Rows(table: table, rows: rows.map { row in table.columns.map { row.text($0) } }))
        }
        return result
    }
}

extension String {
    /// The text as an SQL string literal.
    var sqlLiteral: String { "'" + replacingOccurrences(of: "'", with: "''") + "'" }
}
