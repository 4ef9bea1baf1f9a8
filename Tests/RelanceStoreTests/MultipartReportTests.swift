import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

/// A gateway may report each part of a long SMS, or the message as a whole: an
/// undelivered part is never hidden, and every report stays in the trace.
@Suite("SQLiteJobStore: delivery reports of a message in several parts")
struct MultipartReportTests {
    /// A job sent in `segments` parts at attempt 1.
    static func sent(_ fx: StoreFixture, segments: Int) async throws -> Job {
        let job = try await fx.claimedJob()
        _ = try await fx.store.beginDispatch(
            job, owner: "w1", leaseSeconds: 60, rendered: ["segments": .number(String(segments))])
        try await fx.store.complete(
            job, owner: "w1", outcome: .accepted(ProviderResponse(code: 202, text: "0: Accepted")),
            retry: RetryPolicy(), random: 0)
        return job
    }

    static func report(_ job: Job, _ delivered: Bool) -> DeliveryReport {
        DeliveryReport(jobID: job.id, attempt: 1, delivered: delivered, detail: ["provider": "kannel"])
    }

    @Test("every part's report is kept; the first delivered one makes the message delivered")
    func everyPartKept() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sent(fx, segments: 3)
        #expect(try await fx.store.report(Self.report(job, true)) == .applied(.delivered))
        #expect(try await fx.store.report(Self.report(job, true)) == .duplicate(.delivered))
        #expect(try await fx.store.report(Self.report(job, true)) == .duplicate(.delivered))
        let parts = try await fx.store.events(jobID: job.id).filter { $0.kind == .delivered }
        #expect(parts.count == 3)
        #expect(parts.last?.detail.objectValue?["parts"] == 3)
    }

    @Test("a later part undelivered after the others were delivered: undelivered, recorded, not refused")
    func laterPartUndelivered() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sent(fx, segments: 2)
        #expect(try await fx.store.report(Self.report(job, true)) == .applied(.delivered))
        #expect(try await fx.store.report(Self.report(job, false)) == .applied(.undelivered))
        #expect(try await fx.store.job(id: job.id)?.state == .undelivered)
        let last = try #require(try await fx.store.events(jobID: job.id).last)
        #expect(last.kind == .undelivered && last.detail.objectValue?["was"] == "delivered")
        // A part delivered after that is kept in the trace; the message stays undelivered.
        #expect(try await fx.store.report(Self.report(job, true)) == .duplicate(.undelivered))
        #expect(try await fx.store.job(id: job.id)?.state == .undelivered)
        #expect(try await fx.kinds(job.id).last == .delivered)
    }

    @Test("one part undelivered first: undelivered at once, and it stays so")
    func firstPartUndelivered() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sent(fx, segments: 3)
        #expect(try await fx.store.report(Self.report(job, false)) == .applied(.undelivered))
        #expect(try await fx.store.report(Self.report(job, false)) == .duplicate(.undelivered))
        #expect(try await fx.store.report(Self.report(job, true)) == .duplicate(.undelivered))
        #expect(try await fx.store.job(id: job.id)?.state == .undelivered)
    }

    @Test("a single-part message: a repeated report is a duplicate, not another trace event")
    func singlePart() async throws {
        let fx = try await StoreFixture()
        let job = try await Self.sent(fx, segments: 1)
        #expect(try await fx.store.report(Self.report(job, true)) == .applied(.delivered))
        #expect(try await fx.store.report(Self.report(job, true)) == .duplicate(.delivered))
        #expect(try await fx.kinds(job.id).filter { $0 == .delivered }.count == 1)
    }
}
