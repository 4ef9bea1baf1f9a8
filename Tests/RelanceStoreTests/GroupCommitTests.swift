import Foundation
import GRDB
import Synchronization
import Testing

@testable import RelanceStore

@Suite("GroupCommit: queued writes share a transaction, each succeeds or fails alone", .sqliteOnly)
struct GroupCommitTests {
    struct Refused: Error, Equatable { let value: Int }

    func pool() throws -> (DatabasePool, String) {
        let directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-group-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: directory + "/t.sqlite")
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE t(x INTEGER UNIQUE)")
            try db.execute(sql: "INSERT INTO t(x) VALUES (1000)")
        }
        return (pool, directory)
    }

    /// Holds the writer until `count` writes are queued, so that they form one group.
    func hold(_ pool: DatabasePool, until group: GroupCommit, queued count: Int) -> @Sendable () -> Void {
        let gate = DispatchSemaphore(value: 0)
        pool.asyncWriteWithoutTransaction { _ in gate.wait() }
        return {
            while group.queued < count { usleep(1000) }
            gate.signal()
        }
    }

    @Test("writes queued behind a busy writer are committed in one transaction; a failing one rolls back alone")
    func groupsAndIsolates() async throws {
        let (pool, directory) = try pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let group = GroupCommit(pool: pool, begin: {}, end: {})
        let release = hold(pool, until: group, queued: 30)
        let outcomes = await withTaskGroup(of: (Int, Result<Int, Error>).self) { tasks in
            for value in 0..<30 {
                tasks.addTask {
                    do {
                        let stored = try await group.write { db -> Int in
                            // 7 inserts and then refuses: its row must not stay.
                            // 13 breaks the unique constraint (1000 is there already): its own statement fails.
                            try db.execute(
                                sql: "INSERT INTO t(x) VALUES (?)", arguments: [value == 13 ? 1000 : value])
                            if value == 7 { throw Refused(value: 7) }
                            return value
                        }
                        return (value, .success(stored))
                    } catch {
                        return (value, .failure(error))
                    }
                }
            }
            Thread.detachNewThread { release() }
            var outcomes: [Int: Result<Int, Error>] = [:]
            for await (value, outcome) in tasks { outcomes[value] = outcome }
            return outcomes
        }
        #expect(group.transactions.load(ordering: .relaxed) == 1)
        for value in 0..<30 {
            switch (value, outcomes[value]!) {
            case (7, .failure(let error)): #expect(error as? Refused == Refused(value: 7))
            case (13, .failure(let error)): #expect((error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT)
            case (let v, .success(let stored)) where v != 7 && v != 13: #expect(stored == v)
            case (let v, let outcome): Issue.record("write \(v): unexpected \(outcome)")
            }
        }
        let rows = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT x FROM t WHERE x < 1000 ORDER BY x") }
        #expect(rows == (0..<30).filter { $0 != 7 && $0 != 13 })
    }

    @Test("a lone write that throws rolls back and reports its own error")
    func loneWriteFails() async throws {
        let (pool, directory) = try pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let group = GroupCommit(pool: pool, begin: {}, end: {})
        await #expect(throws: Refused(value: 1)) {
            try await group.write { db in
                try db.execute(sql: "INSERT INTO t(x) VALUES (1)")
                throw Refused(value: 1)
            }
        }
        #expect(try await group.write { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE x = 1") } == 0)
        #expect(group.transactions.load(ordering: .relaxed) == 2)
    }

    @Test("more writes than a group holds are committed in several transactions, in order")
    func boundedGroups() async throws {
        let (pool, directory) = try pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let group = GroupCommit(pool: pool, maximumGroup: 4, begin: {}, end: {})
        let release = hold(pool, until: group, queued: 10)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for value in 0..<10 {
                tasks.addTask {
                    try await group.write { db in try db.execute(sql: "INSERT INTO t(x) VALUES (?)", arguments: [value])
                    }
                }
            }
            Thread.detachNewThread { release() }
            try await tasks.waitForAll()
        }
        #expect(group.transactions.load(ordering: .relaxed) == 3)
        let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE x < 1000") }
        #expect(count == 10)
    }
}
