import Foundation
import Logging
import RelanceCore
import Testing

@testable import RelanceStore
@testable import RelanceStorePostgres

/// What only the PostgreSQL backend has: several nodes on one schema, the database's
/// clock, SKIP LOCKED claims. Runs with `RELANCE_TEST_STORE=postgres` (make test).
@Suite("PostgresJobStore: several nodes, the database's clock", .postgresOnly)
struct PostgresStoreTests {
    static func schema() -> String { "t_" + UUID().uuidString.prefix(8).lowercased() }

    @Test("a node whose host clock is an hour ahead never takes a lease another node holds")
    func skewedClock() async throws {
        let schema = Self.schema()
        let a = try StoreFixture.postgresStore(schema: schema)
        let ahead = ManualWallClock(Date().addingTimeInterval(3600))
        let b = try StoreFixture.postgresStore(schema: schema, clock: ahead)
        defer {
            a.close()
            b.close()
        }
        try await a.migrate()
        _ = try await a.enqueue([StoreFixture.job(), StoreFixture.job()], payers: [StoreFixture.payer])
        let held = try await a.claim(owner: "node-a", limit: 1, leaseSeconds: 60)
        #expect(held.count == 1)
        // B's sweeper and claims compare with the database's clock, not B's.
        #expect(try await b.sweep(maxAge: 86400) == SweepResult())
        let taken = try await b.claim(owner: "node-b", limit: 10, leaseSeconds: 60)
        #expect(taken.map(\.job.id) != held.map(\.job.id))
        #expect(taken.count == 1)
        // B's lease is 60 s on the database's clock, not an hour ahead.
        let lease = try #require(instant(taken.first?.job.leaseExpiresAt))
        #expect(abs(lease.timeIntervalSinceNow - 60) < 30)
        let job = try #require(try await a.job(id: held[0].job.id))
        #expect(job.leaseOwner == "node-a")
        #expect(try await a.beginDispatch(job, owner: "node-a", leaseSeconds: 60, rendered: [:]) == .proceed)
    }

    @Test("nodes claiming at once never get the same job (SKIP LOCKED), and together get them all")
    func concurrentClaims() async throws {
        let schema = Self.schema()
        let nodes = try (0..<4).map { _ in try StoreFixture.postgresStore(schema: schema) }
        defer { nodes.forEach { $0.close() } }
        try await nodes[0].migrate()
        let ids = try await nodes[0].enqueue(
            (0..<300).map { _ in StoreFixture.job() }, payers: [StoreFixture.payer]
        ).map(\.id)
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (n, node) in nodes.enumerated() {
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let batch = try await node.claim(owner: "node-\(n)", limit: 7, leaseSeconds: 60)
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.job.id)
                    }
                }
            }
            var all: [[Int64]] = []
            for try await mine in group { all.append(mine) }
            return all
        }
        let flat = claimed.flatMap { $0 }
        #expect(flat.count == ids.count)
        #expect(Set(flat) == Set(ids))
    }

    @Test("several nodes migrating at once apply each migration once")
    func concurrentMigrations() async throws {
        let schema = Self.schema()
        let nodes = try (0..<3).map { _ in try StoreFixture.postgresStore(schema: schema) }
        defer { nodes.forEach { $0.close() } }
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for node in nodes { group.addTask { try await node.migrate() } }
            var all: [String] = []
            for try await names in group { all += names }
            return all
        }
        #expect(
            applied.sorted() == [
                "p1-jobs-payers-trace-invoices", "p2-inlined-clock", "p3-due-at-trigger-when-needed", "p4-bank-lines",
                "p5-evidence",
            ])
        for node in nodes { #expect(try await node.isMigrated()) }
    }

    @Test("a row inserted by plain SQL without due_at gets its run_at; one with it keeps it")
    func dueAtOfPlainRows() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(runAt: "2027-01-15T09:00:00Z"))
        try await fx.execute(
            "INSERT INTO jobs(payer_ref, channel, template, run_at) VALUES ('P-1', 'email', 'reminder-1', '2027-02-01T08:00:00Z')"
        )
        try await fx.execute(
            """
            INSERT INTO jobs(payer_ref, channel, template, run_at, due_at)
            VALUES ('P-1', 'email', 'reminder-1', '2027-03-01T08:00:00Z', '2027-01-01T00:00:00Z')
            """)
        let jobs = try await fx.store.jobs(JobFilter()).sorted { $0.id < $1.id }
        #expect(
            jobs.map(\.dueAt) == ["2027-01-15T09:00:00.000Z", "2027-02-01T08:00:00.000Z", "2027-01-01T00:00:00.000Z"])
    }

    @Test("a prepared statement gone stale (a migration added a column) fails once per connection, then works")
    func stalePreparedStatement() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(), StoreFixture.job(), StoreFixture.job())
        // Prepares the claim's statements (the payers one reads `SELECT *`).
        #expect(try await fx.store.claim(owner: "w1", limit: 1, leaseSeconds: 60).count == 1)
        try await fx.execute("ALTER TABLE payers ADD COLUMN nickname TEXT")
        var outcomes: [Bool] = []
        let started = ContinuousClock.now
        for _ in 0..<6 {
            do {
                outcomes.append(try await fx.store.claim(owner: "w1", limit: 1, leaseSeconds: 60).count <= 1)
            } catch {
                // "cached plan must not change result type": that connection is closed.
                outcomes.append(false)
            }
        }
        // At most one failure per pooled connection (4), and every call after works.
        #expect(outcomes.filter { !$0 }.count <= 4, "\(outcomes)")
        #expect(outcomes.suffix(2) == [true, true], "\(outcomes)")
        // A failed call fails at once (its ROLLBACK runs before the connection is closed).
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await fx.store.claim(owner: "w1", limit: 5, leaseSeconds: 60).count <= 2)
    }

    @Test("the clock and the timestamp format are inlined into the statements that use them")
    func inlinedClock() async throws {
        let store = try StoreFixture.postgresStore()
        defer { store.close() }
        try await store.migrate()
        let plan = try await store.withConnection { connection in
            var lines: [String] = []
            let rows = try await connection.query(
                "EXPLAIN VERBOSE SELECT relance_iso(relance_now())", logger: Logger(label: "test"))
            for try await row in rows { lines.append(try row.decode(String.self)) }
            return lines.joined(separator: "\n")
        }
        #expect(plan.contains("to_char(timezone('UTC'::text, COALESCE"), "\(plan)")
        #expect(!plan.contains("relance_"), "\(plan)")
        #expect(
            try await store.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT relance_iso('2026-12-07 10:00:00.123+01') AS t", logger: Logger(label: "test"))
                var text = ""
                for try await row in rows { text = try row.decode(String.self) }
                return text
            } == "2026-12-07T09:00:00.123Z")
    }

    @Test(
        "workers writing at once share statements (group commit), each hears its own outcome, and a failing job fails no other"
    )
    func groupCommit() async throws {
        let fx = try await StoreFixture()
        let pairs = 24
        try await fx.store.enqueue(
            (0..<(2 * pairs)).map { StoreFixture.job(caseRef: "C-\($0)") }, payers: [StoreFixture.payer])
        let claimed = try await fx.store.claim(owner: "w1", limit: 2 * pairs, leaseSeconds: 60).map(\.job)
        try #require(claimed.count == 2 * pairs)
        let work = (0..<pairs).map { (done: claimed[2 * $0], next: claimed[2 * $0 + 1]) }
        for pair in work {
            #expect(
                try await fx.store.beginDispatch(pair.done, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        }
        // One job is no longer this worker's; another's update fails in the database.
        let stolen = work[3].done
        let refused = work[5].next
        try await fx.execute("UPDATE jobs SET lease_owner = 'w2' WHERE id = ?", [stolen.id])
        try await fx.execute(
            """
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.id = \(refused.id) AND NEW.dispatch_started_at IS NOT NULL THEN
                RAISE EXCEPTION 'refused by the test';
              END IF;
              RETURN NEW;
            END $$
            """)
        try await fx.execute("CREATE TRIGGER refuse BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION refuse()")
        fx.resetSink()
        let response = ProviderResponse(code: 250, text: "250 2.0.0 Ok", providerRef: nil)
        let results = await withTaskGroup(of: (Int, Result<Bool, any Error>).self) { group in
            for (index, pair) in work.enumerated() {
                group.addTask {
                    do {
                        let written = try await fx.store.complete(
                            pair.done, outcome: .accepted(response), retry: RetryPolicy(), random: 0,
                            thenBeginDispatch: pair.next, owner: "w1", leaseSeconds: 60, rendered: [:])
                        return (index, .success(written.completed && written.permission == .proceed))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var all: [Int: Result<Bool, any Error>] = [:]
            for await (index, result) in group { all[index] = result }
            return all
        }
        for (index, pair) in work.enumerated() {
            let done = try #require(try await fx.store.job(id: pair.done.id))
            let next = try #require(try await fx.store.job(id: pair.next.id))
            switch index {
            case 3:
                #expect(try results[index]?.get() == false)
                #expect(done.state == .running && next.dispatchStartedAt != nil)
            case 5:
                // Its own error, not another's; neither of its writes is made (the worker
                // writes its sent job again on its own).
                #expect(throws: (any Error).self) { try results[index]?.get() }
                #expect(done.state == .running && next.dispatchStartedAt == nil)
            default:
                #expect(try results[index]?.get() == true, "pair \(index)")
                #expect(done.state == .sent && next.dispatchStartedAt != nil)
                #expect(try await fx.kinds(pair.next.id).suffix(2) == [.rendered, .dispatching])
            }
        }
        // The trace the sink heard is the stored one, and fewer calls than writers: shared statements.
        let heard = fx.sunk.flatMap { $0 }
        var stored: [DeliveryEvent] = []
        for pair in work {
            stored += try await fx.store.events(jobID: pair.done.id) + fx.store.events(jobID: pair.next.id)
        }
        #expect(Set(heard.map(\.id)).isSubset(of: Set(stored.map(\.id))))
        #expect(heard.allSatisfy { stored.contains($0) })
        #expect(fx.sunk.count < pairs, "\(fx.sunk.count) sink calls for \(pairs) writers")
        #expect(stolen.id != refused.id)
    }

    @Test(
        "two workers asking about the same job in one statement (one whose lease expired, one that claimed it again): only the lease holder's write counts"
    )
    func sameJobTwiceInOneBatch() async throws {
        let fx = try await StoreFixture()
        let store = try #require(fx.store as? PostgresJobStore)
        try await fx.enqueue(StoreFixture.job(caseRef: "A"), StoreFixture.job(caseRef: "B"))
        let claimed = try await fx.store.claim(owner: "w1", limit: 2, leaseSeconds: 60).map(\.job)
        try #require(claimed.count == 2)
        let (x, y) = (claimed[0], claimed[1])
        // w1's lease on x ran out before dispatch; the sweeper queued it and w2 claimed it.
        try await fx.execute("UPDATE jobs SET attempt = attempt + 1, lease_owner = 'w2' WHERE id = ?", [x.id])
        var again = x
        again.attempt += 1
        again.leaseOwner = "w2"
        // And both had an accepted send to record: w1 of y (still its own), w2 of x.
        #expect(try await fx.store.beginDispatch(y, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        fx.resetSink()
        let response = ProviderResponse(code: 250, text: "250 Ok", providerRef: nil)
        let written = try await store.writeUsual([
            UsualWrite(accepted: nil, begin: (x, 60, ["subject": "w1"]), owner: "w1"),
            UsualWrite(accepted: nil, begin: (again, 60, ["subject": "w2"]), owner: "w2"),
            UsualWrite(accepted: (again, response), begin: nil, owner: "w1"),
        ])
        #expect(written.map(\.began) == [false, true, false])
        #expect(written.map(\.completed) == [false, false, false])
        // The trace holds w2's dispatching marks only, for attempt 2, and the sink heard them once each.
        let trace = try await fx.store.events(jobID: x.id).filter { $0.kind == .rendered || $0.kind == .dispatching }
        #expect(trace.map(\.attempt) == [again.attempt, again.attempt])
        #expect(trace.first?.detail == ["subject": "w2"])
        let heard = fx.sunk.flatMap { $0 }
        #expect(heard == trace)
        #expect(try await fx.store.job(id: x.id)?.state == .running)
    }

    @Test("a peer's answer holding a NUL byte is recorded (as U+FFFD), not a failed write")
    func nulInAnswer() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        #expect(try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        let failure = DispatchFailure(reason: .address, message: "550 no\u{0}such user", code: 550)
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .permanent(failure), retry: RetryPolicy(), random: 0.5))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .failed)
        #expect(stored.lastError == "550 no\u{FFFD}such user")
        #expect(
            try await fx.store.events(jobID: job.id).last?.detail.objectValue?["message"] == "550 no\u{FFFD}such user")
        // A peer's detail whose keys differ only by a NUL and a U+FFFD: one kept, no trap.
        let twins = try await fx.claimedJob(caseRef: "CASE-3")
        #expect(try await fx.store.beginDispatch(twins, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        let answer = ProviderResponse(code: 250, text: "250 Ok", detail: ["k\u{0}": 1, "k\u{FFFD}": 2])
        #expect(
            try await fx.store.complete(twins, owner: "w1", outcome: .accepted(answer), retry: RetryPolicy(), random: 0)
        )
        #expect(try await fx.store.job(id: twins.id)?.state == .sent)
        #expect(try await fx.store.events(jobID: twins.id).last?.detail.objectValue?.keys.contains("k\u{FFFD}") == true)
        // The six characters \u0000 (a backslash, not a NUL) are kept as they are.
        let other = try await fx.claimedJob(caseRef: "CASE-2")
        #expect(try await fx.store.beginDispatch(other, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        let literal = DispatchFailure(reason: .address, message: #"550 bad \u0000 and \\u0000"#, code: 550)
        #expect(
            try await fx.store.complete(
                other, owner: "w1", outcome: .permanent(literal), retry: RetryPolicy(), random: 0.5))
        #expect(try await fx.store.job(id: other.id)?.lastError == literal.message)
        #expect(
            try await fx.store.events(jobID: other.id).last?.detail.objectValue?["message"] == .string(literal.message))
    }

    @Test("the simulated database clock decides what is due")
    func simulatedClock() async throws {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let fx = try await StoreFixture(databaseClock: clock)
        try await fx.enqueue(StoreFixture.job(runAt: "2027-01-15T09:00:00Z"))
        #expect(try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60).isEmpty)
        clock.set(Date(timeIntervalSince1970: 1_800_000_000 + 86400 * 3))
        #expect(try await fx.store.workload().due == 1)
        let claimed = try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60)
        #expect(claimed.count == 1)
        #expect(claimed.first?.job.leaseExpiresAt == Timestamp.string(from: clock.now().addingTimeInterval(60)))
    }
}

@Suite("PostgresSettings: the database URL")
struct PostgresSettingsTests {
    @Test(
        "URLs that are refused, each with the part at fault",
        arguments: [
            ("mysql://a@b/c", "database.url must be postgres://"),
            ("postgres://127.0.0.1/relance", "names no user"),
            ("postgres://u@127.0.0.1/", "names no database"),
            ("postgres://u@db.example.com/relance", "is not loopback: add sslmode=verify-full"),
            ("postgres://u@127.0.0.1/r?sslmode=prefer", "is not one of disable, require, verify-full"),
            ("postgres://u@127.0.0.1/r?schema=Relance", "must be a lowercase identifier"),
            ("postgres://u@127.0.0.1/r?schema=a;drop", "must be a lowercase identifier"),
            ("postgres://u@127.0.0.1/r?pool_size=0", "pool_size must be an integer from 1 to 200"),
            ("postgres://u@127.0.0.1/r?query_timeout=0.1", "query_timeout must be a number of seconds"),
            ("postgres://u@127.0.0.1/r?password=x", "unknown parameter 'password'"),
            ("postgres://u@127.0.0.1/r?host=run/pg", "host= must be an absolute socket directory"),
        ])
    func refused(_ url: String, _ message: String) throws {
        #expect {
            try PostgresSettings(url: url)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("a URL's parts, and the form logs show (never the password)")
    func parsed() throws {
        let s = try PostgresSettings(
            url: "postgres://relance:s3cret@db.example.com:6432/billing?sslmode=verify-full&schema=dun&pool_size=4")
        #expect(s.host == "db.example.com")
        #expect(s.port == 6432)
        #expect(s.user == "relance")
        #expect(s.password == "s3cret")
        #expect(s.database == "billing")
        #expect(s.tls == .verifyFull)
        #expect(s.schema == "dun")
        #expect(s.poolSize == 4)
        #expect(s.redacted == "postgres://relance@db.example.com:6432/billing")
        #expect(!s.redacted.contains("s3cret"))
        let socket = try PostgresSettings(url: "postgres://relance@/relance?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")
        #expect(socket.tls == .disable)
    }

    @Test("pgpass lines: the first that matches, with * and escaped colons")
    func pgpass() throws {
        let s = try PostgresSettings(url: "postgres://relance@127.0.0.1:5432/billing")
        let text = """
            # comment
            otherhost:5432:billing:relance:nope
            127.0.0.1:*:billing:relance:pa\\:ss
            *:*:*:*:fallback
            """
        #expect(PostgresSettings.passwordFromPGPass(text, settings: s) == "pa:ss")
        #expect(PostgresSettings.passwordFromPGPass("x:1:y:z:w", settings: s) == nil)
    }
}
