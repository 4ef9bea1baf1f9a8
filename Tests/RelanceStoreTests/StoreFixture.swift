import Foundation
import GRDB
import PostgresNIO
import RelanceCore
import RelanceStorePostgres
import Synchronization
import Testing

@testable import RelanceStore

/// A migrated store in a fresh temporary directory, removed afterwards, with the
/// events handed to the sink kept for inspection.
///
/// The tests use `store`, typed by the role protocols (`JobStore`), so that they run on
/// both backends: SQLite by default, PostgreSQL when `RELANCE_TEST_STORE=postgres` and
/// `RELANCE_TEST_POSTGRES_URL` names a server (`make test` runs the suite both ways, on a
/// throwaway cluster: IntegrationTests/pgcluster.py). On PostgreSQL each fixture has a
/// schema of its own. `sqlite` is for what only SQLite has (the file, the WAL, rows as
/// SQLite's typing lets another service write them): such tests carry `.sqliteOnly`.
final class StoreFixture: Sendable {
    enum Backend: String { case sqlite, postgres }

    static let backend: Backend =
        ProcessInfo.processInfo.environment["RELANCE_TEST_STORE"] == "postgres" ? .postgres : .sqlite
    static var onPostgres: Bool { backend == .postgres }

    let directory: String
    private let sqliteStore: SQLiteJobStore?
    let postgres: PostgresJobStore?
    var sqlite: SQLiteJobStore { sqliteStore! }
    var store: any JobStore { postgres ?? sqliteStore! }
    private let sink: SinkBox

    init(databaseClock: (any WallClock)? = nil) async throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-store-\(UUID().uuidString)").path
        let sink = SinkBox()
        self.sink = sink
        switch Self.backend {
        case .sqlite:
            sqliteStore = try SQLiteJobStore(
                path: directory + "/relance.sqlite", clock: databaseClock ?? SystemWallClock()
            ) { events in
                sink.append(events)
            }
            postgres = nil
            try await sqliteStore!.migrate()
        case .postgres:
            sqliteStore = nil
            postgres = try Self.postgresStore(databaseClock: databaseClock) { events in sink.append(events) }
            try await postgres!.migrate()
        }
    }

    /// A store on the test server, in a schema of its own.
    static func postgresStore(
        schema: String = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""),
        clock: any WallClock = SystemWallClock(), databaseClock: (any WallClock)? = nil,
        eventSink: (@Sendable ([DeliveryEvent]) -> Void)? = nil
    ) throws -> PostgresJobStore {
        guard let url = ProcessInfo.processInfo.environment["RELANCE_TEST_POSTGRES_URL"] else {
            throw FixtureError("RELANCE_TEST_STORE=postgres needs RELANCE_TEST_POSTGRES_URL (make test sets both)")
        }
        var settings = try PostgresSettings(url: url)
        settings.schema = schema
        settings.poolSize = 4
        var logger = Logger(label: "relance.postgres.test")
        logger.logLevel = .critical
        return try PostgresJobStore(
            settings: settings, clock: clock, databaseClock: databaseClock, logger: logger, eventSink: eventSink)
    }

    /// Every call to the sink so far, in order.
    var sunk: [[DeliveryEvent]] { sink.calls }
    func resetSink() { sink.reset() }

    deinit {
        postgres?.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

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

    /// Plain SQL, as another service would run it: `?` placeholders, on either backend.
    func execute(_ sql: String, _ arguments: [any FixtureValue] = []) async throws {
        if let postgres {
            var text = ""
            var n = 0
            for character in sql {
                if character == "?" {
                    n += 1
                    text += "$\(n)"
                } else {
                    text.append(character)
                }
            }
            var binds = PostgresBindings()
            for argument in arguments { argument.bind(&binds) }
            let query = PostgresQuery(unsafeSQL: text, binds: binds)
            try await postgres.withConnection { connection in
                _ = try await connection.query(query, logger: Logger(label: "test"))
            }
            return
        }
        let values = StatementArguments(arguments.map { $0.databaseValue })
        try await sqlite.pool.write { db in try db.execute(sql: sql, arguments: values) }
    }

    /// The first column of the first row, as text, on either backend.
    func scalar(_ sql: String) async throws -> String? {
        if let postgres {
            return try await postgres.withConnection { connection in
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test"))
                for try await row in rows { return try row.decode(String?.self) }
                return nil
            }
        }
        return try await sqlite.pool.read { db in try String.fetchOne(db, sql: sql) }
    }
}

/// A value bound by `StoreFixture.execute` on either backend.
protocol FixtureValue: Sendable {
    var databaseValue: DatabaseValue { get }
    func bind(_ binds: inout PostgresBindings)
}
extension Int64: FixtureValue {
    func bind(_ binds: inout PostgresBindings) { binds.append(self) }
}
extension Int: FixtureValue {
    func bind(_ binds: inout PostgresBindings) { binds.append(Int64(self)) }
}
extension String: FixtureValue {
    func bind(_ binds: inout PostgresBindings) { binds.append(self) }
}

extension Trait where Self == ConditionTrait {
    /// For what only SQLite has (its file, its WAL, its typing, its triggers' words).
    static var sqliteOnly: Self { .enabled(if: !StoreFixture.onPostgres, "SQLite only") }
    /// For the PostgreSQL backend's own tests.
    static var postgresOnly: Self {
        .enabled(if: StoreFixture.onPostgres, "PostgreSQL only (RELANCE_TEST_STORE=postgres)")
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
