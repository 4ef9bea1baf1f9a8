import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: send-window deferral and delivery reports")
struct PostponeAndReportTests {
    @Test("postpone: back in the queue until the opening, attempt given back, trace 'deferred'")
    func postpone() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        #expect(job.attempt == 1)
        let until = "2099-11-30T09:00:00.000Z"
        #expect(try await fx.store.postpone(job, owner: "w1", until: until, detail: ["reason": "send_window"]))
        let row = try #require(try await fx.store.job(id: job.id))
        #expect(row.state == .queued && row.attempt == 0 && row.leaseOwner == nil)
        #expect(row.runAt == until && row.dueAt == until, "a long wait does not count towards max_age")
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .deferred)
        #expect(last.detail == ["reason": "send_window", "until": .string(until)])
        // Not claimable before the opening.
        #expect(try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test("postpone by a worker that lost its lease changes nothing")
    func postponeLeaseLost() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "w1")
        #expect(
            try await fx.store.postpone(job, owner: "intruder", until: "2030-01-01T00:00:00.000Z", detail: [:]) == false
        )
        #expect(try await fx.store.job(id: job.id)?.state == .running)
    }

    /// A job sent with `providerRef`, at attempt 1.
    static func sentJob(_ fx: StoreFixture, providerRef: String? = nil) async throws -> Job {
        let job = try await fx.claimedJob()
        _ = try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:])
        try await fx.store.complete(
            job, owner: "w1", outcome: .accepted(ProviderResponse(code: 202, text: "ok", providerRef: providerRef)),
            retry: RetryPolicy(), random: 0)
        return job
    }

    @Test("a final report moves a sent job to delivered or undelivered, with the provider's detail")
    func applied() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sentJob(fx)
        let outcome = try await fx.store.report(
            DeliveryReport(jobID: job.id, attempt: 1, delivered: false, detail: ["provider": "kannel", "type": 2]))
        #expect(outcome == .applied(.undelivered))
        #expect(try await fx.store.job(id: job.id)?.state == .undelivered)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .undelivered && last.detail == ["provider": "kannel", "type": 2])
        // The same report again is a duplicate, recorded once.
        let again = try await fx.store.report(
            DeliveryReport(jobID: job.id, attempt: 1, delivered: false, detail: [:]))
        #expect(again == .duplicate(.undelivered))
        #expect(try await fx.kinds(job.id).filter { $0 == .undelivered }.count == 1)
    }

    @Test("reports for another attempt, another provider message, an unknown job or a queued job are refused")
    func rejected() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sentJob(fx, providerRef: "SM123")
        let otherAttempt = try await fx.store.report(
            DeliveryReport(jobID: job.id, attempt: 2, delivered: true, detail: [:]))
        guard case .rejected(let why) = otherAttempt else { Issue.record("\(otherAttempt)"); return }
        #expect(why.contains("attempt 2"))
        let otherRef = try await fx.store.report(
            DeliveryReport(jobID: job.id, attempt: 1, delivered: true, providerRef: "SM999", detail: [:]))
        guard case .rejected(let why2) = otherRef else { Issue.record("\(otherRef)"); return }
        #expect(why2.contains("SM999") && why2.contains("SM123"))
        #expect(try await fx.store.job(id: job.id)?.state == .sent)
        #expect(
            try await fx.store.report(DeliveryReport(jobID: 999_999, attempt: 1, delivered: true, detail: [:]))
                == .unknownJob)
        let queued = try await fx.enqueue(StoreFixture.job(caseRef: "C-2"))[0]
        let early = try await fx.store.report(DeliveryReport(jobID: queued, attempt: 0, delivered: true, detail: [:]))
        guard case .rejected = early else { Issue.record("\(early)"); return }
        // The matching provider message is accepted.
        #expect(
            try await fx.store.report(
                DeliveryReport(jobID: job.id, attempt: 1, delivered: true, providerRef: "SM123", detail: [:]))
                == .applied(.delivered))
    }

    @Test("a report settles an uncertain job: the message did leave")
    func uncertain() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "lost")
        _ = try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: -1, rendered: [:])
        _ = try await fx.store.sweep(maxAge: 86400)
        #expect(try await fx.store.job(id: job.id)?.state == .uncertain)
        let outcome = try await fx.store.report(
            DeliveryReport(jobID: job.id, attempt: 1, delivered: true, providerRef: "K-1", detail: ["provider": "x"]))
        #expect(outcome == .applied(.delivered))
        let row = try #require(try await fx.store.job(id: job.id))
        #expect(row.state == .delivered && row.providerRef == "K-1")
        #expect(try await fx.store.events(jobID: job.id).last?.detail == ["provider": "x", "was": "uncertain"])
    }
}

@Suite("SQLiteJobStore: delivery reports that overtake the worker")
struct EarlyReportTests {
    static func dispatching(_ fx: StoreFixture) async throws -> Job {
        let job = try await fx.claimedJob()
        _ = try await fx.store.beginDispatch(job, owner: "w1", leaseSeconds: 60, rendered: [:])
        return job
    }

    @Test("a report before the gateway's answer is recorded is kept, then applied by the outcome")
    func beforeOutcome() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.dispatching(fx)
        #expect(
            try await fx.store.report(DeliveryReport(jobID: job.id, attempt: 1, delivered: true, detail: ["type": 1]))
                == .applied(.delivered))
        #expect(try await fx.store.job(id: job.id)?.state == .running)
        #expect(
            try await fx.store.report(DeliveryReport(jobID: job.id, attempt: 1, delivered: true, detail: [:]))
                == .duplicate(.delivered))
        #expect(
            try await fx.store.complete(
                job, owner: "w1", outcome: .accepted(ProviderResponse(code: 202, text: "0: Accepted")),
                retry: RetryPolicy(), random: 0))
        #expect(try await fx.store.job(id: job.id)?.state == .delivered)
        #expect(try await fx.kinds(job.id).suffix(3) == [.dispatching, .delivered, .accepted])
    }

    @Test("an error answer after a report does not resend: the message left")
    func errorAfterReport() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.dispatching(fx)
        _ = try await fx.store.report(DeliveryReport(jobID: job.id, attempt: 1, delivered: false, detail: [:]))
        let timeout = DispatchFailure(reason: .network, message: "timeout")
        #expect(
            try await fx.store.complete(job, owner: "w1", outcome: .transient(timeout), retry: RetryPolicy(), random: 0)
        )
        let row = try #require(try await fx.store.job(id: job.id))
        #expect(row.state == .undelivered && row.lastError == "timeout")
        #expect(try await fx.store.events(jobID: job.id).last?.detail["already_reported"] == "undelivered")
    }

    @Test("a worker lost after dispatch: the report decides instead of 'uncertain'")
    func lostWorker() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob(owner: "lost")
        _ = try await fx.store.beginDispatch(job, owner: "lost", leaseSeconds: -1, rendered: [:])
        _ = try await fx.store.report(DeliveryReport(jobID: job.id, attempt: 1, delivered: true, detail: [:]))
        let swept = try await fx.store.sweep(maxAge: 86400)
        #expect(swept.uncertain == 0)
        #expect(try await fx.store.job(id: job.id)?.state == .delivered)
        #expect(try await fx.kinds(job.id).last == .rescued)
    }
}

@Suite("Store: bounces and notices read back after a message left")
struct NoticeTests {
    @Test("an undelivered report suppresses the contact in the same transaction; a delivered one never")
    func suppressionWithReport() async throws {
        let fx = try await StoreFixture()
        let job = try await PostponeAndReportTests.sentJob(fx, providerRef: nil)
        let suppression = Suppression(
            payerRef: job.payerRef, channel: job.channel, contact: "old@client.example", reason: "bounce 5.1.1")
        #expect(
            try await fx.store.report(
                DeliveryReport(
                    jobID: job.id, attempt: 1, delivered: false, detail: ["status": "5.1.1"], suppression: suppression))
                == .applied(.undelivered))
        #expect(try await fx.store.suppressedChannels(payerRef: job.payerRef) == [Channel(rawValue: job.channel)!])
        #expect(try await fx.scalar("SELECT reason FROM suppressions") == "bounce 5.1.1")
        // A report refused (another attempt) writes no suppression.
        let other = try await fx.claimedJob(caseRef: "C-9")
        let refused = try await fx.store.report(
            DeliveryReport(
                jobID: other.id, attempt: 1, delivered: false, detail: [:],
                suppression: Suppression(payerRef: "nobody", channel: "email", contact: "x@y.example", reason: "r")))
        guard case .rejected = refused else { Issue.record("\(refused)"); return }
        #expect(try await fx.store.suppressedChannels(payerRef: "nobody").isEmpty)
    }

    @Test("a notice is a trace event of that attempt; the state stays; unknown jobs and attempts write nothing")
    func notices() async throws {
        let fx = try await StoreFixture()
        let job = try await PostponeAndReportTests.sentJob(fx, providerRef: nil)
        for kind in [DeliveryEventKind.delayed, .autoReply] {
            #expect(
                try await fx.store.notice(
                    jobID: job.id, attempt: 1, kind: kind, detail: ["status": "4.2.2"], suppression: nil))
        }
        #expect(
            try await fx.store.notice(
                jobID: job.id, attempt: 1, kind: .complaint, detail: ["feedback_type": "abuse"],
                suppression: Suppression(
                    payerRef: job.payerRef, channel: job.channel, contact: "a@b.example", reason: "complaint abuse")))
        #expect(try await fx.store.job(id: job.id)?.state == .sent)
        #expect(try await fx.kinds(job.id).suffix(3) == [.delayed, .autoReply, .complaint])
        #expect(try await fx.store.events(jobID: job.id).last?.detail == ["feedback_type": "abuse"])
        #expect(try await fx.scalar("SELECT reason FROM suppressions") == "complaint abuse")
        #expect(
            !(try await fx.store.notice(jobID: 999_999, attempt: 1, kind: .delayed, detail: [:], suppression: nil)))
        #expect(!(try await fx.store.notice(jobID: job.id, attempt: 2, kind: .delayed, detail: [:], suppression: nil)))
        #expect(!(try await fx.store.notice(jobID: job.id, attempt: 0, kind: .delayed, detail: [:], suppression: nil)))
    }
}
