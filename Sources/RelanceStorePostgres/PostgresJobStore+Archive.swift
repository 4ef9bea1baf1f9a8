import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore

/// The message archive (`MessageArchive`) in PostgreSQL, read by every node.
extension PostgresJobStore {
    public func archive(_ message: ArchivedMessage) async throws {
        let (compression, content) = ArchiveCodec.encode(message.bytes)
        try await withSession { session in
            _ = try await session.query(
                """
                INSERT INTO message_archive(sha256, media_type, size, compression, content, archived_at)
                VALUES ($1, $2, $3, $4, decode($5, 'base64'), relance_now())
                ON CONFLICT (sha256) DO UPDATE SET archived_at = excluded.archived_at
                """,
                [
                    .text(message.sha256), .text(message.mediaType), .int(Int64(message.bytes.count)),
                    .text(compression), .text(Data(content).base64EncodedString()),
                ])
        }
    }

    public func archived(sha256: String) async throws -> ArchivedMessage? {
        guard ArchivedMessage.isKey(sha256) else { return nil }
        let row = try await withSession { session in
            try await session.one(
                """
                SELECT media_type, size, compression, encode(content, 'base64') AS content
                FROM message_archive WHERE sha256 = $1
                """, [.text(sha256)])
        }
        guard let row else { return nil }
        // encode(…, 'base64') breaks lines every 76 characters.
        let text = (row.text("content") ?? "").filter { $0 != "\n" }
        guard let content = Data(base64Encoded: text) else {
            throw ArchiveError.unreadable(sha256: sha256, why: "content is not base64")
        }
        let bytes = try ArchiveCodec.decode(
            compression: row.text("compression") ?? "", content: Array(content), size: row.int("size") ?? -1,
            sha256: sha256)
        return ArchivedMessage(mediaType: row.text("media_type") ?? "", bytes: bytes)
    }

    public func pruneArchive(retention: Double, batch: Int) async throws -> Int {
        try await withSession { session in
            try await session.query(
                """
                DELETE FROM message_archive WHERE sha256 IN (
                  SELECT sha256 FROM message_archive WHERE archived_at < relance_now() - make_interval(secs => $1)
                  LIMIT $2)
                RETURNING sha256
                """, [.double(retention), .int(Int64(batch))]
            ).count
        }
    }
}
