import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

/// A message that may have left is `uncertain`, never queued again; a worker whose lease
/// expired cannot put a dispatched job back in the queue; a late definitive answer still
/// settles the job.
@Suite("SQLiteJobStore: uncertain outcomes and fenced leases")
struct FencingTests {
    static let policy = RetryPolicy(baseDelay: 1, maxDelay: 2, maxAttempts: 5)
    static let unanswered = DispatchFailure(
        reason: .smtpData, message: "127.0.0.1:25 closed the connection after the end of the message")
    static let network = DispatchFailure(reason: .network, message: "connection reset while sending RCPT TO")

    /// A job claimed and whose dispatch started with a lease of `leaseSeconds` (negative:
    /// already expired).
    func dispatching(_ fx: StoreFixture, leaseSeconds: Double = 60) async throws -> Job {
        let job = try await fx.claimedJob(owner: "w1")
        #expect(
            try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: leaseSeconds, rendered: [:]) == .proceed)
        return job
    }

    @Test("an uncertain outcome makes the job uncertain with the worker's words, and nothing requeues it")
    func uncertainOutcome() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx)
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .uncertain(Self.unanswered), retry: Self.policy, random: 0))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .uncertain)
        #expect(stored.lastError == Self.unanswered.message)
        #expect(stored.leaseOwner == nil)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .uncertain)
        #expect(last.detail.objectValue?["reason"] == "smtp_data")
        #expect(try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60).isEmpty)
        #expect(try await fx.store.sweep(maxAge: 86400) == SweepResult())
    }

    @Test("a transient outcome from a worker whose lease expired after dispatch started: uncertain, not queued")
    func expiredTransient() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx, leaseSeconds: -1)
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .transient(Self.network), retry: Self.policy, random: 0))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .uncertain)
        #expect(stored.lastError?.contains("lease expired") == true)
        #expect(stored.lastError?.contains(Self.network.message) == true)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .uncertain)
        #expect(last.detail.objectValue?["lease_expired"] == true)
    }

    @Test("a transient outcome within the lease still goes back to the queue")
    func transientWithinLease() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx)
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .transient(Self.network), retry: Self.policy, random: 0))
        #expect(try await fx.store.job(id: job.id)?.state == .queued)
    }

    @Test("an acceptance arriving after the sweeper made the job uncertain settles it as sent")
    func lateAcceptance() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx, leaseSeconds: -1)
        #expect(try await fx.store.sweep(maxAge: 86400).uncertain == 1)
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
        let accepted = DispatchOutcome.accepted(ProviderResponse(code: 250, text: "250 2.0.0 Ok: queued as 4F2A"))
        #expect(try await fx.store.complete(job, owner: "w1", outcome: accepted, retry: Self.policy, random: 0))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .sent)
        #expect(stored.lastError == nil)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .accepted)
        #expect(last.detail.objectValue?["late"] != nil)
    }

    @Test("an uncertain outcome after the sweeper: the job stays uncertain and the trace keeps the worker's account")
    func lateUncertain() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx, leaseSeconds: -1)
        _ = try await fx.store.sweep(maxAge: 86400)
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .uncertain(Self.unanswered), retry: Self.policy, random: 0))
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
        let kinds = try await fx.kinds(job.id)
        #expect(kinds.suffix(2) == [.uncertain, .uncertain])
    }

    @Test("a late transient outcome after the sweeper changes nothing")
    func lateTransient() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx, leaseSeconds: -1)
        _ = try await fx.store.sweep(maxAge: 86400)
        #expect(
            try await !fx.store.complete(
                job, owner: "w1", outcome: .transient(Self.network), retry: Self.policy, random: 0))
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
    }

    @Test("an acceptance for an older attempt never touches the job's newer attempt")
    func lateAcceptanceOtherAttempt() async throws {
        let fx = try await StoreFixture()
        let job = try await dispatching(fx, leaseSeconds: -1)
        _ = try await fx.store.sweep(maxAge: 86400)
        _ = try await fx.store.resolve(jobID: job.id, decision: .requeue, note: "checked: not received", force: false)
        let accepted = DispatchOutcome.accepted(ProviderResponse(code: 250, text: "250 ok"))
        #expect(try await !fx.store.complete(job, owner: "w1", outcome: accepted, retry: Self.policy, random: 0))
        #expect(try await fx.store.job(id: job.id)?.state == .queued)
    }

    @Test("beginDispatch refuses a worker whose claim lease has expired")
    func expiredClaim() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1", leaseSeconds: -1)
        #expect(try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:]) == .leaseLost)
        #expect(try await fx.store.job(id: job.id)?.dispatchStartedAt == nil)
        #expect(try await fx.store.sweep(maxAge: 86400).requeued == 1)
    }
}

@Suite("DispatchFence")
struct DispatchFenceTests {
    @Test("permits an answer due before the lease ends, refuses one due after, and refuses once it has passed")
    func permits() {
        let fence = DispatchFence.lease(seconds: 10)
        #expect(fence.permits(answeredBy: .now + .seconds(5)))
        #expect(!fence.permits(answeredBy: .now + .seconds(11)))
        #expect(!DispatchFence.lease(seconds: -1).permits(answeredBy: .now - .seconds(5)))
        #expect(DispatchFence.unlimited.permits(answeredBy: .now + .seconds(86400)))
        guard case .transient(let failure) = fence.refusal("the reply") else {
            Issue.record("a closed fence must be transient: nothing was written")
            return
        }
        #expect(failure.reason == .lease)
    }
}
