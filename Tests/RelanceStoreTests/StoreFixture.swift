import Foundation
import GRDB
import RelanceCore
import Synchronization

@testable import RelanceStore

/// A migrated store in a fresh temporary directory, removed afterwards, with the
/// events handed to the sink kept for inspection.
///
/// The tests use `store`, typed by the role protocols (`JobStore`), so that they can run
/// on another backend; `sqlite` is for what only SQLite has (plain SQL as another service
/// would write it, the file, the WAL).
final class StoreFixture: Sendable {
    let directory: String
    let sqlite: SQLiteJobStore
    var store: any JobStore { sqlite }
    private let sink: SinkBox

    init() async throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-store-\(UUID().uuidString)").path
        let sink = SinkBox()
        self.sink = sink
        sqlite = try SQLiteJobStore(path: directory + "/relance.sqlite") { events in sink.append(events) }
        try await sqlite.migrate()
    }

    /// Every call to the sink so far, in order.
    var sunk: [[DeliveryEvent]] { sink.calls }
    func resetSink() { sink.reset() }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static let payer = PayerProfile(ref: "P-1", name: "Dupont & Fils", email: "compta@dupont.example")

    static func job(
        key: String? = nil, payer: String = "P-1", caseRef: String? = "CASE-1", template: String = "reminder-1",
        runAt: String? = nil, priority: Int = 0
    ) -> NewJob {
        NewJob(
            idempotencyKey: key, payerRef: payer, caseRef: caseRef, channel: .email, template: template,
            data: #"{"total_due":{"amount":"1250.00","currency":"EUR"}}"#, runAt: runAt, priority: priority)
    }

    /// Enqueues jobs (with the default payer) and returns their ids.
    @discardableResult
    func enqueue(_ jobs: NewJob...) async throws -> [Int64] {
        try await store.enqueue(jobs, payers: [Self.payer]).map(\.id)
    }

    /// Enqueues one due job and claims it for `owner`.
    func claimedJob(owner: String = "w1", caseRef: String? = "CASE-1", leaseSeconds: Double = 60) async throws -> Job {
        try await enqueue(Self.job(caseRef: caseRef))
        let claimed = try await store.claim(owner: owner, limit: 1, leaseSeconds: leaseSeconds)
        guard let job = claimed.first?.job else { throw FixtureError("nothing claimed") }
        return job
    }

    func kinds(_ id: Int64) async throws -> [DeliveryEventKind] {
        try await store.events(jobID: id).map(\.kind)
    }

    /// Plain SQL, as another service would run it.
    func execute(_ sql: String, _ arguments: StatementArguments = []) async throws {
        try await sqlite.pool.write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    func scalar(_ sql: String) async throws -> String? {
        try await sqlite.pool.read { db in try String.fetchOne(db, sql: sql) }
    }
}

final class SinkBox: Sendable {
    private let storage = Mutex<[[DeliveryEvent]]>([])
    func append(_ events: [DeliveryEvent]) { storage.withLock { $0.append(events) } }
    var calls: [[DeliveryEvent]] { storage.withLock { $0 } }
    func reset() { storage.withLock { $0 = [] } }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Parses a stored timestamp; the tests compare instants, not strings.
func instant(_ text: String?) -> Date? {
    text.flatMap(Timestamp.date(from:))
}
