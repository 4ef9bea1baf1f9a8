import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: prune")
struct PruneTests {
    /// One job per state: sent, failed, running, queued. Returns their ids in that order.
    static func mixedJobs(_ fx: StoreFixture) async throws -> [Int64] {
        let policy = RetryPolicy()
        let sent = try await fx.claimedJob(caseRef: "CASE-SENT")
        let ok = try await fx.store.complete(
            sent, owner: "w1", outcome: .accepted(ProviderResponse(text: "250 ok")), retry: policy, random: 0)
        let failed = try await fx.claimedJob(caseRef: nil)
        let ko = try await fx.store.complete(
            failed, owner: "w1", outcome: .permanent(DispatchFailure(reason: .data, message: "550 no")), retry: policy,
            random: 0)
        guard ok && ko else { throw FixtureError("could not finish the jobs") }
        let running = try await fx.claimedJob()
        let queued = try await fx.enqueue(StoreFixture.job(runAt: "2099-01-01T00:00:00Z"))[0]
        return [sent.id, failed.id, running.id, queued]
    }

    @Test("a case's jobs are pruned together, once the last one is finished and old enough")
    func wholeCases() async throws {
        let fx = try await StoreFixture()
        let first = try await fx.claimedJob(caseRef: "F-1")
        #expect(
            try await fx.store.complete(
                first, owner: "w1", outcome: .accepted(ProviderResponse(text: "250 ok")), retry: RetryPolicy(),
                random: 0))
        let second = try await fx.claimedJob(caseRef: "F-1")
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 0, "the case still has a running job")
        #expect(
            try await fx.store.complete(
                second, owner: "w1", outcome: .accepted(ProviderResponse(text: "250 ok")), retry: RetryPolicy(),
                random: 0))
        #expect(try await fx.store.prune(retention: 3600, batch: 100) == 0, "the second one is recent")
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 2)
        #expect(try await fx.store.job(id: first.id) == nil)
        #expect(try await fx.store.job(id: second.id) == nil)
    }

    @Test("retention 0 deletes finished jobs and their trace, never queued or running ones")
    func prune() async throws {
        let fx = try await StoreFixture()
        let ids = try await Self.mixedJobs(fx)
        try await Task.sleep(for: .milliseconds(20))  // finished_at strictly in the past
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 2)
        for id in ids[0...1] {
            #expect(try await fx.store.job(id: id) == nil)
            #expect(try await fx.store.events(jobID: id).isEmpty)
        }
        #expect(try await fx.store.job(id: ids[2])?.state == .running)
        #expect(try await fx.kinds(ids[2]) == [.enqueued, .claimed])
        #expect(try await fx.store.job(id: ids[3])?.state == .queued)
        #expect(try await fx.kinds(ids[3]) == [.enqueued])
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 0)
    }

    @Test("a long retention keeps recent finished jobs")
    func retention() async throws {
        let fx = try await StoreFixture()
        let ids = try await Self.mixedJobs(fx)
        #expect(try await fx.store.prune(retention: 3600, batch: 100) == 0)
        #expect(try await fx.store.job(id: ids[0])?.state == .sent)
        #expect(try await fx.store.events(jobID: ids[0]).isEmpty == false)
    }

    @Test("the batch size bounds each call")
    func batch() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(StoreFixture.job(), StoreFixture.job(), StoreFixture.job())
        #expect(try await fx.store.cancelCase("CASE-1", reason: .manual).total == 3)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.prune(retention: 0, batch: 2) == 2)
        #expect(try await fx.store.prune(retention: 0, batch: 2) == 1)
        #expect(try await fx.store.jobs(JobFilter()).isEmpty)
        for id in ids { #expect(try await fx.store.events(jobID: id).isEmpty) }
    }
}
