import Foundation
import Logging
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceStore
import RelanceTemplates
import ServiceLifecycle
import Synchronization

/// The steps of `Dispatcher.process`, in order.
extension Dispatcher {
    /// A failure that settles the job now: `failed`, then the step moves to the payer's next
    /// channel when the failure was the contact point's (`fallBack` decides).
    func fail(_ job: Job, payer: PayerProfile, _ failure: DispatchFailure, owner: String) async throws {
        if try await store.complete(job, owner: owner, outcome: .permanent(failure), retry: retry, random: 0) {
            try await fallBack(job, payer: payer, failure: failure)
        }
    }

    /// Step 1: the payer the claim read, or the job fails when its row is missing or unusable.
    func resolvePayer(_ item: ClaimedJob, owner: String) async throws -> PayerProfile? {
        switch item.payer {
        case .success(let payer): return payer
        case .failure(let why):
            try await store.complete(
                item.job, owner: owner,
                outcome: .permanent(DispatchFailure(reason: .payer, message: why.message)), retry: retry, random: 0)
            return nil
        }
    }

    /// Step 3: outside its channel's send window the job waits, before anything is merged
    /// into it: the siblings wait with it and merge when the window opens. True when the
    /// job was deferred (or failed: an SMS number that can never be used fails now, not
    /// days later when the window opens; inside the window the composer refuses it the same way).
    func deferOutsideWindow(_ job: Job, payer: PayerProfile, owner: String) async throws -> Bool {
        guard let window = windows.withLock({ $0[Channel(rawValue: job.channel) ?? .email] }), window != .always
        else { return false }
        let zone = TimeZone(identifier: payer.timezone) ?? TimeZone(identifier: "UTC")!
        let now = clock.now()
        if window.isOpen(at: now, timeZone: zone) { return false }
        if job.channel == Channel.sms.rawValue {
            do { _ = try composer.withLock({ $0 }).phoneNumber(of: payer) } catch let failure as DispatchFailure {
                try await fail(job, payer: payer, failure, owner: owner)
                return true
            }
        }
        let opening = window.nextOpening(atOrAfter: now, timeZone: zone) ?? now.addingTimeInterval(86400)
        try await store.postpone(
            job, owner: owner, until: Timestamp.string(from: opening),
            detail: [
                "reason": .string("send_window"), "window": .string(window.description),
                "timezone": .string(zone.identifier),
            ])
        return true
    }

    /// Step 5: the message as it will be sent, or nil when composing failed (permanently:
    /// the data, the template or the contact point cannot make a message).
    func compose(_ job: Job, payer: PayerProfile, owner: String) async throws -> MessageComposer.Composed? {
        do {
            return try composer.withLock { $0 }.compose(job: job, payer: payer, today: clock.now())
        } catch {
            try await fail(job, payer: payer, DispatchFailure.composing(error), owner: owner)
            return nil
        }
    }

    /// Step 6: records that sending starts, with the worker's previous accepted send
    /// written in the same transaction. False when the job was cancelled or another worker
    /// has it.
    func beginDispatch(
        _ job: Job, rendered: JSONValue, content: ArchivedMessage?, owner: String, accepted: inout Accepted?
    ) async throws -> Bool {
        let permission: DispatchPermission
        if let done = accepted {
            accepted = nil
            let written: (completed: Bool, permission: DispatchPermission)
            do {
                written = try await store.complete(
                    done.job, outcome: done.outcome, retry: retry, random: 0, thenBeginDispatch: job,
                    owner: owner, leaseSeconds: settings.lease, rendered: rendered, content: content)
            } catch {
                accepted = done  // written on its own at the end of the batch
                throw error
            }
            if !written.completed {
                outcomeNotRecorded(done.job)
            }
            permission = written.permission
        } else {
            permission = try await store.beginDispatch(
                job, owner: owner, leaseSeconds: settings.lease, rendered: rendered, content: content)
        }
        switch permission {
        case .proceed: return true
        case .cancelled: return false
        case .leaseLost:
            logger.warning("lease lost before dispatch; another worker has the job", metadata: ["job": "\(job.id)"])
            return false
        }
    }

    /// Step 7: the payload through its channel's transport, under the fence; the outcome
    /// observed by the metrics.
    func send(_ payload: MessageComposer.Payload, of job: Job, sessions: Sessions, fence: DispatchFence) async
        -> DispatchOutcome
    {
        let outcome: DispatchOutcome
        var started = ContinuousClock.now
        switch payload {
        case .email(let email, _):
            if let session = sessions.email() {
                outcome = await session.send(email, fence: fence)
            } else {
                outcome = .transient(
                    DispatchFailure(reason: .transport, message: "no e-mail transport session could be opened"))
            }
        case .letter(let letter):
            outcome = await transports.letters.send(letter, fence: fence)
        case .sms(let sms):
            if let session = sessions.sms() {
                await transports.smsLimiter.acquire()
                started = ContinuousClock.now
                outcome = await session.send(sms, fence: fence)
            } else {
                outcome = .transient(
                    DispatchFailure(reason: .transport, message: "no SMS transport session could be opened"))
            }
        }
        metrics?.observe(channel: job.channel, outcome: outcome, duration: ContinuousClock.now - started)
        return outcome
    }

    /// Step 8: an outcome other than `accepted` (which waits to be written with the next
    /// job) written now; a permanent failure of a scenario step moves it to the next channel.
    func settle(_ job: Job, payer: PayerProfile, outcome: DispatchOutcome, owner: String) async throws {
        if case .uncertain(let failure) = outcome {
            logger.warning(
                "message may have left without an answer; the job is uncertain",
                metadata: ["job": "\(job.id)", "reason": "\(failure.reason)", "error": "\(failure.message)"])
        }
        let recorded = try await complete(job, owner: owner, outcome: outcome, random: Double.random(in: 0..<1))
        if !recorded {
            outcomeNotRecorded(job)
        } else if case .permanent(let failure) = outcome {
            try await fallBack(job, payer: payer, failure: failure)
        }
    }
}
