import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: beginDispatch, cancelCase and complete")
struct DispatchTests {
    static let rendered: JSONValue = [
        "templates": ["reminder-1/fr/email-text.mustache"], "locale": "fr", "sha256": "abc",
    ]
    static let policy = RetryPolicy()

    @Test("the lease owner at the claimed attempt may proceed; the trace gets rendered then dispatching")
    func proceed() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1")
        #expect(
            try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 120, rendered: Self.rendered) == .proceed)
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .running)
        #expect(stored.dispatchStartedAt != nil)
        let lease = try #require(instant(stored.leaseExpiresAt))
        #expect(lease > Date().addingTimeInterval(100))
        let events = try await fx.store.events(jobID: job.id)
        #expect(events.map(\.kind) == [.enqueued, .claimed, .rendered, .dispatching])
        #expect(events[2].detail == Self.rendered)
        #expect(events.allSatisfy { $0.caseRef == "CASE-1" && $0.channel == "email" })
        #expect(events.dropFirst().allSatisfy { $0.attempt == 1 })
    }

    @Test("another owner, or a stale attempt, has lost the lease")
    func leaseLost() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1")
        #expect(try await fx.store.beginDispatch(job, owner: "w2", leaseSeconds: 60, rendered: [:]) == .leaseLost)
        var stale = job
        stale.attempt = job.attempt + 1
        #expect(try await fx.store.beginDispatch(stale, owner: "w1", leaseSeconds: 60, rendered: [:]) == .leaseLost)
        stale.attempt = 0
        #expect(try await fx.store.beginDispatch(stale, owner: "w1", leaseSeconds: 60, rendered: [:]) == .leaseLost)
        // Nothing was recorded for the losers.
        #expect(try await fx.kinds(job.id) == [.enqueued, .claimed])
        #expect(try await fx.store.job(id: job.id)?.dispatchStartedAt == nil)
    }

    @Test("a case cancelled after the claim is caught just before dispatch")
    func cancelledAfterClaim() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1", caseRef: "CASE-7")
        #expect(try await fx.store.cancelCase("CASE-7", reason: .paid).total == 1)
        #expect(try await fx.store.job(id: job.id)?.state == .running)
        let permission = try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: Self.rendered)
        #expect(permission == .cancelled(reason: .paid))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .cancelled)
        #expect(stored.leaseOwner == nil)
        let events = try await fx.store.events(jobID: job.id)
        #expect(events.map(\.kind) == [.enqueued, .claimed, .cancelled])
        #expect(events.last?.detail == ["reason": "paid", "checked": "before dispatch"])
    }

    @Test("cancelCase cancels the queued jobs of that case only, and never a dispatched one")
    func cancelCase() async throws {
        let fx = try await StoreFixture()
        let ids = try await fx.enqueue(
            StoreFixture.job(caseRef: "A"), StoreFixture.job(caseRef: "A", runAt: "2099-01-01T00:00:00Z"),
            StoreFixture.job(caseRef: "B"))
        #expect(try await fx.store.cancelCase("A", reason: .dispute).total == 2)
        #expect(try await fx.store.job(id: ids[0])?.state == .cancelled)
        #expect(try await fx.store.job(id: ids[1])?.state == .cancelled)
        #expect(try await fx.store.job(id: ids[2])?.state == .queued)
        #expect(try await fx.kinds(ids[0]) == [.enqueued, .cancelled])
        #expect(try await fx.store.cancelCase("A", reason: .manual).total == 0)
        // Dispatching already: too late to cancel.
        let claimed = try #require(try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60).first?.job)
        #expect(try await fx.store.beginDispatch(claimed, owner: "w", leaseSeconds: 60, rendered: [:]) == .proceed)
        #expect(try await fx.store.cancelCase("B", reason: .manual).total == 0)
        #expect(
            try await fx.store.complete(
                claimed, owner: "w", outcome: .accepted(ProviderResponse(text: "250 ok")), retry: Self.policy, random: 0
            ))
        #expect(try await fx.store.job(id: ids[2])?.state == .sent)
    }

    @Test("accepted: sent, with the provider's answer in the trace")
    func accepted() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        _ = try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:])
        let response = ProviderResponse(code: 250, text: "250 2.0.0 Ok: queued as 4F2A1C", providerRef: "4F2A1C")
        #expect(
            try await fx.store.complete(job, owner: "w1", outcome: .accepted(response), retry: Self.policy, random: 0.5)
        )
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .sent)
        #expect(stored.providerRef == "4F2A1C")
        #expect(stored.leaseOwner == nil && stored.leaseExpiresAt == nil)
        #expect(stored.lastError == nil)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .accepted)
        #expect(
            last.detail == [
                "code": .number("250"), "response": "250 2.0.0 Ok: queued as 4F2A1C", "provider_ref": "4F2A1C",
            ])
    }

    @Test("permanent: failed, with the reason as last_error")
    func permanent() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        let failure = DispatchFailure(
            reason: .smtpReply, message: "SMTP server answered: 550 5.1.1 User unknown", code: 550,
            enhancedCode: "5.1.1")
        #expect(
            try await fx.store.complete(job, owner: "w1", outcome: .permanent(failure), retry: Self.policy, random: 0.5)
        )
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .failed)
        #expect(stored.lastError == "SMTP server answered: 550 5.1.1 User unknown")
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .permanentError)
        #expect(
            last.detail
                == [
                    "reason": "smtp_reply", "message": "SMTP server answered: 550 5.1.1 User unknown",
                    "code": .number("550"),
                    "enhanced_code": "5.1.1",
                ])
        // Never claimed again.
        #expect(try await fx.store.claim(owner: "w1", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test("transient: back in the queue later, with the delay in the trace; the next claim is the next attempt")
    func transient() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        _ = try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:])
        let failure = DispatchFailure(reason: .smtpReply, message: "SMTP server answered: 451 Try later", code: 451)
        let before = Date()
        // Attempt 1, unit 0.5: 22.5 s.
        #expect(
            try await fx.store.complete(job, owner: "w1", outcome: .transient(failure), retry: Self.policy, random: 0.5)
        )
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .queued)
        #expect(stored.lastError == "SMTP server answered: 451 Try later")
        #expect(stored.leaseOwner == nil && stored.dispatchStartedAt == nil)
        let runAt = try #require(instant(stored.runAt))
        #expect(runAt > before.addingTimeInterval(21) && runAt < Date().addingTimeInterval(24))
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .transientError)
        #expect(last.detail["reason"] == "smtp_reply")
        #expect(last.detail["code"] == .number("451"))
        let retryIn = try #require(last.detail["retry_in_seconds"])
        guard case .number(let seconds) = retryIn else {
            Issue.record("retry_in_seconds should be a number")
            return
        }
        #expect(Double(seconds) == 22.5)
        // Not due yet.
        #expect(try await fx.store.claim(owner: "w1", limit: 10, leaseSeconds: 60).isEmpty)
        // Once due, the next claim is attempt 2.
        try await fx.execute("UPDATE jobs SET run_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", [job.id])
        let again = try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60)
        #expect(again.map(\.job.attempt) == [2])
    }

    @Test("transient on the last attempt: dead, with why")
    func deadOnAttempts() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        let failure = DispatchFailure(reason: .network, message: "Couldn't connect to server")
        let policy = RetryPolicy(maxAttempts: 1)
        #expect(try await fx.store.complete(job, owner: "w1", outcome: .transient(failure), retry: policy, random: 0.5))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .dead)
        #expect(stored.lastError == "Couldn't connect to server (gave up: no attempt left (1 of 1 used))")
        #expect(try await fx.kinds(job.id) == [.enqueued, .claimed, .transientError, .dead])
        #expect(try await fx.store.events(jobID: job.id).last?.detail == ["reason": "no attempt left (1 of 1 used)"])
    }

    @Test("a per-job max_attempts (set by SQL) overrides the policy")
    func perJobMaxAttempts() async throws {
        let fx = try await StoreFixture()
        let id = try await fx.enqueue(StoreFixture.job())[0]
        try await fx.execute("UPDATE jobs SET max_attempts = 1 WHERE id = ?", [id])
        let job = try #require(try await fx.store.claim(owner: "w1", limit: 1, leaseSeconds: 60).first?.job)
        #expect(job.maxAttempts == 1)
        let failure = DispatchFailure(reason: .network, message: "timeout")
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .transient(failure), retry: RetryPolicy(maxAttempts: 8), random: 0))
        #expect(try await fx.store.job(id: id)?.state == .dead)
    }

    @Test("transient for a job due long ago: dead once past the maximum age")
    func deadOnAge() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(runAt: "2020-01-01T00:00:00Z"))
        let job = try #require(try await fx.store.claim(owner: "w1", limit: 1, leaseSeconds: 60).first?.job)
        let failure = DispatchFailure(reason: .network, message: "timeout")
        #expect(
            try await fx.store.complete(job, owner: "w1", outcome: .transient(failure), retry: Self.policy, random: 0))
        let stored = try #require(try await fx.store.job(id: job.id))
        #expect(stored.state == .dead)
        #expect(stored.lastError == "timeout (gave up: older than the maximum age of 259200 s)")
    }

    @Test(
        "complete with a stale owner or attempt returns false and changes nothing",
        arguments: ["owner", "attempt", "twice"])
    func staleComplete(_ how: String) async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1")
        var owner = "w1"
        var stale = job
        switch how {
        case "owner": owner = "w2"
        case "attempt": stale.attempt += 1
        default:
            #expect(
                try await fx.store.complete(
                    job, owner: "w1", outcome: .accepted(ProviderResponse(text: "ok")), retry: Self.policy, random: 0))
        }
        let before = try await fx.store.job(id: job.id)
        let eventsBefore = try await fx.store.events(jobID: job.id)
        for outcome in [
            DispatchOutcome.accepted(ProviderResponse(text: "ok")),
            .permanent(DispatchFailure(reason: .data, message: "x")),
            .transient(DispatchFailure(reason: .network, message: "y")),
        ] {
            #expect(
                try await fx.store.complete(stale, owner: owner, outcome: outcome, retry: Self.policy, random: 0)
                    == false)
        }
        #expect(try await fx.store.job(id: job.id) == before)
        #expect(try await fx.store.events(jobID: job.id) == eventsBefore)
    }

    @Test(
        "one job's outcome and the next job's dispatching mark are written together, each on its own terms",
        arguments: ["proceed", "next cancelled", "previous lease lost"])
    func completeThenBeginDispatch(_ how: String) async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(caseRef: "A"), StoreFixture.job(caseRef: "B"))
        let claimed = try await fx.store.claim(owner: "w1", limit: 2, leaseSeconds: 60).map(\.job)
        try #require(claimed.count == 2)
        let (done, next) = (claimed[0], claimed[1])
        #expect(try await fx.store.beginDispatch(done, owner: "w1", leaseSeconds: 60, rendered: [:]) == .proceed)
        if how == "next cancelled" { #expect(try await fx.store.cancelCase("B", reason: .paid).total == 1) }
        if how == "previous lease lost" {
            try await fx.execute("UPDATE jobs SET lease_owner = 'w2' WHERE id = ?", [done.id])
        }
        fx.resetSink()
        let response = ProviderResponse(code: 250, text: "250 2.0.0 Ok: queued as 7C", providerRef: "7C")
        let written = try await fx.store.complete(
            done, outcome: .accepted(response), retry: Self.policy, random: 0, thenBeginDispatch: next, owner: "w1",
            leaseSeconds: 60, rendered: Self.rendered)
        let sunk = fx.sunk.flatMap { $0 }.map { "\($0.jobID) \($0.kind.rawValue)" }
        // The sink hears the events as stored (ids, instants, details), in their order.
        let stored = try await fx.store.events(jobID: done.id) + fx.store.events(jobID: next.id)
        #expect(fx.sunk.flatMap { $0 }.allSatisfy { stored.contains($0) })
        switch how {
        case "proceed":
            // Written together: the sink hears of them in one call.
            #expect(fx.sunk.count == 1)
            #expect(written.completed && written.permission == .proceed)
            #expect(try await fx.store.job(id: done.id)?.state == .sent)
            #expect(try await fx.store.job(id: next.id)?.dispatchStartedAt != nil)
            #expect(sunk == ["\(done.id) accepted", "\(next.id) rendered", "\(next.id) dispatching"])
        case "next cancelled":
            #expect(written.completed && written.permission == .cancelled(reason: .paid))
            #expect(try await fx.store.job(id: done.id)?.state == .sent)
            #expect(try await fx.store.job(id: next.id)?.state == .cancelled)
            #expect(sunk == ["\(done.id) accepted", "\(next.id) cancelled"])
        default:
            #expect(!written.completed && written.permission == .proceed)
            #expect(try await fx.store.job(id: done.id)?.state == .running)
            #expect(sunk == ["\(next.id) rendered", "\(next.id) dispatching"])
        }
    }
}
