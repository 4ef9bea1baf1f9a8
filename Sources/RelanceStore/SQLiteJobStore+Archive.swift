import Foundation
import GRDB
import RelanceCore

/// The message archive (`MessageArchive`) in the SQLite file.
extension SQLiteJobStore {
    public func archive(_ message: ArchivedMessage) async throws {
        let (compression, content) = ArchiveCodec.encode(message.bytes)
        try await transaction { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO message_archive(sha256, media_type, size, compression, content, archived_at)
                    VALUES (?, ?, ?, ?, ?, \(clockNow))
                    ON CONFLICT(sha256) DO UPDATE SET archived_at = excluded.archived_at
                    """,
                arguments: [message.sha256, message.mediaType, message.bytes.count, compression, Data(content)])
        }
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
