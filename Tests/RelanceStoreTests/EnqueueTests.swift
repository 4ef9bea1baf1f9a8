import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: migrate and enqueue")
struct EnqueueTests {
    @Test("migrating twice is harmless and keeps the data", .sqliteOnly)
    func migrateTwice() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(StoreFixture.job())
        try await fx.store.migrate()
        try await fx.store.migrate()
        #expect(try await fx.sqlite.isMigrated())
        #expect(try await fx.store.job(id: ids[0])?.state == .queued)
        // A second store on the same file migrates as a no-op too.
        let again = try SQLiteJobStore(path: fx.sqlite.path)
        try await again.migrate()
        #expect(try await again.job(id: ids[0]) != nil)
    }

    @Test("a fresh file is not migrated until migrate() runs")
    func notMigrated() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "relance-\(UUID().uuidString)/x/db.sqlite"
        ).path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try SQLiteJobStore(path: path)
        #expect(try await store.isMigrated() == false)
        try await store.migrate()
        #expect(try await store.isMigrated())
    }

    @Test("enqueue returns one new id per job, with every field stored")
    func enqueue() async throws {
        let fx = try await StoreFixture()
        let started = Date().addingTimeInterval(-1)
        let results = try await fx.store.enqueue(
            [
                StoreFixture.job(key: "a", priority: 5), StoreFixture.job(caseRef: nil),
                StoreFixture.job(template: "thanks"),
            ],
            payers: [StoreFixture.payer])
        #expect(results.map(\.created) == [true, true, true])
        #expect(results.map(\.state) == [.queued, .queued, .queued])
        let ids = results.map(\.id)
        #expect(Set(ids).count == 3)
        #expect(ids == ids.sorted())
        let job = try #require(try await fx.store.job(id: ids[0]))
        #expect(job.idempotencyKey == "a")
        #expect(job.payerRef == "P-1")
        #expect(job.caseRef == "CASE-1")
        #expect(job.channel == "email")
        #expect(job.template == "reminder-1")
        #expect(job.data == #"{"total_due":{"amount":"1250.00","currency":"EUR"}}"#)
        #expect(job.priority == 5)
        #expect(job.attempt == 0)
        #expect(job.leaseOwner == nil)
        #expect(job.runAt == job.dueAt)
        let runAt = try #require(instant(job.runAt))
        // Due at the insert: between the call and now (a loaded machine may be slow).
        #expect(runAt >= started && runAt <= Date().addingTimeInterval(1))
        #expect(try await fx.store.job(id: ids[1])?.caseRef == nil)
        #expect(try await fx.kinds(ids[0]) == [.enqueued])
        #expect(try await fx.store.payer(ref: "P-1") == StoreFixture.payer)
    }

    @Test("the same idempotency key returns the existing job, not a new one")
    func idempotency() async throws {
        let fx = try await StoreFixture()
        let first = try await fx.store.enqueue([StoreFixture.job(key: "invoice-42-r1")], payers: [])
        let second = try await fx.store.enqueue([StoreFixture.job(key: "invoice-42-r1", template: "other")], payers: [])
        #expect(first[0].created)
        #expect(second == [EnqueueResult(id: first[0].id, state: .queued, created: false)])
        #expect(try await fx.store.jobs(JobFilter()).count == 1)
        #expect(try await fx.store.job(id: first[0].id)?.template == "reminder-1")
        // Within one batch too.
        let batch = try await fx.store.enqueue([StoreFixture.job(key: "k"), StoreFixture.job(key: "k")], payers: [])
        #expect(batch[0].created && !batch[1].created)
        #expect(batch[0].id == batch[1].id)
        // The existing job's current state is reported.
        let claimed = try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60)
        #expect(claimed.count == 2)
        let third = try await fx.store.enqueue([StoreFixture.job(key: "invoice-42-r1")], payers: [])
        #expect(third == [EnqueueResult(id: first[0].id, state: .running, created: false)])
    }

    @Test("jobs without a key are never deduplicated")
    func noKey() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(StoreFixture.job(), StoreFixture.job())
        #expect(ids[0] != ids[1])
    }

    @Test(
        "run_at is normalised to UTC with milliseconds",
        arguments: [
            ("2026-11-23T09:00:00Z", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23T10:00:00+01:00", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23 09:00:00", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23T09:00:00.123Z", "2026-11-23T09:00:00.123Z"),
            ("2026-11-23", "2026-11-23T00:00:00.000Z"),
        ])
    func runAtNormalised(_ given: String, _ stored: String) async throws {
        let fx = try await StoreFixture()
        let result = try await fx.store.enqueue([StoreFixture.job(runAt: given)], payers: [])
        #expect(result[0].state == .queued)
        let job = try #require(try await fx.store.job(id: result[0].id))
        #expect(job.runAt == stored)
        #expect(job.dueAt == stored)
    }

    @Test("a run_at that is not a date fails the job at once with a clear error")
    func runAtNotADate() async throws {
        let fx = try await StoreFixture()
        let result = try await fx.store.enqueue([StoreFixture.job(runAt: "next tuesday")], payers: [])
        #expect(result[0].state == .failed)
        let job = try #require(try await fx.store.job(id: result[0].id))
        #expect(job.lastError == "run_at 'next tuesday' is not a date (use ISO 8601, e.g. 2026-11-23T09:00:00Z)")
        #expect(try await fx.kinds(job.id) == [.enqueued, .permanentError])
    }

    @Test("payers are upserted with the jobs")
    func payers() async throws {
        let fx = try await StoreFixture()
        var payer = PayerProfile(
            ref: "P-2", name: "Müller GmbH", locale: "de-DE", timezone: "Europe/Berlin", segment: "strategic",
            email: "ap@mueller.example", phone: "+4930123456", postalAddress: ["Hauptstr. 1", "10115 Berlin"],
            channels: [.letter, .email])
        _ = try await fx.store.enqueue([StoreFixture.job(payer: "P-2")], payers: [payer])
        #expect(try await fx.store.payer(ref: "P-2") == payer)
        payer.name = "Müller & Söhne GmbH"
        payer.postalAddress = nil
        try await fx.store.upsertPayer(payer)
        #expect(try await fx.store.payer(ref: "P-2") == payer)
        #expect(try await fx.store.payer(ref: "nobody") == nil)
    }
}
