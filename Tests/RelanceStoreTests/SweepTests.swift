import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: sweep")
struct SweepTests {
    static let maxAge = 3.0 * 86400

    @Test("a lost worker's job that never started dispatch goes back to the queue")
    func rescued() async throws {
        let fx = try await StoreFixture()
        // A lease that is already over: the worker is gone.
        let job = try await fx.claimedJob(owner: "lost", leaseSeconds: -1)
        var expected = SweepResult()
        expected.requeued = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge) == expected)
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .queued)
        #expect(stored.leaseOwner == nil && stored.leaseExpiresAt == nil)
        #expect(try await fx.kinds(job.id) == [.enqueued, .claimed, .rescued])
        // Another worker takes it, on the next attempt; the lost one can no longer complete it.
        let again = try #require(try await fx.store.claim(owner: "w2", limit: 1, leaseSeconds: 60).first?.job)
        #expect(again.id == job.id && again.attempt == 2)
        #expect(
            try await fx.store.complete(
                job, owner: "lost", outcome: .accepted(ProviderResponse(text: "late")), retry: RetryPolicy(), random: 0)
                == false)
        #expect(try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: 60, rendered: [:]) == .leaseLost)
    }

    @Test("a lost worker's job that started dispatch becomes uncertain: it may have been sent")
    func uncertain() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "lost")
        #expect(try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: -1, rendered: [:]) == .proceed)
        var expected = SweepResult()
        expected.uncertain = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge) == expected)
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .uncertain)
        #expect(stored.lastError?.contains("the message may have been sent") == true)
        #expect(try await fx.kinds(job.id) == [.enqueued, .claimed, .rendered, .dispatching, .uncertain])
        // Never retried automatically, and the late worker cannot put it back in the queue
        // (a late acceptance settles it: FencingTests).
        #expect(try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60).isEmpty)
        #expect(
            try await fx.store.complete(
                job, owner: "lost", outcome: .transient(DispatchFailure(reason: .network, message: "late")),
                retry: RetryPolicy(), random: 0)
                == false)
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
    }

    @Test("a job whose lease keeps expiring with max_attempts used is dead")
    func crashLoop() async throws {
        let fx = try await StoreFixture()
        let id = try await fx.enqueue(StoreFixture.job())[0]
        try await fx.execute("UPDATE jobs SET max_attempts = 1 WHERE id = ?", [id])
        _ = try await fx.store.claim(owner: "lost", limit: 1, leaseSeconds: -1)
        var expected = SweepResult()
        expected.dead = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge) == expected)
        #expect(try await fx.store.job(id: id)?.state == .dead)
        #expect(try await fx.kinds(id) == [.enqueued, .claimed, .dead])
    }

    @Test("a live lease is left alone")
    func liveLease() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "alive", leaseSeconds: 60)
        #expect(try await fx.store.sweep(maxAge: Self.maxAge) == SweepResult())
        #expect(try await fx.store.job(id: job.id) == job)
    }

    @Test("a queued job older than the maximum age is dead; a recent one stays queued")
    func tooOld() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(StoreFixture.job(runAt: "2020-01-01T00:00:00Z"), StoreFixture.job())
        var expected = SweepResult()
        expected.dead = 1
        #expect(try await fx.store.sweep(maxAge: 3600) == expected)
        let old = try #require(try await fx.store.job(id: ids[0]))
        #expect(old.state == .dead)
        #expect(old.lastError == "not sent within the maximum age: due 2020-01-01T00:00:00.000Z")
        #expect(try await fx.kinds(ids[0]) == [.enqueued, .dead])
        #expect(
            try await fx.store.events(jobID: ids[0]).last?.detail == ["reason": "older than the maximum age of 3600 s"])
        #expect(try await fx.store.job(id: ids[1])?.state == .queued)
        // A second sweep finds nothing more.
        #expect(try await fx.store.sweep(maxAge: 3600) == SweepResult())
    }

    @Test("a lease that expires on the last attempt allowed by the policy: dead, so a job that crashes workers stops")
    func lastAttemptByPolicy() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "lost", leaseSeconds: -1)
        var expected = SweepResult()
        expected.dead = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge, maxAttempts: 1) == expected)
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .dead)
        #expect(stored.leaseOwner == nil)
        #expect(try await fx.kinds(job.id) == [.enqueued, .claimed, .dead])
        #expect(
            try await fx.store.events(jobID: job.id).last?.detail
                == ["reason": "lease expired on every attempt (1); the job may crash workers"])
        #expect(try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test("attempts left under the policy: rescued; the job's own max_attempts wins over the policy")
    func attemptsLeft() async throws {
        let fx = try await StoreFixture()
        let first = try await fx.claimedJob(owner: "lost", leaseSeconds: -1)
        var expected = SweepResult()
        expected.requeued = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge, maxAttempts: 3) == expected)
        #expect(try await fx.store.job(id: first.id)?.state == .queued)

        let fx2 = try await StoreFixture()
        let id = try await fx2.enqueue(StoreFixture.job())[0]
        try await fx2.execute("UPDATE jobs SET max_attempts = 5 WHERE id = ?", [id])
        _ = try await fx2.store.claim(owner: "lost", limit: 1, leaseSeconds: -1)
        #expect(try await fx2.store.sweep(maxAge: Self.maxAge, maxAttempts: 1) == expected)
        #expect(try await fx2.store.job(id: id)?.state == .queued)
    }

    @Test("dispatch started on the last attempt: uncertain, not dead (the message may have left)")
    func uncertainBeatsDead() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "lost")
        #expect(try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: -1, rendered: [:]) == .proceed)
        var expected = SweepResult()
        expected.uncertain = 1
        #expect(try await fx.store.sweep(maxAge: Self.maxAge, maxAttempts: 1) == expected)
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
    }
}
