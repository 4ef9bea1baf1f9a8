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
            let events = rows.map(Self.event(from:))
            var seq = Int64(
                try await tx.one("SELECT coalesce(max(chain_seq), 0) AS n FROM delivery_events")?.int("n") ?? 0)
            // Every chain's head in two statements (cases, and jobs without one), not one per event.
            var heads: [String: String] = [:]
            let cases = Array(Set(events.compactMap(\.caseRef)))
            if !cases.isEmpty {
                for row in try await tx.query(
                    """
                    SELECT DISTINCT ON (case_ref) case_ref, chain_hash FROM delivery_events
                    WHERE case_ref = ANY($1::text[]) AND chain_seq IS NOT NULL ORDER BY case_ref, chain_seq DESC
                    """, [.texts(cases)])
                {
                    heads[TraceChain.key(caseRef: row.text("case_ref"), jobID: 0)] = row.text("chain_hash")
                }
            }
            let loose = Array(Set(events.filter { $0.caseRef == nil }.map(\.jobID)))
            if !loose.isEmpty {
                for row in try await tx.query(
                    """
                    SELECT DISTINCT ON (job_id) job_id, chain_hash FROM delivery_events
                    WHERE job_id = ANY($1::bigint[]) AND case_ref IS NULL AND chain_seq IS NOT NULL
                    ORDER BY job_id, chain_seq DESC
                    """, [.ints(loose)])
                {
                    heads[TraceChain.key(caseRef: nil, jobID: row.int64("job_id"))] = row.text("chain_hash")
                }
            }
            var ids: [Int64] = []
            var previous: [String] = []
            var hashes: [String] = []
            var seqs: [Int64] = []
            for event in events {
                let key = TraceChain.key(caseRef: event.caseRef, jobID: event.jobID)
                let before = heads[key] ?? ""
                let hash = TraceChain.link(previous: before, event)
                seq += 1
                ids.append(event.id)
                previous.append(before)
                hashes.append(hash)
                seqs.append(seq)
                heads[key] = hash
            }
            try await tx.query(
                """
                UPDATE delivery_events d SET chain_prev = u.prev, chain_hash = u.hash, chain_seq = u.seq
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS u(id, prev, hash, seq)
                WHERE d.id = u.id
                """, [.ints(ids), .texts(previous), .texts(hashes), .ints(seqs)])
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
