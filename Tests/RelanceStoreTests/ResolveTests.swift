import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: operator decisions (resolve)")
struct ResolveTests {
    /// A job left `uncertain` by a worker lost during dispatch.
    static func uncertainJob(_ fx: StoreFixture) async throws -> Job {
        let job = try await fx.claimedJob(owner: "lost")
        _ = try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: -1, rendered: [:])
        _ = try await fx.store.sweep(maxAge: 86400)
        guard try await fx.store.job(id: job.id)?.state == .uncertain else { throw FixtureError("not uncertain") }
        return job
    }

    @Test("requeue: due now with a fresh attempt budget, claimable and dispatchable again")
    func requeue() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.uncertainJob(fx)
        let started = Date().addingTimeInterval(-1)
        let resolved = try #require(
            try await fx.store.resolve(
                jobID: job.id, decision: .requeue, note: "not in the payer's mailbox", force: false))
        #expect(resolved.state == .queued)
        #expect(resolved.dispatchStartedAt == nil)
        #expect((resolved.maxAttempts ?? 0) > job.attempt, "a fresh attempt budget")
        let runAt = try #require(instant(resolved.runAt))
        #expect(runAt >= started && runAt <= Date().addingTimeInterval(1))
        #expect(try await fx.store.job(id: job.id) == resolved)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .rescued)
        #expect(last.detail == ["by": "operator", "note": "not in the payer's mailbox", "previous_state": "uncertain"])
        // Not finished any more: pruning leaves it alone.
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 0)
        // Sent again through the normal path.
        let again = try #require(try await fx.store.claim(owner: "w2", limit: 1, leaseSeconds: 60).first?.job)
        #expect(again.id == job.id && again.attempt == job.attempt + 1)
        #expect(try await fx.store.beginDispatch(again, owner: "w2", leaseSeconds: 60, rendered: [:]) == .proceed)
    }

    @Test("requeue of a job cancelled with its case really sends it: the old cancellation does not linger")
    func requeueCancelled() async throws {
        let fx = try await StoreFixture()
        let id = try await fx.enqueue(StoreFixture.job(caseRef: "C"))[0]
        #expect(try await fx.store.cancelCase("C", reason: .manual).total == 1)
        // Not without --force: the case was cancelled because it was paid.
        let refused = try await #require(throws: OperatorError.self) {
            try await fx.store.resolve(jobID: id, decision: .requeue, note: "", force: false)
        }
        #expect(refused.message.contains("its case was cancelled") && refused.message.contains("--force"))
        #expect(try await fx.store.job(id: id)?.state == .cancelled)
        _ = try await fx.store.resolve(jobID: id, decision: .requeue, note: "payment bounced", force: true)
        let job = try #require(try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60).first?.job)
        #expect(try await fx.store.beginDispatch(job, owner: "w", leaseSeconds: 60, rendered: [:]) == .proceed)
    }

    @Test("mark-sent: recorded as sent by the operator, never sent again")
    func markSent() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.uncertainJob(fx)
        let resolved = try #require(
            try await fx.store.resolve(
                jobID: job.id, decision: .markSent, note: "payer confirmed receipt", force: false))
        #expect(resolved.state == .sent)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .accepted)
        #expect(last.detail == ["by": "operator", "note": "payer confirmed receipt", "previous_state": "uncertain"])
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).isEmpty)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await fx.store.prune(retention: 0, batch: 100) == 1)
    }

    @Test("cancel: cancelled, with the decision in the trace")
    func cancel() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.uncertainJob(fx)
        let resolved = try #require(
            try await fx.store.resolve(jobID: job.id, decision: .cancel, note: "case closed", force: false))
        #expect(resolved.state == .cancelled)
        #expect(try await fx.kinds(job.id).last == .cancelled)
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test(
        "a queued or running job belongs to the dispatcher and cannot be resolved", arguments: OperatorDecision.allCases
    )
    func notFinished(decision: OperatorDecision) async throws {
        let fx = try await StoreFixture()
        let queued = try await fx.enqueue(StoreFixture.job(runAt: "2099-01-01T00:00:00Z"))[0]
        let running = try await fx.claimedJob()
        for (id, state) in [(queued, JobState.queued), (running.id, .running)] {
            let before = try await fx.store.job(id: id)
            let eventsBefore = try await fx.store.events(jobID: id)
            let error = try await #require(throws: OperatorError.self) {
                try await fx.store.resolve(jobID: id, decision: decision, note: "", force: false)
            }
            #expect(error.message == "job \(id) is \(state.rawValue); only a finished job can be resolved")
            #expect(try await fx.store.job(id: id) == before)
            #expect(try await fx.store.events(jobID: id) == eventsBefore)
        }
    }

    @Test("an unknown job gives nil")
    func unknown() async throws {
        let fx = try await StoreFixture()
        #expect(try await fx.store.resolve(jobID: 999, decision: .cancel, note: "", force: false) == nil)
    }

    @Test(
        "what each decision is for, and what needs --force",
        arguments: [
            (OperatorDecision.requeue, JobState.uncertain, false), (.requeue, .failed, false), (.requeue, .dead, false),
            (.requeue, .undelivered, false), (.requeue, .sent, true), (.requeue, .delivered, true),
            (.requeue, .cancelled, true), (.markSent, .uncertain, false), (.markSent, .failed, false),
            (.markSent, .dead, false), (.markSent, .sent, true), (.markSent, .delivered, true),
            (.markSent, .undelivered, true), (.markSent, .cancelled, true), (.cancel, .uncertain, false),
            (.cancel, .failed, false), (.cancel, .dead, false), (.cancel, .undelivered, false), (.cancel, .sent, true),
            (.cancel, .delivered, true), (.cancel, .cancelled, true),
        ])
    func refusals(decision: OperatorDecision, state: JobState, needsForce: Bool) {
        #expect((decision.refusal(for: state) != nil) == needsForce)
    }

    @Test("a sent job is not sent again without --force, and nothing changes")
    func sentNeedsForce() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.uncertainJob(fx)
        _ = try await fx.store.resolve(jobID: job.id, decision: .markSent, note: "", force: false)
        let events = try await fx.store.events(jobID: job.id)
        let error = try await #require(throws: OperatorError.self) {
            try await fx.store.resolve(jobID: job.id, decision: .requeue, note: "", force: false)
        }
        #expect(error.message.contains("already sent"))
        #expect(try await fx.store.job(id: job.id)?.state == .sent)
        #expect(try await fx.store.events(jobID: job.id) == events)
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).isEmpty)
    }
}
