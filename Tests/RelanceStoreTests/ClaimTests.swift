import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: claim")
struct ClaimTests {
    @Test("claims due jobs only, moving them to running with a lease and the next attempt")
    func dueOnly() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(
            StoreFixture.job(), StoreFixture.job(runAt: "2099-01-01T00:00:00Z"),
            StoreFixture.job(runAt: "2020-01-01T00:00:00Z"))
        let before = Date()
        let claimed = try await fx.store.claim(owner: "worker-1", limit: 10, leaseSeconds: 60)
        #expect(Set(claimed.map(\.job.id)) == [ids[0], ids[2]])
        for c in claimed {
            #expect(c.job.state == .running)
            #expect(c.job.attempt == 1)
            #expect(c.job.leaseOwner == "worker-1")
            let lease = try #require(instant(c.job.leaseExpiresAt))
            #expect(lease > before.addingTimeInterval(55) && lease < Date().addingTimeInterval(65))
            #expect(try await fx.store.job(id: c.job.id) == c.job)
            #expect(try await fx.kinds(c.job.id) == [.enqueued, .claimed])
            #expect(try await fx.store.events(jobID: c.job.id).last?.detail == ["worker": "worker-1"])
        }
        #expect(try await fx.store.job(id: ids[1])?.state == .queued)
        #expect(try await fx.store.job(id: ids[1])?.attempt == 0)
        // Nothing left that is due.
        #expect(try await fx.store.claim(owner: "worker-2", limit: 10, leaseSeconds: 60).isEmpty)
        let workload = try await fx.store.workload()
        #expect(workload == Workload(due: 0, running: 2, scheduled: 1, nextRunAt: "2099-01-01T00:00:00.000Z"))
    }

    @Test("due and running jobs counted over every priority, scheduled ones left out")
    func activity() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(
            StoreFixture.job(priority: 5), StoreFixture.job(priority: 5), StoreFixture.job(priority: -3),
            StoreFixture.job(), StoreFixture.job(runAt: "2099-01-01T00:00:00Z", priority: 5),
            StoreFixture.job(runAt: "2099-01-01T00:00:00Z"))
        #expect(try await fx.store.activity() == (due: 4, running: 0))
        #expect(try await fx.store.workload().due == 4)
        _ = try await fx.store.claim(owner: "a", limit: 3, leaseSeconds: 60)
        #expect(try await fx.store.activity() == (due: 1, running: 3))
        #expect(
            try await fx.store.workload()
                == Workload(due: 1, running: 3, scheduled: 2, nextRunAt: "2099-01-01T00:00:00.000Z"))
    }

    @Test("respects the limit, and a second claim gets other jobs")
    func limit() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(
            StoreFixture.job(), StoreFixture.job(), StoreFixture.job(), StoreFixture.job(), StoreFixture.job())
        let first = try await fx.store.claim(owner: "a", limit: 2, leaseSeconds: 60)
        #expect(first.count == 2)
        let second = try await fx.store.claim(owner: "b", limit: 10, leaseSeconds: 60)
        #expect(second.count == 3)
        #expect(Set(first.map(\.job.id)).isDisjoint(with: second.map(\.job.id)))
        #expect(Set(first.map(\.job.id) + second.map(\.job.id)) == Set(ids))
        #expect(second.allSatisfy { $0.job.leaseOwner == "b" })
        #expect(try await fx.store.claim(owner: "c", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test("higher priority first, then the oldest run_at, then the lowest id")
    func order() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(
            StoreFixture.job(runAt: "2020-01-02T00:00:00Z"),
            StoreFixture.job(runAt: "2020-01-01T00:00:00Z"),
            StoreFixture.job(runAt: "2020-01-03T00:00:00Z", priority: 10),
            StoreFixture.job(runAt: "2020-01-01T00:00:00Z"))
        let one = try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60)
        #expect(one.map(\.job.id) == [ids[2]])
        let rest = try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60)
        #expect(rest.map(\.job.id) == [ids[1], ids[3], ids[0]])
    }

    @Test("the claimed job carries its payer, or why the payer cannot be used")
    func payer() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job())
        _ = try await fx.store.enqueue([StoreFixture.job(payer: "ghost")], payers: [])
        let claimed = try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60)
        #expect(claimed.count == 2)
        let known = try #require(claimed.first { $0.job.payerRef == "P-1" })
        #expect(try known.payer.get() == StoreFixture.payer)
        let ghost = try #require(claimed.first { $0.job.payerRef == "ghost" })
        guard case .failure(let why) = ghost.payer else {
            Issue.record("a missing payer must be reported")
            return
        }
        #expect(why.message == "payer ghost does not exist")
    }

    @Test("a payer row written by hand with bad JSON is reported, not a crash")
    func unreadablePayer() async throws {
        let fx = try await StoreFixture()
        try await fx.execute("INSERT INTO payers(ref, name, channels) VALUES ('P-9', 'Hand made', 'email')")
        _ = try await fx.store.enqueue([StoreFixture.job(payer: "P-9")], payers: [])
        let claimed = try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60)
        guard case .failure(let why) = try #require(claimed.first).payer else {
            Issue.record("bad channels must be reported")
            return
        }
        #expect(why.message == "payer P-9: column channels is not a JSON array: email")
    }
}
