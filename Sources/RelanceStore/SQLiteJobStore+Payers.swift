import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Payers: profiles written by the API, the CLI or SQL, read whatever their columns hold.
extension SQLiteJobStore {
    @discardableResult
    public func upsertPayer(_ payer: PayerProfile) async throws -> Bool {
        try await transaction { db, _ in
            let existed = try Row.fetchOne(db, sql: "SELECT 1 FROM payers WHERE ref = ?", arguments: [payer.ref]) != nil
            try Self.upsertPayer(payer, db)
            return !existed
        }
    }

    static func upsertPayer(_ payer: PayerProfile, _ db: Database) throws {
        // Phone numbers are stored in E.164 (06 12 34 56 78 for fr-FR → +33612345678).
        let payer = payer.normalized()
        // A suppressed contact point is usable again once the profile changes it.
        try db.execute(
            sql: """
                DELETE FROM suppressions WHERE payer_ref = ? AND (
                  (channel = 'email' AND contact IS NOT ?) OR (channel = 'sms' AND contact IS NOT ?)
                  OR (channel = 'letter' AND contact IS NOT ?))
                """,
            arguments: [payer.ref, payer.email, payer.phone, payer.postalAddressJSON])
        let address = payer.postalAddressJSON
        let channels = JSONValue.array(payer.channels.map { .string($0.rawValue) }).jsonText
        try db.execute(
            sql: """
                INSERT INTO payers(ref, name, locale, timezone, segment, email, phone, postal_address, channels, kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(ref) DO UPDATE SET
                  name = excluded.name, locale = excluded.locale, timezone = excluded.timezone,
                  segment = excluded.segment, email = excluded.email, phone = excluded.phone,
                  postal_address = excluded.postal_address, channels = excluded.channels, kind = excluded.kind,
                  updated_at = \(clockNow)
                """,
            arguments: [
                payer.ref, payer.name, payer.locale, payer.timezone, payer.segment, payer.email, payer.phone, address,
                channels, payer.kind.rawValue,
            ])
    }

    public func payer(ref: String) async throws -> PayerProfile? {
        try await pool.read { db in try Self.payer(ref: ref, db) }
    }

    static func payer(ref: String, _ db: Database) throws -> PayerProfile? {
        try storedPayer(ref: ref, db)?.get()
    }

    /// The payer's row read into a profile, or why it is unusable; nil when there is none.
    static func storedPayer(ref: String, _ db: Database) throws -> Result<PayerProfile, PayerUnusable>? {
        let statement = try db.cachedStatement(
            sql:
                "SELECT *, \(RowValue.firstNulColumn(RowValue.payerTextColumns)) AS relance_nul FROM payers WHERE ref = ?"
        )
        return try Row.fetchOne(statement, arguments: [ref]).map(Self.payer(from:))
    }

    static func payer(from row: Row) -> Result<PayerProfile, PayerUnusable> {
        // Payers may be written by SQL too: every column is read whatever it holds.
        func text(_ column: String) -> String? { RowValue.text(row, column) }
        let ref = text("ref") ?? ""
        func bad(_ column: String, _ why: String) -> Result<PayerProfile, PayerUnusable> {
            .failure(PayerUnusable(message: "payer \(ref): column \(column) \(why)"))
        }
        // A NUL byte would cut the text where SQLite's C API reads it: "victim@b.fr\0attacker@…"
        // would read as the first address. Refused, naming the column.
        if let column = text("relance_nul") { return bad(column, "contains a NUL byte") }
        for column in RowValue.payerTextColumns {
            let value: DatabaseValue = row[column]
            switch value.storage {
            case .null, .string: continue
            default: return bad(column, "is \(RowValue.describe(value)), not a text")
            }
        }
        return PayerRow.profile(ref: ref, text: text)
    }
}
