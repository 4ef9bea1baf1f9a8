import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore
import Synchronization

/// The writes of nearly every message, with group commit: a worker's accepted send
/// recorded, and its next job's dispatch begun, each with its trace events, each only if
/// the job is still the worker's (the conditions of `complete` and `beginDispatch`).
///
/// Workers' requests that come while a statement is running wait for it, then go
/// together in the next one (PostgreSQL commits a lone statement by itself: one round
/// trip and one commit for them all, where a transaction per message took five round
/// trips). Nothing waits for company: a request that finds no statement running is
/// written at once. A batch that fails as a whole (a deadlock with another node's
/// statement, say) is written again one request at a time, so that one request never
/// fails another's; a connection failure is every request's error, as it would be alone.
extension PostgresJobStore {
    /// Says which parts were written; the caller sends what was not to the general path.
    func usualWrite(
        accepted: (job: Job, response: ProviderResponse)?,
        begin: (job: Job, leaseSeconds: Double, rendered: [String: JSONValue])?, owner: String
    ) async throws -> (completed: Bool, began: Bool) {
        try await withCheckedThrowingContinuation { continuation in
            let request = UsualWriteQueue.Request(
                write: UsualWrite(accepted: accepted, begin: begin, owner: owner), continuation: continuation)
            if usualWrites.add(request) {
                Task { await self.flushUsualWrites() }
            }
        }
    }

    /// Writes queued requests until none is left.
    func flushUsualWrites() async {
        while let batch = usualWrites.take() {
            do {
                let written = try await writeUsual(batch.map(\.write))
                for (request, result) in zip(batch, written) { request.continuation.resume(returning: result) }
            } catch let error as PostgresStoreError where batch.count > 1 && !error.isConnectionFailure {
                // Each on its own, at once: the one that failed the batch (a row locked
                // by another transaction, say) must not hold the others back again.
                await withTaskGroup(of: Void.self) { group in
                    for request in batch {
                        group.addTask {
                            do {
                                request.continuation.resume(returning: try await self.writeUsual([request.write])[0])
                            } catch {
                                request.continuation.resume(throwing: error)
                            }
                        }
                    }
                }
            } catch {
                for request in batch { request.continuation.resume(throwing: error) }
            }
        }
    }

    /// One statement for `batch`; what each write had written, in order. Results and
    /// trace events are matched to writes by their place in the batch (and the job's
    /// attempt), never by job id alone: two workers may ask about the same job in one
    /// batch (one whose lease expired, one that claimed the job again), and only the
    /// lease holder's write may succeed.
    func writeUsual(_ batch: [UsualWrite]) async throws -> [(completed: Bool, began: Bool)] {
        var done: [JSONValue] = []
        var began: [JSONValue] = []
        var events: [(r: Int, part: String, job: Job, kind: DeliveryEventKind, detail: [String: JSONValue])] = []
        for (r, write) in batch.enumerated() {
            if let accepted = write.accepted {
                done.append(
                    .object([
                        "r": .number(String(r)), "id": .number(String(accepted.job.id)),
                        "attempt": .number(String(accepted.job.attempt)), "owner": .string(write.owner),
                        "ref": accepted.response.providerRef.map(JSONValue.string) ?? .null,
                    ]))
                events.append((r, "done", accepted.job, .accepted, TraceDetail.of(accepted.response)))
            }
            if let begin = write.begin {
                began.append(
                    .object([
                        "r": .number(String(r)), "id": .number(String(begin.job.id)),
                        "attempt": .number(String(begin.job.attempt)), "owner": .string(write.owner),
                        "lease": .number(String(begin.leaseSeconds)),
                    ]))
                events.append((r, "began", begin.job, .rendered, begin.rendered))
                events.append((r, "began", begin.job, .dispatching, [:]))
            }
        }
        let items: [JSONValue] = events.map { event in
            PGTransaction.traceItem(
                event.job, attempt: event.job.attempt, kind: event.kind, detail: event.detail,
                extra: ["r": .number(String(event.r)), "part": .string(event.part)])
        }
        let rows = try await statement(
            UsualWrites.self,
            [
                .text(JSONValue.array(done).postgresText), .text(JSONValue.array(began).postgresText),
                .text(JSONValue.array(items).postgresText),
                .ints(batch.compactMap { $0.accepted.map { $0.job.id } }),
                .ints(batch.compactMap { $0.begin.map { $0.job.id } }),
            ])
        var doneRequests: Set<Int> = []
        var beganRequests: Set<Int> = []
        var stored: [String: PGRow] = [:]
        for row in rows {
            switch row.text("part") {
            case "done": doneRequests.insert(row.int("r") ?? -1)
            case "began": beganRequests.insert(row.int("r") ?? -1)
            default: stored["\(row.int64("job_id")) \(row.int("attempt") ?? -1) \(row.text("event") ?? "")"] = row
            }
        }
        let written: [DeliveryEvent] = events.compactMap { event in
            guard event.part == "done" ? doneRequests.contains(event.r) : beganRequests.contains(event.r),
                let row = stored["\(event.job.id) \(event.job.attempt) \(event.kind.rawValue)"]
            else { return nil }
            return DeliveryEvent(
                id: row.int64("event_id"), jobID: event.job.id, attempt: event.job.attempt, at: row.text("at") ?? "",
                kind: event.kind, caseRef: event.job.caseRef, channel: event.job.channel,
                detail: .object(event.detail))
        }
        if let sink = eventSink, !written.isEmpty { sink(written.sorted { $0.id < $1.id }) }
        return batch.indices.map { r in
            (
                batch[r].accepted != nil && doneRequests.contains(r),
                batch[r].begin != nil && beganRequests.contains(r)
            )
        }
    }
}

/// What one worker asks of the usual-writes statement.
struct UsualWrite: Sendable {
    var accepted: (job: Job, response: ProviderResponse)?
    var begin: (job: Job, leaseSeconds: Double, rendered: [String: JSONValue])?
    var owner: String
}

/// The requests waiting for the next usual-writes statement.
final class UsualWriteQueue: Sendable {
    struct Request: Sendable {
        var write: UsualWrite
        var continuation: CheckedContinuation<(completed: Bool, began: Bool), any Error>
    }

    /// The most requests one statement takes.
    static let batchLimit = 64
    /// One statement at a time. Two (one running while the other waits for its commit to
    /// reach the disk) were no faster in the e-mail benchmark (docs/PERFORMANCE.md,
    /// 2026-12-07), and cost more statements.
    private let state = Mutex<(waiting: [Request], flushing: Bool)>(([], false))

    /// Queues `request`; true when no statement is running: the caller starts the flush.
    func add(_ request: Request) -> Bool {
        state.withLock { state in
            state.waiting.append(request)
            if state.flushing { return false }
            state.flushing = true
            return true
        }
    }

    /// The next batch, or nil (and the flush ends) when nothing waits.
    func take() -> [Request]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.flushing = false
                return nil
            }
            let batch = Array(state.waiting.prefix(Self.batchLimit))
            state.waiting.removeFirst(batch.count)
            return batch
        }
    }
}

/// `usualWrite`: $1 the sent jobs (JSON: r, the write's place in the batch; id, attempt,
/// owner, provider ref), $2 the jobs whose dispatch begins (r, id, attempt, owner, lease
/// seconds), $3 the trace events (each with its write's r and part), $4 and $5 the ids of
/// $1 and $2 (an index scan whatever the planner guesses of the JSON). Returns a row per
/// write whose part was written ('done', 'began', with its r) and per event stored
/// ('event', with its job, attempt and kind).
enum UsualWrites: PGStatement {
    static let name = "relance_usual_writes"
    static let types: [PostgresDataType] = [.text, .text, .text, .int8Array, .int8Array]
    static let sql = """
        WITH d AS (
          SELECT * FROM json_to_recordset($1::json) AS d(r integer, id bigint, attempt integer, owner text, ref text)
        ), done AS (
          UPDATE jobs AS j SET state = coalesce(j.reported_state, 'sent'), provider_ref = coalesce(d.ref, j.provider_ref),
            last_error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = relance_now(),
            updated_at = relance_now()
          FROM d
          WHERE j.id = ANY($4::bigint[]) AND j.id = d.id AND j.attempt = d.attempt AND j.state = 'running'
            AND j.lease_owner = d.owner
          RETURNING d.r
        ), b AS (
          SELECT * FROM json_to_recordset($2::json) AS b(r integer, id bigint, attempt integer, owner text, lease float8)
        ), began AS (
          UPDATE jobs AS j SET dispatch_started_at = relance_now(), updated_at = relance_now(),
            lease_expires_at = relance_now() + make_interval(secs => b.lease)
          FROM b
          WHERE j.id = ANY($5::bigint[]) AND j.id = b.id AND j.attempt = b.attempt AND j.state = 'running'
            AND j.lease_owner = b.owner AND j.cancel_reason IS NULL AND j.lease_expires_at >= relance_now()
          RETURNING b.r
        ), ev AS (
          INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail, at)
          SELECT (e->>'job_id')::bigint, (e->>'attempt')::integer, e->>'event', e->>'case_ref', e->>'channel',
            e->'detail', relance_now()
          FROM json_array_elements($3::json) WITH ORDINALITY AS items(e, n)
          WHERE (e->>'part' = 'done' AND (e->>'r')::integer IN (SELECT r FROM done))
             OR (e->>'part' = 'began' AND (e->>'r')::integer IN (SELECT r FROM began))
          ORDER BY n
          RETURNING id, job_id, attempt, event, relance_iso(at) AS at
        )
        SELECT 'done' AS part, r, NULL::bigint AS job_id, NULL::integer AS attempt, NULL::bigint AS event_id,
          NULL::text AS event, NULL::text AS at FROM done
        UNION ALL SELECT 'began', r, NULL, NULL, NULL, NULL, NULL FROM began
        UNION ALL SELECT 'event', NULL, job_id, attempt, id, event, at FROM ev
        """
}
