import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

/// Other services insert jobs with plain SQL; the trigger gives them the same treatment.
@Suite("SQLiteJobStore: rows inserted with plain SQL", .sqliteOnly)
struct PlainSQLInsertTests {
    static let insert =
        "INSERT INTO jobs(payer_ref, case_ref, channel, template, data, run_at) VALUES ('P-1', 'CASE-9', 'email', 'reminder-1', '{}', ?)"

    func onlyJob(_ fx: StoreFixture) async throws -> Job {
        let jobs = try await fx.store.jobs(JobFilter())
        #expect(jobs.count == 1)
        return try #require(jobs.first)
    }

    @Test("run_at that is not a date: the job fails with a clear error and is never claimed")
    func notADate() async throws {
        let fx = try await StoreFixture()
        try await fx.execute(Self.insert, ["next tuesday"])
        let job = try await onlyJob(fx)
        #expect(job.state == .failed)
        #expect(job.lastError == "run_at 'next tuesday' is not a date (use ISO 8601, e.g. 2026-11-23T09:00:00Z)")
        let events = try await fx.store.events(jobID: job.id)
        #expect(events.map(\.kind) == [.enqueued, .permanentError])
        #expect(events.last?.detail == ["reason": "data", "message": .string(job.lastError!)])
        #expect(events.allSatisfy { $0.caseRef == "CASE-9" && $0.channel == "email" })
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).isEmpty)
    }

    @Test(
        "a readable run_at is normalised to the stored format",
        arguments: [
            ("2026-11-23 09:00:00", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23T09:00:00Z", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23T10:30:00+01:30", "2026-11-23T09:00:00.000Z"),
            ("2026-11-23T09:00", "2026-11-23T09:00:00.000Z"),
        ])
    func normalised(_ given: String, _ stored: String) async throws {
        let fx = try await StoreFixture()
        try await fx.execute(Self.insert, [given])
        let job = try await onlyJob(fx)
        #expect(job.state == .queued)
        #expect(job.runAt == stored)
        #expect(job.dueAt == stored)
        let events = try await fx.store.events(jobID: job.id)
        #expect(events.map(\.kind) == [.enqueued])
        #expect(events.first?.detail == ["payer_ref": "P-1", "template": "reminder-1", "run_at": .string(stored)])
    }

    @Test("a run_at in the past is due at once")
    func pastIsDue() async throws {
        let fx = try await StoreFixture()
        try await fx.execute(Self.insert, ["2020-03-01 08:00:00"])
        let job = try await onlyJob(fx)
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).map(\.job.id) == [job.id])
    }

    @Test("without run_at the job is due now")
    func defaultRunAt() async throws {
        let fx = try await StoreFixture()
        let started = Date().addingTimeInterval(-1)
        try await fx.execute("INSERT INTO jobs(payer_ref, channel, template) VALUES ('P-1', 'email', 'thanks')")
        let job = try await onlyJob(fx)
        #expect(job.state == .queued)
        #expect(job.data == "{}")
        let runAt = try #require(instant(job.runAt))
        #expect(runAt >= started && runAt <= Date().addingTimeInterval(1))
        #expect(job.runAt.hasSuffix("Z") && job.runAt.count == 24)
        #expect(try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60).count == 1)
    }

    @Test("an unknown state is refused by the database")
    func badState() async throws {
        let fx = try await StoreFixture()
        await #expect(throws: (any Error).self) {
            try await fx.execute(
                "INSERT INTO jobs(payer_ref, channel, template, state) VALUES ('P-1', 'email', 'thanks', 'sending')")
        }
        #expect(try await fx.store.jobs(JobFilter()).isEmpty)
    }
}
