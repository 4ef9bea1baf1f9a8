import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

/// Rows written by SQL with values of the wrong type, NUL bytes or invalid UTF-8: no
/// crash anywhere, the job fails at claim naming the column, and other jobs go on.
@Suite("SQLiteJobStore: unusable rows written by SQL", .sqliteOnly)
struct UnusableRowTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let values: String
        let problem: String
        var testDescription: String { problem }
    }

    /// `values` are the SQL expressions for (payer_ref, channel, template, data, priority).
    static let cases: [Case] = [
        .init(
            values: "'P', 'email', 'reminder-1', '{}', 'high'",
            problem: "column priority: text 'high' is not an integer"),
        .init(values: "'P', 'email', 'reminder-1', '{}', 1.5", problem: "column priority: real 1.5 is not an integer"),
        .init(
            values: "'VICTIM' || char(0) || 'attacker', 'email', 'reminder-1', '{}', 0",
            problem: "column payer_ref: contains a NUL byte"),
        .init(
            values: "'P', 'email' || char(0) || 'x', 'reminder-1', '{}', 0",
            problem: "column channel: contains a NUL byte"),
        .init(
            values: "'P', 'email', CAST(x'7265e080af' AS TEXT), '{}', 0", problem: "column template: is not valid UTF-8"
        ),
        .init(values: "'P', 'email', 'reminder-1', x'7b7d', 0", problem: "column data: blob of 2 bytes is not a text"),
        .init(
            values: "'P', 'email', 'remin' || char(10) || 'der', '{}', 0",
            problem: "column template: contains a control character"),
    ]

    @Test(
        "the job fails (at insert or at claim) with the column and the rule; a good job of higher priority still goes",
        arguments: cases)
    func failsAtClaim(_ c: Case) async throws {
        let fx = try await StoreFixture()
        try await fx.execute("INSERT INTO jobs(payer_ref, channel, template, data, priority) VALUES (\(c.values))")
        try await fx.execute(
            "INSERT INTO jobs(payer_ref, channel, template, data, priority) VALUES ('P', 'email', 'reminder-1', '{}', 5)"
        )
        // Listing, showing and filtering never crash on the row.
        let listed = try await fx.store.jobs(JobFilter())
        #expect(listed.count == 2)
        _ = try await fx.store.job(id: listed[0].id)
        let claimed = try await fx.store.claim(owner: "w", limit: 10, leaseSeconds: 60)
        #expect(claimed.count == 1)
        #expect(claimed.first?.job.priority == 5)
        let bad = try #require(try await fx.store.job(id: 1))
        #expect(bad.state == .failed)
        #expect(bad.lastError == "unusable row: \(c.problem)")
        #expect(try await fx.kinds(1).last == .permanentError)
        // Cancelling its case or listing by state still works.
        #expect(try await fx.store.jobs(JobFilter(state: .failed)).count == 1)
    }

    @Test("a payer row with a blob where a text belongs is unusable, not a crash")
    func payerRow() async throws {
        let fx = try await StoreFixture()
        try await fx.execute("INSERT INTO payers(ref, name, email) VALUES ('N', 'Nom', x'41')")
        try await fx.execute(
            "INSERT INTO jobs(payer_ref, channel, template, data) VALUES ('N', 'email', 'reminder-1', '{}')")
        let claimed = try #require(try await fx.store.claim(owner: "w", limit: 1, leaseSeconds: 60).first)
        guard case .failure(let why) = claimed.payer else {
            Issue.record("the payer should be unusable")
            return
        }
        #expect(why.message == "payer N: column email is blob of 1 bytes, not a text")
    }
}
