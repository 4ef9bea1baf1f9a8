import Foundation
import RelanceCore
import Testing

@testable import RelanceStore

@Suite("Store: the trace's hash chain")
struct TraceChainStoreTests {
    /// Two jobs of one case sent, one of another case: every event sealed, each case one
    /// intact chain in the order the events were written.
    static func sealedStore() async throws -> (StoreFixture, ManualWallClock) {
        let clock = ManualWallClock(Date())
        let fx = try await StoreFixture(databaseClock: clock)
        for caseRef in ["CASE-1", "CASE-1", "CASE-2"] {
            let job = try await fx.claimedJob(owner: "w", caseRef: caseRef)
            _ = try await fx.store.beginDispatch(job, owner: "w", leaseSeconds: 60, rendered: ["n": 1])
        }
        clock.advance(by: 5)  // PostgreSQL seals events written more than 2 s ago
        var sealed = 0
        for _ in 0..<20 where sealed < 12 { sealed += try await fx.store.sealTrace(batch: 3) }
        #expect(sealed == 3 * 4, "enqueued, claimed, rendered, dispatching for each job")
        return (fx, clock)
    }

    @Test("sealed chains are intact, per case, in the order written; sealing again does nothing")
    func seal() async throws {
        let (fx, _) = try await Self.sealedStore()
        let one = try await fx.store.chain(caseRef: "CASE-1")
        #expect(one.sealed.count == 8 && one.unsealed.isEmpty)
        #expect(TraceChain.problems(one.sealed).isEmpty)
        #expect(one.sealed.first?.previous == "", "the first event of a case starts the chain")
        #expect(one.sealed.map(\.event.id) == one.sealed.map(\.event.id).sorted())
        let two = try await fx.store.chain(caseRef: "CASE-2")
        #expect(two.sealed.count == 4 && TraceChain.problems(two.sealed).isEmpty)
        #expect(try await fx.store.sealTrace(batch: 100) == 0)
    }

    @Test("an event written later joins the end of its chain")
    func later() async throws {
        let (fx, clock) = try await Self.sealedStore()
        let head = try await fx.store.chain(caseRef: "CASE-1").sealed.last!.hash
        let job = try await fx.claimedJob(owner: "w", caseRef: "CASE-1")
        #expect(try await fx.store.chain(caseRef: "CASE-1").unsealed.count == 2)
        clock.advance(by: 5)
        #expect(try await fx.store.sealTrace(batch: 100) == 2)
        let chain = try await fx.store.chain(caseRef: "CASE-1").sealed
        #expect(chain.count == 10 && TraceChain.problems(chain).isEmpty)
        #expect(chain[8].previous == head && chain[8].event.jobID == job.id)
    }

    @Test("an altered event and a removed one break the chain, and are named")
    func tampering() async throws {
        let (fx, _) = try await Self.sealedStore()
        let chain = try await fx.store.chain(caseRef: "CASE-1").sealed
        // A sealed event cannot be changed, its seal neither...
        for sql in [
            "UPDATE delivery_events SET detail = '{\"n\":2}' WHERE id = ?",
            "UPDATE delivery_events SET chain_hash = NULL, chain_prev = NULL, chain_seq = NULL WHERE id = ?",
        ] {
            await #expect(throws: (any Error).self) { try await fx.execute(sql, [chain[2].event.id]) }
        }
        // ... unless someone with the rights to drop the guard does so: the chain tells.
        try await fx.execute(
            StoreFixture.onPostgres
                ? "DROP TRIGGER delivery_events_sealed ON delivery_events" : "DROP TRIGGER delivery_events_sealed")
        try await fx.execute(
            "UPDATE delivery_events SET detail = '{\"n\":2}' WHERE id = ?", [chain[2].event.id])
        try await fx.execute("DELETE FROM delivery_events WHERE id = ?", [chain[5].event.id])
        let problems = TraceChain.problems(try await fx.store.chain(caseRef: "CASE-1").sealed)
        #expect(
            problems == [
                "event \(chain[2].event.id) (rendered) was altered: its hash does not match it",
                "before event \(chain[6].event.id) an event is missing: its link does not point at event \(chain[4].event.id)",
            ])
    }
}
