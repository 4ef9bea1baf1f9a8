import Foundation
import GRDB
import RelanceCore

/// The message archive (`MessageArchive`) in the SQLite file.
extension SQLiteJobStore {
    public func archive(_ message: ArchivedMessage) async throws {
        let encoded = ArchiveCodec.encode(message.bytes)
        try await transaction { db, _ in try Self.archive(db, message, encoded) }
    }

    /// In the caller's write transaction (`beginDispatch`): the bytes are kept exactly
    /// when the dispatch is recorded as begun.
    static func archive(_ db: Database, _ message: ArchivedMessage, _ encoded: (compression: String, content: [UInt8]))
        throws
    {
        try db.executeCached(
            sql: """
                INSERT INTO message_archive(sha256, media_type, size, compression, content, archived_at)
                VALUES (?, ?, ?, ?, ?, \(clockNow))
                ON CONFLICT(sha256) DO UPDATE SET archived_at = excluded.archived_at
                """,
            arguments: [
                message.sha256, message.mediaType, message.bytes.count, encoded.compression, Data(encoded.content),
            ])
    }

    public func archived(sha256: String) async throws -> ArchivedMessage? {
        guard ArchivedMessage.isKey(sha256) else { return nil }
        guard
            let row = try await pool.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM message_archive WHERE sha256 = ?", arguments: [sha256])
            })
        else { return nil }
        let content: Data = row["content"] ?? Data()
        let bytes = try ArchiveCodec.decode(
            compression: row["compression"] ?? "", content: Array(content), size: row["size"] ?? -1, sha256: sha256)
        return ArchivedMessage(mediaType: row["media_type"] ?? "", bytes: bytes)
    }

    public func pruneArchive(retention: Double, batch: Int) async throws -> Int {
        try await transaction { db, _ in
            try db.execute(
                sql: """
                    DELETE FROM message_archive WHERE sha256 IN (
                      SELECT sha256 FROM message_archive
                      WHERE archived_at < strftime('%Y-%m-%dT%H:%M:%fZ', \(clockNow), ?) LIMIT ?)
                    """, arguments: [Self.modifier(seconds: -retention), batch])
            return db.changesCount
        }
    }
}

/// The trace's hash chain (`TraceSealing`) in the SQLite file.
extension SQLiteJobStore {
    public func sealTrace(batch: Int) async throws -> Int {
        // A read first: with nothing to seal, the writer is not taken (every second).
        let pending = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM delivery_events WHERE chain_hash IS NULL)")
                ?? false
        }
        guard pending else { return 0 }
        return try await transaction { db, _ in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_events WHERE chain_hash IS NULL ORDER BY id LIMIT ?",
                arguments: [batch])
            guard !rows.isEmpty else { return 0 }
            var seq = try Int64.fetchOne(db, sql: "SELECT coalesce(max(chain_seq), 0) FROM delivery_events") ?? 0
            var heads: [String: String] = [:]
            for row in rows {
                let event = Self.event(from: row)
                let key = TraceChain.key(caseRef: event.caseRef, jobID: event.jobID)
                let previous: String
                if let head = heads[key] {
                    previous = head
                } else if let caseRef = event.caseRef {
                    previous =
                        try String.fetchOne(
                            db,
                            sql: """
                                SELECT chain_hash FROM delivery_events WHERE case_ref = ? AND chain_seq IS NOT NULL
                                ORDER BY chain_seq DESC LIMIT 1
                                """, arguments: [caseRef]) ?? ""
                } else {
                    previous =
                        try String.fetchOne(
                            db,
                            sql: """
                                SELECT chain_hash FROM delivery_events
                                WHERE job_id = ? AND case_ref IS NULL AND chain_seq IS NOT NULL
                                ORDER BY chain_seq DESC LIMIT 1
                                """, arguments: [event.jobID]) ?? ""
                }
                let hash = TraceChain.link(previous: previous, event)
                seq += 1
                try db.execute(
                    sql: "UPDATE delivery_events SET chain_prev = ?, chain_hash = ?, chain_seq = ? WHERE id = ?",
                    arguments: [previous, hash, seq, event.id])
                heads[key] = hash
            }
            return rows.count
        }
    }

    public func chain(caseRef: String) async throws -> (sealed: [TraceChain.Sealed], unsealed: [DeliveryEvent]) {
        try await pool.read { db in
            let sealed = try Row.fetchAll(
                db,
                sql: "SELECT * FROM delivery_events WHERE case_ref = ? AND chain_seq IS NOT NULL ORDER BY chain_seq",
                arguments: [caseRef]
            ).map {
                TraceChain.Sealed(
                    event: Self.event(from: $0), previous: $0["chain_prev"] ?? "", hash: $0["chain_hash"] ?? "")
            }
            let unsealed = try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_events WHERE case_ref = ? AND chain_hash IS NULL ORDER BY id",
                arguments: [caseRef]
            ).map(Self.event(from:))
            return (sealed, unsealed)
        }
    }
}
