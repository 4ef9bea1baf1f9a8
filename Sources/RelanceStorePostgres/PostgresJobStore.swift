import Foundation
import Logging
import NIOSSL
import PostgresNIO
import RelanceCore
import RelanceStore
import Synchronization

/// The store on PostgreSQL: several daemons on several hosts share one job table.
///
/// Every method runs in one transaction on a connection of a bounded pool
/// (`PostgresClient`) and returns after its commit. Time comes from the database
/// (`relance_now()`: the start of the transaction), never from the host, so that a
/// host whose clock is off cannot take a lease another node holds; `databaseClock`
/// replaces it in tests only. Claims lock rows with `FOR UPDATE SKIP LOCKED`, so that
/// nodes never wait for each other's claims.
public final class PostgresJobStore: JobStore, @unchecked Sendable {
    public var poolUse: PoolUse { pool.withLock { $0 } }
    public let settings: PostgresSettings
    /// The host's clock: what the daemon's business rules read (send windows, dates on a
    /// letter). Leases, due times and backoff never use it.
    public let clock: any WallClock
    /// Replaces the database's clock in tests (set in each transaction); nil in production.
    let databaseClock: (any WallClock)?
    let client: PostgresClient
    let running: Task<Void, Never>
    /// Set as the pool starts: the first lease waits for it (a lease before `run()` only
    /// logs a warning, but one per process start is noise in the journal).
    let started: StartFlag
    /// Leases of the pool, for the metrics (`poolUse`).
    let pool: Mutex<PoolUse>
    let logger: Logger
    let eventSink: (@Sendable ([DeliveryEvent]) -> Void)?
    let sinkEnqueued: Bool
    /// Requests waiting for the next usual-writes statement (group commit).
    let usualWrites = UsualWriteQueue()
    /// The attempt budget an operator's `requeue` gives a job.
    let defaultMaxAttempts: Int
    var schema: String { settings.schema }

    public init(
        settings: PostgresSettings, clock: any WallClock = SystemWallClock(), databaseClock: (any WallClock)? = nil,
        defaultMaxAttempts: Int = 8, sinkEnqueued: Bool = true, logger: Logger = Logger(label: "relance.postgres"),
        eventSink: (@Sendable ([DeliveryEvent]) -> Void)? = nil
    ) throws {
        self.settings = settings
        self.clock = clock
        self.databaseClock = databaseClock
        self.defaultMaxAttempts = defaultMaxAttempts
        self.sinkEnqueued = sinkEnqueued
        self.eventSink = eventSink
        self.logger = logger
        self.pool = Mutex(PoolUse(size: settings.poolSize))
        let client = PostgresClient(configuration: try Self.clientConfiguration(settings), backgroundLogger: logger)
        self.client = client
        let started = StartFlag()
        self.started = started
        self.running = Task {
            started.value.withLock { $0 = true }
            await client.run()
        }
    }

    deinit { running.cancel() }

    /// Stops the pool: connections close, waiting calls fail.
    public func close() { running.cancel() }

    static func clientConfiguration(_ settings: PostgresSettings) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let directory = settings.socketDirectory {
            configuration = .init(
                unixSocketPath: directory + "/.s.PGSQL.\(settings.port)", username: settings.user,
                password: settings.password, database: settings.database)
        } else {
            configuration = .init(
                host: settings.host, port: settings.port, username: settings.user, password: settings.password,
                database: settings.database, tls: try tls(settings))
        }
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        // statement_timeout: the server cancels (and rolls back) a statement that outlives
        // query_timeout, before the client gives up on it (`answerMargin` later). A
        // statement outside a transaction commits by itself, so one the client gave up on
        // must not go on and commit unseen: a job marked as dispatching by a worker that
        // then gave it back would end `uncertain` instead of being sent.
        configuration.options.additionalStartupParameters = [
            ("search_path", settings.schema), ("application_name", "relance"), ("TimeZone", "UTC"),
            ("statement_timeout", String(Int((settings.queryTimeout * 1000).rounded()))),
            // Prepared statements keep their parse, not their plan: a plan made when the
            // table was empty (a fresh install, the first claims) would scan it whole once it
            // holds a million jobs, until autovacuum's next analyse.
            ("plan_cache_mode", "force_custom_plan"),
        ]
        return configuration
    }

    /// How long past query_timeout the client waits for a statement the server should have
    /// cancelled: only a connection cut at the wrong moment leaves one unanswered that long.
    static let answerMargin = 2.0

    static func tls(_ settings: PostgresSettings) throws -> PostgresClient.Configuration.TLS {
        switch settings.tls {
        case .disable: return .disable
        case .require, .verifyFull: return .require(try tlsConfiguration(settings))
        }
    }

    /// TLS with the certificate verified and the host name checked, always.
    static func tlsConfiguration(_ settings: PostgresSettings) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let ca = settings.caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw PostgresSettings.Problem(
                    description: "database.url: sslrootcert \(ca) is not a readable PEM certificate file")
            }
        }
        return tls
    }

    // MARK: transactions

    /// Runs `body` in a transaction and hands the trace events it recorded to the sink
    /// after the commit.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PGTransaction) async throws -> T) async throws -> T {
        let (result, events) = try await withSession { session -> (T, [DeliveryEvent]) in
            try await session.query("BEGIN")
            do {
                if let clock = self.databaseClock {
                    try await session.query(
                        "SELECT set_config('relance.now', $1, true)", [.text(Timestamp.string(from: clock.now()))])
                }
                let transaction = PGTransaction(session: session)
                let result = try await body(transaction)
                let events = try await transaction.flush()
                try await session.query("COMMIT")
                return (result, events)
            } catch {
                await session.rollback(after: error)
                throw error
            }
        }
        if !events.isEmpty { eventSink?(events) }
        return result
    }

    /// One statement, committed by PostgreSQL on its own (no BEGIN, no COMMIT: one round
    /// trip); in a transaction that sets "now" first when the clock is simulated (tests).
    /// Trace events it writes are the caller's to hand to the sink.
    func statement<S: PGStatement>(_ statement: S.Type, _ binds: [PGBind]) async throws -> [PGRow] {
        if databaseClock != nil { return try await transaction { try await $0.query(statement, binds) } }
        return try await withSession { try await $0.query(statement, binds) }
    }

    /// A read: in a transaction of its own only when "now" must be the simulated one.
    func read<T: Sendable>(_ body: @escaping @Sendable (PGSession) async throws -> T) async throws -> T {
        if databaseClock != nil { return try await transaction { try await body($0.session) } }
        return try await withSession(body)
    }

    func withSession<T: Sendable>(_ body: @escaping @Sendable (PGSession) async throws -> T) async throws -> T {
        while !started.value.withLock({ $0 }) { await Task.yield() }
        // Waiting for a connection is bounded (10 s, or query_timeout if shorter): with the server down the
        // pool would keep a caller waiting while it tries to connect. Whichever comes
        // first, the connection or the deadline, decides: a connection that comes after
        // the caller gave up is handed back unused.
        let lease = LeaseState()
        let timeout = min(settings.queryTimeout, 10)
        pool.withLock { $0.waiting += 1 }
        defer {
            // A connection that comes from now on is handed back unused.
            _ = lease.abandon()
            if lease.abandoned { pool.withLock { $0.waiting -= 1 } }
        }
        return try await Deadline.run(
            seconds: timeout,
            error: {
                PostgresStoreError(
                    description: "PostgreSQL: no connection within \(Int(timeout)) s (is the server up?)",
                    connectionFailure: true)
            }, expired: { lease.abandon() }
        ) {
            let asked = ContinuousClock.now
            do {
                return try await self.client.withConnection { connection in
                    guard lease.take() else { throw CancellationError() }
                    let waited = ContinuousClock.now - asked
                    self.pool.withLock {
                        $0.waiting -= 1
                        $0.inUse += 1
                        $0.leases += 1
                        $0.waitSeconds +=
                            Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
                    }
                    defer { self.pool.withLock { $0.inUse -= 1 } }
                    let session = PGSession(
                        connection: connection, logger: self.logger,
                        timeout: self.settings.queryTimeout + Self.answerMargin)
                    do {
                        let result = try await body(session)
                        if session.retire.isSet { try? await connection.close() }
                        return result
                    } catch {
                        if session.retire.isSet { try? await connection.close() }
                        throw error
                    }
                }
            } catch let error as PSQLError {
                throw PostgresStoreError(error)
            } catch  where String(describing: type(of: error)) == "ConnectionPoolError" {
                // postgres-nio's pool type is not public API: known by its name.
                throw PostgresStoreError(
                    description: "PostgreSQL: no connection (the pool gave up connecting: \(error)); is the server up?",
                    connectionFailure: true)
            }
        }
    }

    /// A connection of its own, outside the pool, for the one-shot commands (`migrate`,
    /// `doctor`): one attempt, whose failure says why (refused, unknown database, wrong
    /// password, TLS), within the connect timeout, where the pool would keep trying.
    func withDirectSession<T: Sendable>(_ body: @escaping @Sendable (PGSession) async throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try connectionConfiguration(), id: 1, logger: logger)
        } catch let error as PSQLError {
            throw PostgresStoreError(error)
        }
        defer { connection.closeNow() }
        do {
            return try await body(
                PGSession(connection: connection, logger: logger, timeout: settings.queryTimeout + Self.answerMargin))
        } catch let error as PSQLError {
            throw PostgresStoreError(error)
        }
    }

    // MARK: row mapping

    /// The columns of a job row, timestamps in the stored format.
    static let jobColumns = """
        id, idempotency_key, payer_ref, case_ref, channel, template, data, relance_iso(run_at) AS run_at,
        relance_iso(due_at) AS due_at, priority, state, attempt, max_attempts, lease_owner,
        relance_iso(lease_expires_at) AS lease_expires_at, relance_iso(dispatch_started_at) AS dispatch_started_at,
        last_error, provider_ref, relance_iso(created_at) AS created_at, relance_iso(updated_at) AS updated_at,
        cancel_reason, reported_state
        """

    static func job(from row: PGRow) -> Job {
        Job(
            id: row.int64("id"), idempotencyKey: row.text("idempotency_key"), payerRef: row.text("payer_ref") ?? "",
            caseRef: row.text("case_ref"), channel: row.text("channel") ?? "", template: row.text("template") ?? "",
            data: row.text("data") ?? "{}", runAt: row.text("run_at") ?? "",
            dueAt: row.text("due_at") ?? row.text("run_at") ?? "", priority: row.int("priority") ?? 0,
            state: JobState(rawValue: row.text("state") ?? "") ?? .failed, attempt: row.int("attempt") ?? 0,
            maxAttempts: row.int("max_attempts"), leaseOwner: row.text("lease_owner"),
            leaseExpiresAt: row.text("lease_expires_at"), dispatchStartedAt: row.text("dispatch_started_at"),
            lastError: row.text("last_error"), providerRef: row.text("provider_ref"),
            createdAt: row.text("created_at") ?? "", updatedAt: row.text("updated_at") ?? "")
    }

    static let eventColumns =
        "id, job_id, attempt, relance_iso(at) AS at, event, case_ref, channel, detail::text AS detail"

    static func event(from row: PGRow) -> DeliveryEvent {
        DeliveryEvent(
            id: row.int64("id"), jobID: row.int64("job_id"), attempt: row.int("attempt") ?? 0,
            at: row.text("at") ?? "", kind: DeliveryEventKind(rawValue: row.text("event") ?? "") ?? .permanentError,
            caseRef: row.text("case_ref"), channel: row.text("channel") ?? "",
            detail: (try? JSONValue.parse(row.text("detail") ?? "{}")) ?? .object([:]))
    }
}

final class StartFlag: Sendable {
    let value = Mutex(false)
}

/// Who won a wait for a pooled connection: the connection, or the caller's deadline.
final class LeaseState: Sendable {
    /// nil: still waiting; true: leased; false: abandoned.
    private let state = Mutex<Bool?>(nil)

    /// The connection came: true unless the caller already gave up.
    func take() -> Bool {
        state.withLock { s in
            guard s == nil else { return false }
            s = true
            return true
        }
    }

    /// The deadline passed: true (give up) unless the connection already came.
    func abandon() -> Bool {
        state.withLock { s in
            guard s == nil else { return false }
            s = false
            return true
        }
    }

    var abandoned: Bool { state.withLock { $0 == false } }
}

/// One transaction: its session, and the trace events recorded so far (written in one
/// statement before the commit).
final class PGTransaction: @unchecked Sendable {
    let session: PGSession
    private var pending: [(job: Job, attempt: Int, kind: DeliveryEventKind, detail: [String: JSONValue])] = []
    /// Events written by the database itself (enqueue trigger) to hand to the sink.
    var written: [DeliveryEvent] = []

    init(session: PGSession) { self.session = session }

    @discardableResult
    func query(_ sql: String, _ binds: [PGBind] = []) async throws -> [PGRow] {
        try await session.query(sql, binds)
    }

    @discardableResult
    func query<S: PGStatement>(_ statement: S.Type, _ binds: [PGBind] = []) async throws -> [PGRow] {
        try await session.query(statement, binds)
    }

    func one(_ sql: String, _ binds: [PGBind] = []) async throws -> PGRow? {
        try await session.one(sql, binds)
    }

    /// Appends a trace event; written at the end of the transaction.
    func record(_ job: Job, attempt: Int? = nil, kind: DeliveryEventKind, detail: [String: JSONValue] = [:]) {
        pending.append((job, attempt ?? job.attempt, kind, detail))
    }

    /// A trace event as the statements that insert events read it from their JSON array
    /// (`TraceInsert`, `UsualWrites`), with `extra` members of the statement's own.
    static func traceItem(
        _ job: Job, attempt: Int, kind: DeliveryEventKind, detail: [String: JSONValue],
        extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        .object(
            extra.merging([
                "job_id": .number(String(job.id)), "attempt": .number(String(attempt)),
                "event": .string(kind.rawValue), "case_ref": job.caseRef.map(JSONValue.string) ?? .null,
                "channel": .string(job.channel), "detail": .object(detail),
            ]) { _, new in new })
    }

    /// Writes the pending events in one statement; returns every event of the
    /// transaction as stored, in order.
    func flush() async throws -> [DeliveryEvent] {
        guard !pending.isEmpty else { return written }
        let items: [JSONValue] = pending.map {
            Self.traceItem($0.job, attempt: $0.attempt, kind: $0.kind, detail: $0.detail)
        }
        let rows = try await session.query(TraceInsert.self, [.text(JSONValue.array(items).postgresText)])
        var events = written
        for (item, row) in zip(pending, rows.sorted { $0.int64("id") < $1.int64("id") }) {
            events.append(
                DeliveryEvent(
                    id: row.int64("id"), jobID: item.job.id, attempt: item.attempt, at: row.text("at") ?? "",
                    kind: item.kind, caseRef: item.job.caseRef, channel: item.job.channel, detail: .object(item.detail))
            )
        }
        pending = []
        written = []
        return events
    }
}

/// A database error, told without the query's values (they may hold personal data).
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible, DatabaseUnavailable {
    public var isUnavailable: Bool { isConnectionFailure }
    public var description: String
    /// True when the connection failed (the server is down, restarting or unreachable),
    /// as opposed to an error in a statement.
    public var isConnectionFailure: Bool
    /// The server's SQLSTATE, when it answered with an error.
    public var sqlState: String?

    /// What a connection error means, for an operator.
    static func words(_ code: PSQLError.Code) -> String {
        switch code {
        case .sslUnsupported: return "the server does not offer TLS (sslmode asks for it)"
        case .failedToAddSSLHandler: return "TLS could not be set up"
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none is configured (database.password_file or PGPASSFILE)"
        case .unsupportedAuthMechanism: return "the server asks for an authentication method this client does not speak"
        case .saslError: return "SCRAM authentication failed"
        case .serverClosedConnection: return "the server closed the connection"
        case .clientClosedConnection: return "the connection was closed"
        case .connectionError: return "cannot connect"
        case .poolClosed: return "the connection pool is closed"
        default: return code.description
        }
    }

    init(description: String, connectionFailure: Bool) {
        self.description = description
        self.isConnectionFailure = connectionFailure
    }

    init(_ error: PSQLError) {
        let server = error.serverInfo?[.message]
        let code = error.serverInfo?[.sqlState]
        sqlState = code
        switch error.code {
        case .server:
            description = "PostgreSQL: \(server ?? "error")" + (code.map { " (SQLSTATE \($0))" } ?? "")
            isConnectionFailure = code.map { $0.hasPrefix("08") || $0 == "57P01" || $0 == "57P03" } ?? false
        default:
            // The underlying error says what went wrong (refused, no route, TLS): the
            // pool's own wording does not.
            let underlying = error.underlying.map { "\($0)" }
            description =
                "PostgreSQL connection: \(Self.words(error.code))" + (server.map { ": \($0)" } ?? "")
                + (underlying.map { " (\($0))" } ?? "")
            isConnectionFailure = true
        }
    }
}

extension PostgresJobStore {
    /// Plain SQL on a connection of the store's pool (its schema on the search path):
    /// for tools and tests.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        try await withSession { session in try await body(session.connection) }
    }
}

/// The pending trace events of a transaction ($1: a JSON array), in order.
enum TraceInsert: PGStatement {
    static let name = "relance_trace_insert"
    static let types: [PostgresDataType] = [.text]
    static let sql = """
        INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail, at)
        SELECT (e->>'job_id')::bigint, (e->>'attempt')::integer, e->>'event', e->>'case_ref', e->>'channel',
          e->'detail', relance_now()
        FROM json_array_elements($1::json) WITH ORDINALITY AS items(e, n)
        ORDER BY n
        RETURNING id, relance_iso(at) AS at
        """
}
