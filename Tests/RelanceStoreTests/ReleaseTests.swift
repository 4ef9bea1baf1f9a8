import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: release")
struct ReleaseTests {
    @Test("claimed jobs go back to the queue with their attempt given back and a deferred event")
    func release() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(StoreFixture.job(), StoreFixture.job())
        let claimed = try await fx.store.claim(owner: "w1", limit: 10, leaseSeconds: 60).map(\.job)
        #expect(claimed.count == 2)
        try await fx.store.release(claimed, owner: "w1", reason: "shutting down")
        for id in ids {
            let job = try #require(try await fx.store.job(id: id))
            #expect(job.state == .queued)
            #expect(job.attempt == 0)
            #expect(job.leaseOwner == nil && job.leaseExpiresAt == nil)
            #expect(try await fx.kinds(id) == [.enqueued, .claimed, .deferred])
            #expect(try await fx.store.events(jobID: id).last?.detail == ["reason": "shutting down"])
        }
        // Claimed again at attempt 1, not 2.
        let again = try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60)
        #expect(again.map(\.job.attempt) == [1, 1])
    }

    @Test("a job already dispatching, or owned by someone else, is not released")
    func notReleased() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(), StoreFixture.job())
        let claimed = try await fx.store.claim(owner: "w1", limit: 10, leaseSeconds: 60).map(\.job)
        #expect(try await fx.store.beginDispatch(claimed[0], owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        try await fx.store.release([claimed[0]], owner: "w1", reason: "shutting down")
        try await fx.store.release([claimed[1]], owner: "intruder", reason: "shutting down")
        for job in claimed {
            let stored = try #require(try await fx.store.job(id: job.id))
            #expect(stored.state == .running)
            #expect(stored.attempt == 1)
            #expect(try await fx.kinds(job.id).contains(.deferred) == false)
        }
    }
}
