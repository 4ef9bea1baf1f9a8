import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("SQLiteJobStore: event sink")
struct EventSinkTests {
    /// The sink's events match the stored ones field by field.
    static func same(_ a: [DeliveryEvent], _ b: [DeliveryEvent]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.id == y.id && x.jobID == y.jobID && x.attempt == y.attempt && x.at == y.at && x.kind == y.kind
                    && x.caseRef == y.caseRef && x.channel == y.channel && x.detail.jsonText == y.detail.jsonText
            }
    }

    func newEvents(_ fx: StoreFixture, after id: Int64) async throws -> [DeliveryEvent] {
        try await fx.store.events(after: id, filter: EventFilter(), limit: 1000)
    }

    @Test("a sink that does not want `enqueued` events still gets a bad run_at's permanent error")
    func enqueuedEventsSkipped() async throws {
        let directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sunk = SinkBox()
        let store = try SQLiteJobStore(path: directory + "/relance.sqlite", sinkEnqueued: false) { sunk.append($0) }
        try await store.migrate()
        _ = try await store.enqueue(
            [StoreFixture.job(), StoreFixture.job(runAt: "next tuesday")], payers: [StoreFixture.payer])
        #expect(sunk.calls.flatMap { $0 }.map(\.kind) == [.permanentError])
        let stored = try await store.events(after: 0, filter: EventFilter(), limit: 10).map(\.kind)
        #expect(stored == [.enqueued, .enqueued, .permanentError])
    }

    @Test("each committed transaction hands its events to the sink once, as stored")
    func workerTransactions() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(), StoreFixture.job())
        var lastID = try await newEvents(fx, after: 0).last!.id
        fx.resetSink()

        let claimed = try await fx.store.claim(owner: "w1", limit: 10, leaseSeconds: 60).map(\.job)
        var stored = try await newEvents(fx, after: lastID)
        #expect(fx.sunk.count == 1)
        #expect(Self.same(fx.sunk.last ?? [], stored))
        #expect(stored.map(\.kind) == [.claimed, .claimed])
        lastID = stored.last!.id

        _ = try await fx.store.beginDispatch(claimed[0], owner: "w1", leaseSeconds: 60, rendered: ["sha256": "abc"])
        stored = try await newEvents(fx, after: lastID)
        #expect(fx.sunk.count == 2)
        #expect(Self.same(fx.sunk.last ?? [], stored))
        #expect(stored.map(\.kind) == [.rendered, .dispatching])
        lastID = stored.last!.id

        #expect(
            try await fx.store.complete(
                claimed[0], owner: "w1", outcome: .transient(DispatchFailure(reason: .network, message: "reset")),
                retry: RetryPolicy(),
                random: 0.25))
        stored = try await newEvents(fx, after: lastID)
        #expect(fx.sunk.count == 3)
        #expect(Self.same(fx.sunk.last ?? [], stored))
        #expect(stored.map(\.kind) == [.transientError])
        lastID = stored.last!.id

        try await fx.store.release([claimed[1]], owner: "w1", reason: "stop")
        stored = try await newEvents(fx, after: lastID)
        #expect(fx.sunk.count == 4)
        #expect(Self.same(fx.sunk.last ?? [], stored))
        #expect(stored.map(\.kind) == [.deferred])
    }

    @Test("a transaction that records nothing does not call the sink")
    func nothingToSay() async throws {
        let fx = try await StoreFixture()
        let job = try await fx.claimedJob()
        fx.resetSink()
        _ = try await fx.store.claim(owner: "w2", limit: 10, leaseSeconds: 60)
        #expect(
            try await fx.store.complete(
                job, owner: "intruder", outcome: .accepted(ProviderResponse(text: "ok")), retry: RetryPolicy(),
                random: 0) == false)
        #expect(try await fx.store.beginDispatch(job, owner: "intruder", leaseSeconds: 60, rendered: [:]) == .leaseLost)
        _ = try await fx.store.sweep(maxAge: 86400)
        #expect(fx.sunk.isEmpty)
    }

    @Test("sweep and cancelCase events reach the sink")
    func sweepAndCancel() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job(caseRef: "X", runAt: "2099-01-01T00:00:00Z"))
        _ = try await fx.claimedJob(owner: "lost", caseRef: "Y", leaseSeconds: -1)
        fx.resetSink()
        _ = try await fx.store.sweep(maxAge: 86400)
        #expect(fx.sunk.map { $0.map(\.kind) } == [[.rescued]])
        _ = try await fx.store.cancelCase("X", reason: .paid)
        #expect(fx.sunk.map { $0.map(\.kind) } == [[.rescued], [.cancelled]])
        #expect(fx.sunk.last?.first?.caseRef == "X")
    }

    @Test("enqueue hands its enqueued events to the sink too")
    func enqueueEvents() async throws {
        let fx = try await StoreFixture()
        try await fx.enqueue(StoreFixture.job())
        let stored = try await newEvents(fx, after: 0)
        #expect(stored.map(\.kind) == [.enqueued])
        #expect(Self.same(fx.sunk.flatMap { $0 }, stored))
    }
}
