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

/// The trace's hash chain (`TraceSealing`): one node seals at a time (a transaction-level
/// advisory lock; the others skip their turn), in the order events were written.
extension PostgresJobStore {

    public func sealTrace(batch: Int) async throws -> Int {
        try await transaction { tx in
            // The lock is the schema's: nodes of another installation in the same database
            // seal their own trace meanwhile.
            let got = try await tx.one(
                "SELECT pg_try_advisory_xact_lock(hashtext('relance-seal'), hashtext(current_schema())) AS got")
            guard got?.bool("got") == true else { return 0 }
            // Only events whose transaction committed a moment ago: an id taken by a
            // transaction still open must not be passed by later ones (ids are not
            // handed out in commit order).
            let rows = try await tx.query(
                """
                SELECT \(Self.eventColumns) FROM delivery_events
                WHERE chain_hash IS NULL AND at < relance_now() - interval '2 seconds' ORDER BY id LIMIT $1
                """, [.int(Int64(batch))])
            guard !rows.isEmpty else { return 0 }
            var seq = Int64(
                try await tx.one("SELECT coalesce(max(chain_seq), 0) AS n FROM delivery_events")?.int("n") ?? 0)
            var heads: [String: String] = [:]
            for row in rows {
                let event = Self.event(from: row)
                let key = TraceChain.key(caseRef: event.caseRef, jobID: event.jobID)
                var previous = heads[key]
                if previous == nil {
                    let head =
                        if let caseRef = event.caseRef {
                            try await tx.one(
                                """
                                SELECT chain_hash FROM delivery_events WHERE case_ref = $1 AND chain_seq IS NOT NULL
                                ORDER BY chain_seq DESC LIMIT 1
                                """, [.text(caseRef)])
                        } else {
                            try await tx.one(
                                """
                                SELECT chain_hash FROM delivery_events
                                WHERE job_id = $1 AND case_ref IS NULL AND chain_seq IS NOT NULL
                                ORDER BY chain_seq DESC LIMIT 1
                                """, [.int(event.jobID)])
                        }
                    previous = head?.text("chain_hash") ?? ""
                }
                let hash = TraceChain.link(previous: previous!, event)
                seq += 1
                try await tx.query(
                    "UPDATE delivery_events SET chain_prev = $1, chain_hash = $2, chain_seq = $3 WHERE id = $4",
                    [.text(previous!), .text(hash), .int(seq), .int(event.id)])
                heads[key] = hash
            }
            return rows.count
        }
    }

    public func chain(caseRef: String) async throws -> (sealed: [TraceChain.Sealed], unsealed: [DeliveryEvent]) {
        try await withSession { session in
            let sealed = try await session.query(
                """
                SELECT \(Self.eventColumns), chain_prev, chain_hash FROM delivery_events
                WHERE case_ref = $1 AND chain_seq IS NOT NULL ORDER BY chain_seq
                """, [.text(caseRef)]
            ).map {
                TraceChain.Sealed(
                    event: Self.event(from: $0), previous: $0.text("chain_prev") ?? "",
                    hash: $0.text("chain_hash") ?? "")
            }
            let unsealed = try await session.query(
                "SELECT \(Self.eventColumns) FROM delivery_events WHERE case_ref = $1 AND chain_hash IS NULL ORDER BY id",
                [.text(caseRef)]
            ).map(Self.event(from:))
            return (sealed, unsealed)
        }
    }
}
