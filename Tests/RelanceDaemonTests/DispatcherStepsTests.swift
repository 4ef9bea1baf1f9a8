import Foundation
import RelanceCore
import RelanceStore
import Testing

@testable import RelanceDaemon

/// The steps of `Dispatcher.process` (Sources/RelanceDaemon/Dispatcher+Steps.swift) one by
/// one, on the real store and the outbox transports of a simulated installation.
@Suite("The dispatcher's steps, one by one")
struct DispatcherStepsTests {
    static let payer = PayerProfile(
        ref: "P", name: "Boulangerie Martin", email: "compta@martin.example.fr", phone: "06 12 34 56 78",
        postalAddress: ["3 place Bellecour", "69002 Lyon"], channels: [.email, .sms, .letter])
    static let owner = "steps-test"

    /// A simulation at `start` (UTC) with one job of `channel` claimed.
    static func claimed(
        _ channel: Channel, at start: String = "2026-11-24T09:00:00Z", payer: PayerProfile = payer,
        data: String = "{}", caseRef: String? = "C-1"
    ) async throws -> (Simulation, ClaimedJob) {
        let sim = try await Simulation(start: start, payers: [payer])
        let sample = try String(
            contentsOfFile: Simulation.repository + "/Templates/samples/reminder-1.json", encoding: .utf8)
        _ = try await sim.runtime.store.enqueue(
            [
                NewJob(
                    payerRef: payer.ref, caseRef: caseRef, channel: channel, template: "reminder-1",
                    data: data == "{}" ? sample : data)
            ], payers: [])
        let claimed = try #require(
            try await sim.runtime.store.claim(owner: owner, limit: 1, leaseSeconds: 60).first)
        return (sim, claimed)
    }

    static func state(_ sim: Simulation, _ id: Int64) async throws -> (JobState, String?) {
        let job = try #require(try await sim.runtime.store.job(id: id))
        return (job.state, job.lastError)
    }

    @Test("resolvePayer: the payer the claim read; a payer gone fails the job with reason payer")
    func resolvePayer() async throws {
        let (sim, item) = try await Self.claimed(.email)
        #expect(try await sim.dispatcher.resolvePayer(item, owner: Self.owner)?.ref == "P")
        var gone = item
        gone.payer = .failure(PayerUnusable(message: "payer P does not exist"))
        #expect(try await sim.dispatcher.resolvePayer(gone, owner: Self.owner) == nil)
        #expect(try await Self.state(sim, item.job.id) == (.failed, "payer P does not exist"))
        let events = try await sim.runtime.store.events(jobID: item.job.id)
        #expect(events.last?.detail.objectValue?["reason"] == "payer")
    }

    @Test("redirectIfSuppressed: an invoice step to a suppressed contact fails (suppressed) and moves on")
    func redirectIfSuppressed() async throws {
        let data = #"{"invoice_ref": "C-1", "total_due": {"amount": "10.00", "currency": "EUR"}}"#
        let (sim, item) = try await Self.claimed(.email, data: data)
        // Not suppressed: nothing happens.
        #expect(try await !sim.dispatcher.redirectIfSuppressed(item.job, payer: Self.payer, owner: Self.owner))
        // The e-mail address bounced earlier: suppressed.
        _ = try await sim.runtime.store.fallBack(
            from: item.job, contact: "compta@martin.example.fr", reason: "550 5.1.1 no such mailbox", to: nil)
        #expect(try await sim.dispatcher.redirectIfSuppressed(item.job, payer: Self.payer, owner: Self.owner))
        let (state, error) = try await Self.state(sim, item.job.id)
        #expect(state == .failed && error?.contains("suppressed") == true)
        let events = try await sim.runtime.store.events(jobID: item.job.id)
        #expect(events.contains { $0.kind == .permanentError && $0.detail.objectValue?["reason"] == "suppressed" })
    }

    @Test("deferOutsideWindow: an SMS on a Sunday waits for Monday 10:00 Paris, attempt given back")
    func deferOutsideWindow() async throws {
        // Sunday 2026-11-29, 11:00 in Paris.
        let (sim, item) = try await Self.claimed(.sms, at: "2026-11-29T10:00:00Z")
        #expect(try await sim.dispatcher.deferOutsideWindow(item.job, payer: Self.payer, owner: Self.owner))
        let job = try #require(try await sim.runtime.store.job(id: item.job.id))
        #expect(job.state == .queued && job.attempt == 0)
        #expect(job.runAt == "2026-11-30T09:00:00.000Z")
        let deferred = try await sim.runtime.store.events(jobID: item.job.id).last
        #expect(deferred?.kind == .deferred && deferred?.detail.objectValue?["reason"] == "send_window")
    }

    @Test("deferOutsideWindow: an SMS to a payer without a usable number fails now, not when the window opens")
    func unusableNumberFailsAtOnce() async throws {
        var noPhone = Self.payer
        noPhone.phone = nil
        let (sim, item) = try await Self.claimed(.sms, at: "2026-11-29T10:00:00Z", payer: noPhone)
        #expect(try await sim.dispatcher.deferOutsideWindow(item.job, payer: noPhone, owner: Self.owner))
        #expect(try await Self.state(sim, item.job.id).0 == .failed)
    }

    @Test("compose, beginDispatch, send, settle: an e-mail goes to the outbox and the job is sent")
    func composeAndSend() async throws {
        let (sim, item) = try await Self.claimed(.email)
        let composed = try #require(try await sim.dispatcher.compose(item.job, payer: Self.payer, owner: Self.owner))
        var accepted: Dispatcher.Accepted?
        let fence = DispatchFence.lease(seconds: 60)
        #expect(
            try await sim.dispatcher.beginDispatch(
                item.job, rendered: composed.traceDetail, content: composed.payload.archived, owner: Self.owner,
                accepted: &accepted))
        let sessions = Sessions(transports: sim.dispatcher.transports, logger: sim.dispatcher.logger)
        let outcome = await sim.dispatcher.send(composed.payload, of: item.job, sessions: sessions, fence: fence)
        await sessions.close()
        guard case .accepted = outcome else {
            Issue.record("not accepted: \(outcome)")
            return
        }
        try await sim.dispatcher.settle(item.job, payer: Self.payer, outcome: outcome, owner: Self.owner)
        #expect(try await Self.state(sim, item.job.id).0 == .sent)
        let outbox = try FileManager.default.contentsOfDirectory(atPath: sim.root + "/state/outbox")
        #expect(outbox.filter { $0.hasSuffix(".eml") }.count == 1)
    }

    @Test("compose: a template the payer's locale and channel lack fails the job (reason template)")
    func composeFailure() async throws {
        let (sim, item) = try await Self.claimed(.email)
        var job = item.job
        job.template = "no-such-template"
        #expect(try await sim.dispatcher.compose(job, payer: Self.payer, owner: Self.owner) == nil)
        let events = try await sim.runtime.store.events(jobID: job.id)
        #expect(events.last?.kind == .permanentError && events.last?.detail.objectValue?["reason"] == "template")
    }
}
