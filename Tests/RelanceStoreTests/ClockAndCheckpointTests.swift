import Foundation
import GRDB
import RelanceCore
import Synchronization
import Testing

@testable import RelanceStore

/// A clock that moves one millisecond forward each time it is read: any statement that
/// read it twice would stamp two different instants.
final class TickingClock: WallClock {
    let current = Mutex(Date(timeIntervalSince1970: 1_795_000_000))
    func now() -> Date {
        current.withLock { date in
            date.addTimeInterval(0.001)
            return date
        }
    }
}

@Suite("SQLiteJobStore: one instant per statement, checkpoints, checks inside the insert", .sqliteOnly)
struct ClockAndCheckpointTests {
    func store(clock: any WallClock = SystemWallClock()) async throws -> (SQLiteJobStore, String) {
        let directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-store-\(UUID().uuidString)").path
        let store = try SQLiteJobStore(path: directory + "/relance.sqlite", clock: clock)
        try await store.migrate()
        return (store, directory)
    }

    @Test("a write transaction reads the clock once: run_at equals due_at, finished_at equals updated_at")
    func oneInstantPerStatement() async throws {
        let (store, directory) = try await store(clock: TickingClock())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let results = try await store.enqueue(
            [StoreFixture.job(), StoreFixture.job(caseRef: "CASE-2")], payers: [StoreFixture.payer])
        let first = try #require(try await store.job(id: results[0].id))
        let second = try #require(try await store.job(id: results[1].id))
        #expect(first.runAt == first.dueAt)
        // One transaction, one instant.
        #expect(second.runAt == first.runAt)
        // The next transaction reads the clock afresh.
        let later = try await store.enqueue([StoreFixture.job(caseRef: "CASE-3")], payers: [])
        let third = try #require(try await store.job(id: later[0].id))
        #expect(third.runAt > first.runAt)
        let cancelled = try await store.cancelCase("CASE-1", reason: .paid)
        #expect(cancelled.cancelled == 1)
        let row = try #require(
            try await store.pool.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT finished_at, updated_at FROM jobs WHERE id = ?", arguments: [first.id])
            })
        let finished: String = try #require(row["finished_at"])
        #expect(finished == row["updated_at"])
    }

    @Test("checkpoints copy the log from another connection and keep it from growing")
    func checkpoints() async throws {
        let (store, directory) = try await store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await store.checkpoint(maxLogFrames: 50)
        #expect(first.isComplete)
        // The writer no longer checkpoints inside its commits.
        let autocheckpoint = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        #expect(autocheckpoint == 0)
        func logSize() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int ?? 0
        }
        let before = try logSize()
        var largest = 0
        var written = 0
        for round in 0..<20 {
            let jobs = (0..<50).map { StoreFixture.job(key: "k-\(round)-\($0)") }
            _ = try await store.enqueue(jobs, payers: [StoreFixture.payer])
            // Every other round, a log over the limit: the writer copies the last frames.
            let limit = round.isMultiple(of: 2) ? 1_000 : 5
            let result = try await store.checkpoint(maxLogFrames: limit)
            #expect(result.isComplete)
            #expect(result.byWriter == (limit == 5))
            largest = max(largest, result.logFrames)
            written += result.logFrames
        }
        // The log file starts over after each complete checkpoint: it never holds more than
        // the largest log seen (or what the migration wrote), not the 20 rounds' frames.
        #expect(written > 3 * largest)
        #expect(try logSize() <= max(before, 32 + largest * (4_096 + 24)))
        let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs") }
        #expect(count == 1_000)
    }

    @Test("the check runs inside the insert's transaction and refuses everything when it finds errors")
    func checkInsideTransaction() async throws {
        let (store, directory) = try await store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.upsertPayer(StoreFixture.payer)
        let seen = Mutex<[String: PayerProfile?]>([:])
        await #expect(throws: InvalidFields([FieldError("/1/payer_ref", "no such payer")])) {
            try await store.enqueue([StoreFixture.job(), StoreFixture.job(payer: "P-2")], payers: []) { stored in
                var errors: [FieldError] = []
                for (index, ref) in ["P-1", "P-2"].enumerated() {
                    let payer = try? stored(ref)
                    seen.withLock { $0[ref] = .some(payer) }
                    if payer == nil { errors.append(FieldError("/\(index)/payer_ref", "no such payer")) }
                }
                return errors
            }
        }
        #expect(seen.withLock { $0["P-1"] } == .some(StoreFixture.payer))
        #expect(seen.withLock { $0["P-2"] } == .some(nil))
        let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs") }
        #expect(count == 0)
        // Accepted: inserted.
        let results = try await store.enqueue([StoreFixture.job()], payers: []) { _ in [] }
        #expect(results.map(\.created) == [true])
    }
}
