import GRDB
import Synchronization

/// Write transactions that arrive while the writer is busy are committed together
/// (group commit), each in a savepoint of its own.
///
/// Every write of the store is one short IMMEDIATE transaction, and under load the
/// daemon's workers and the API's requests queue behind each other on the one writer.
/// Committing the queued ones together writes each shared page (a `jobs` leaf, the
/// trace's last page, their indexes) to the log once instead of once per transaction,
/// and takes and releases the write lock once. Nothing waits for company: the writer
/// takes whatever is queued when it is free, so a lone write is committed at once, as
/// before.
///
/// Each write still succeeds or fails alone: its body runs in a savepoint, and an error
/// it throws rolls back its own changes only. A caller hears of its write only after the
/// commit that made it durable, so a crash between two writes of a group loses them both
/// and none was acted upon. If the commit itself fails, every write of the group fails
/// with that error.
final class GroupCommit: Sendable {
    /// One queued write: `run` applies it (inside a savepoint when `grouped`) and returns
    /// what to tell its caller once the transaction is committed; `fail` tells it the
    /// transaction failed.
    struct Write: Sendable {
        let run: @Sendable (Database, _ grouped: Bool) throws -> @Sendable () -> Void
        let fail: @Sendable (Error) -> Void
    }

    private struct Queue {
        var writes: [Write] = []
        var draining = false
    }

    private let queue = Mutex(Queue())
    private let pool: DatabasePool
    /// Called at the start and at the end of each transaction (the store pins "now").
    private let begin: @Sendable () -> Void
    private let end: @Sendable () -> Void
    /// At most this many writes share one transaction, so that one stays short.
    let maximumGroup: Int
    /// Transactions committed or rolled back so far, and writes queued now (for tests).
    let transactions = Atomic<Int>(0)
    var queued: Int { queue.withLock { $0.writes.count } }

    init(
        pool: DatabasePool, maximumGroup: Int = 64, begin: @escaping @Sendable () -> Void,
        end: @escaping @Sendable () -> Void
    ) {
        self.pool = pool
        self.maximumGroup = maximumGroup
        self.begin = begin
        self.end = end
    }

    /// Runs `body` in a write transaction, possibly shared with other writes queued
    /// meanwhile; returns once that transaction is committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let write = Write(
                run: { db, grouped in
                    do {
                        var result: T?
                        if grouped {
                            try db.inSavepoint {
                                result = try body(db)
                                return .commit
                            }
                        } else {
                            result = try body(db)
                        }
                        let value = result!
                        return { continuation.resume(returning: value) }
                    } catch  where grouped && db.isInsideTransaction {
                        // Only this write's savepoint was rolled back; the others go on.
                        return { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) })
            let start = queue.withLock { queue in
                queue.writes.append(write)
                defer { queue.draining = true }
                return !queue.draining
            }
            if start { schedule() }
        }
    }

    private func schedule() {
        pool.asyncWriteWithoutTransaction { db in self.drain(db) }
    }

    /// Commits the queued writes group after group. After a few groups it yields the
    /// writer to the other work queued on it (checkpoints) and carries on afterwards.
    private func drain(_ db: Database) {
        for _ in 0..<8 {
            let group: [Write] = queue.withLock { queue in
                let taken = Array(queue.writes.prefix(maximumGroup))
                queue.writes.removeFirst(taken.count)
                if taken.isEmpty { queue.draining = false }
                return taken
            }
            if group.isEmpty { return }
            commit(group, db)
        }
        schedule()
    }

    private func commit(_ group: [Write], _ db: Database) {
        var replies: [@Sendable () -> Void] = []
        transactions.add(1, ordering: .relaxed)
        do {
            try db.inTransaction(.immediate) {
                replies = []
                begin()
                defer { end() }
                let grouped = group.count > 1
                for write in group {
                    // A write whose failure ended the whole transaction (SQLite rolls
                    // back on some errors, such as a full disk) fails the group.
                    guard db.isInsideTransaction else {
                        throw DatabaseError(
                            resultCode: .SQLITE_ABORT, message: "the group's transaction was rolled back")
                    }
                    replies.append(try write.run(db, grouped))
                }
                return .commit
            }
        } catch {
            for write in group { write.fail(error) }
            return
        }
        for reply in replies { reply() }
    }
}
