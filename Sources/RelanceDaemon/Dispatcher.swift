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

/// The providers of every channel, shared by the workers.
public struct Transports: Sendable {
    public var email: any EmailTransport
    public var sms: any SMSTransport
    /// The SMS provider's rate limit, across all workers.
    public var smsLimiter: RateLimiter
    public var letters: any LetterTransport

    public init(
        email: any EmailTransport, sms: any SMSTransport, smsLimiter: RateLimiter = RateLimiter(rate: nil),
        letters: any LetterTransport
    ) {
        self.email = email
        self.sms = sms
        self.smsLimiter = smsLimiter
        self.letters = letters
    }
}

/// Claims due jobs and sends them, with `concurrency` workers each holding its own
/// transport sessions (one SMTP connection and one gateway connection per worker).
///
/// Graceful shutdown: workers stop claiming, finish the job in hand, and put the
/// jobs they claimed but had not started back in the queue.
public final class Dispatcher: Service, Sendable {
    let store: any JobStore
    let composer: Mutex<MessageComposer>
    let transports: Transports
    let windows: Mutex<[Channel: SendWindow]>
    let settings: RelanceConfig.DispatcherSettings
    let retry: RetryPolicy
    let untilIdle: Bool
    let logger: Logger
    let workerPrefix: String
    let metrics: RelanceMetrics?
    /// "Now" for send windows and the dates in messages: the store's clock.
    let clock: any WallClock

    private let stopping = Mutex(false)
    /// With `untilIdle`: how the dispatcher asks its service group to shut down once
    /// nothing is left to do (set by whoever built the group).
    private let idleHandler = Mutex<(@Sendable () async -> Void)?>(nil)

    /// Set before the group runs: `untilIdle` then shuts the whole group down through it.
    public func onIdle(_ handler: @escaping @Sendable () async -> Void) {
        idleHandler.withLock { $0 = handler }
    }
    private let busyWorkers = Mutex(0)
    private let wakeups = Mutex(0)
    /// The short sleeps of idle workers: `wake()` cancels them, so that a worker woken
    /// claims at once rather than at the end of its 50 ms step.
    private let sleepers = Mutex<[Int: Task<Void, Never>]>([:])

    public init(
        store: any JobStore, composer: MessageComposer, transports: Transports,
        windows: [Channel: SendWindow] = [:], settings: RelanceConfig.DispatcherSettings, retry: RetryPolicy,
        untilIdle: Bool, logger: Logger, metrics: RelanceMetrics? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.metrics = metrics
        self.clock = clock
        self.store = store
        self.composer = Mutex(composer)
        self.transports = transports
        self.windows = Mutex(windows)
        self.settings = settings
        self.retry = retry
        self.untilIdle = untilIdle
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        self.workerPrefix = "\(host):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Swaps the templates and message settings used from the next job on (SIGHUP reload).
    public func replace(composer new: MessageComposer, windows newWindows: [Channel: SendWindow]) {
        composer.withLock { $0 = new }
        windows.withLock { $0 = newWindows }
    }

    /// The templates and message settings in force now.
    public var currentComposer: MessageComposer { composer.withLock { $0 } }

    /// When each worker last showed it was alive; a busy worker may stay silent for up
    /// to a lease (a job never takes longer: the lease bounds the transport timeouts).
    private let beats = Mutex<[Int: ContinuousClock.Instant]>([:])

    func beat(_ worker: Int) { beats.withLock { $0[worker] = .now } }

    /// A worker that has not beaten for longer than a lease, if any: its loop is stuck.
    public func stalledWorker() -> Int? {
        let limit = Duration.milliseconds(Int(settings.lease * 1000))
        let now = ContinuousClock.now
        return beats.withLock { $0.first { now - $0.value > limit }?.key }
    }

    /// Wakes idle workers at once (a job was enqueued for now).
    public func wake() {
        wakeups.withLock { $0 += 1 }
        for sleeper in sleepers.withLock({ $0.values }) { sleeper.cancel() }
    }

    var isStopping: Bool { stopping.withLock { $0 } }

    public func run() async throws {
        logger.info(
            "dispatcher started",
            metadata: [
                "concurrency": "\(settings.concurrency)", "email": "\(transports.email.summary)",
                "sms": "\(transports.sms.summary)", "letters": "\(transports.letters.summary)",
                "until_idle": "\(untilIdle)",
            ])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<settings.concurrency {
                    group.addTask { await self.worker(index) }
                }
            }
            // Idle (`untilIdle`): the group shuts down in its own order, the dispatcher
            // included, rather than the dispatcher leaving on its own: returning while the
            // group is already shutting down for a SIGTERM would be taken for a crash.
            if !self.isStopping, !Task.isCancelled, let handler = self.idleHandler.withLock({ $0 }) {
                await handler()
                try? await gracefulShutdown()
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
        logger.info("dispatcher stopped")
    }

    func worker(_ index: Int) async {
        let owner = "\(workerPrefix):w\(index)"
        beat(index)
        defer { beats.withLock { _ = $0.removeValue(forKey: index) } }
        let sessions = Sessions(transports: transports, logger: logger)
        defer { Task { await sessions.close() } }
        var storeFailures = 0
        // Cancellation (the service group giving up, e.g. the API could not bind) ends
        // the loop as surely as a graceful shutdown: never spin on a cancelled task.
        while !isStopping && !Task.isCancelled {
            beat(index)
            let claimed: [ClaimedJob]
            do {
                claimed = try await store.claim(owner: owner, limit: settings.batchSize, leaseSeconds: settings.lease)
                metrics?.claimed(claimed.count)
                storeFailures = 0
            } catch is CancellationError {
                return
            } catch {
                storeFailures += 1
                logger.error("claim failed", metadata: ["worker": "\(owner)", "error": "\(error)"])
                await pause(seconds: min(30, Double(storeFailures)), worker: index)
                continue
            }
            if claimed.isEmpty {
                if untilIdle, await isIdle() { return }
                await pause(seconds: settings.pollInterval, worker: index)
                continue
            }
            busyWorkers.withLock { $0 += 1 }
            var accepted: Accepted?
            for (position, item) in claimed.enumerated() {
                if isStopping || Task.isCancelled {
                    await record(&accepted, owner: owner)
                    let rest = claimed[position...].map(\.job)
                    do {
                        try await store.release(rest, owner: owner, reason: "shutdown before dispatch")
                    } catch {
                        logger.error("release failed; the leases will expire", metadata: ["error": "\(error)"])
                    }
                    break
                }
                beat(index)
                await process(item, owner: owner, sessions: sessions, accepted: &accepted)
            }
            await record(&accepted, owner: owner)
            busyWorkers.withLock { $0 -= 1 }
        }
    }

    /// True when nothing is due, nothing is running anywhere, and no worker here is busy.
    func isIdle() async -> Bool {
        guard busyWorkers.withLock({ $0 }) == 0 else { return false }
        guard let activity = try? await store.activity() else { return false }
        return activity.due == 0 && activity.running == 0
    }

    /// Sleeps up to `seconds`, returning early on shutdown or a wake-up.
    func pause(seconds: Double, worker: Int? = nil) async {
        let start = wakeups.withLock { $0 }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let key = worker ?? -1 - Int.random(in: 0..<1_000_000)
        while ContinuousClock.now < deadline, !isStopping, !Task.isCancelled, wakeups.withLock({ $0 }) == start {
            if let worker { beat(worker) }
            let step = min(Duration.milliseconds(50), deadline - ContinuousClock.now)
            let sleeper = Task { _ = try? await Task.sleep(for: step) }
            sleepers.withLock { $0[key] = sleeper }
            // A wake-up between the check above and the registration is not lost.
            if wakeups.withLock({ $0 }) != start { sleeper.cancel() }
            await sleeper.value
        }
        _ = sleepers.withLock { $0.removeValue(forKey: key) }
    }

    /// A send the provider accepted whose outcome is not written yet: it is written in
    /// the same transaction as the worker's next `dispatching` mark (one write for the
    /// two instead of two), or on its own at the end of the batch. Until then the job is
    /// `running` with its dispatch started, so a crash in between leaves it `uncertain`,
    /// as a crash between the provider's answer and its write always did.
    struct Accepted {
        let job: Job
        let outcome: DispatchOutcome
    }

    func outcomeNotRecorded(_ job: Job) {
        logger.warning("lease lost during dispatch; outcome not recorded", metadata: ["job": "\(job.id)"])
    }

    /// Writes a pending accepted outcome on its own.
    func record(_ accepted: inout Accepted?, owner: String) async {
        guard let done = accepted else { return }
        accepted = nil
        do {
            if try await !complete(done.job, owner: owner, outcome: done.outcome, random: 0) {
                outcomeNotRecorded(done.job)
            }
        } catch {
            logger.error(
                "store error while recording an outcome; the lease will expire",
                metadata: ["job": "\(done.job.id)", "error": "\(error)"])
        }
    }

    /// Records an attempt's outcome, trying again for a while when the store fails (the
    /// database locked by another writer past its busy timeout, a full disk): an answer
    /// the provider gave is worth keeping, since a job left to its lease after dispatch
    /// becomes `uncertain`. Each write is conditional, so a retry never records twice.
    func complete(_ job: Job, owner: String, outcome: DispatchOutcome, random: Double) async throws -> Bool {
        var delay = 0.25
        var tries = 0
        while true {
            do {
                return try await store.complete(job, owner: owner, outcome: outcome, retry: retry, random: random)
            } catch {
                tries += 1
                if tries >= 6 || Task.isCancelled { throw error }
                logger.warning(
                    "store error while recording an outcome; trying again",
                    metadata: ["job": "\(job.id)", "error": "\(error)", "in_seconds": "\(delay)"])
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 4)
            }
        }
    }

    /// Processes one claimed job, as a pipeline of named steps: resolve the payer, redirect a
    /// step whose contact point is suppressed, defer outside the send window, gather the
    /// invoices, compose, begin dispatch, send, settle. Each step either hands the job on or
    /// settles it (failed, deferred, merged away) and the worker moves on. `accepted` is the
    /// worker's previous send still to be written, if any; this job's own accepted send is
    /// left there in its turn.
    func process(_ item: ClaimedJob, owner: String, sessions: Sessions, accepted: inout Accepted?) async {
        var job = item.job
        var dispatching = false
        do {
            guard let payer = try await resolvePayer(item, owner: owner),
                try await !redirectIfSuppressed(job, payer: payer, owner: owner),
                try await !deferOutsideWindow(job, payer: payer, owner: owner),
                let cases = try await gatherInvoices(&job, owner: owner),
                let composed = try await compose(job, payer: payer, owner: owner)
            else { return }
            // The exact bytes are archived before anything is sent, and the trace names them.
            let content = composed.payload.archived
            var detail = composed.traceDetail.objectValue ?? [:]
            detail["content_sha256"] = .string(content.sha256)
            if !cases.isEmpty { detail["cases"] = .array(cases.map(JSONValue.string)) }
            let traceDetail = JSONValue.object(detail)
            // The lease the store is about to renew, as seen from here: taken before the
            // write, so it never ends later than the store's. The transport makes its
            // irrevocable write only while it covers the wait for the answer.
            let fence = DispatchFence.lease(seconds: settings.lease)
            guard
                try await beginDispatch(
                    job, rendered: traceDetail, content: content, owner: owner, accepted: &accepted)
            else { return }
            dispatching = true
            let outcome = await send(composed.payload, of: job, sessions: sessions, fence: fence)
            if case .accepted = outcome {
                accepted = Accepted(job: job, outcome: outcome)
                return
            }
            try await settle(job, payer: payer, outcome: outcome, owner: owner)
        } catch {
            logger.error("store error while processing a job", metadata: ["job": "\(job.id)", "error": "\(error)"])
            // Nothing was sent: give the job back as soon as the store answers again (a
            // database restarting), rather than leave it to its lease. The release is
            // conditional (this owner, this attempt, dispatch not started): should the
            // failed call have started the dispatch after all, it changes nothing, and the
            // sweeper decides at the lease's end.
            if !dispatching { await releaseAfterStoreError(job, owner: owner) }
        }
    }

    func releaseAfterStoreError(_ job: Job, owner: String) async {
        for pause in [0.5, 1, 2, 4] {
            await self.pause(seconds: pause)
            do {
                try await store.release([job], owner: owner, reason: "store error before dispatch")
                return
            } catch {
                continue
            }
        }
        logger.warning(
            "the store still fails; the job waits for its lease to end", metadata: ["job": "\(job.id)"])
    }
}

/// One worker's sessions, opened on first use. Only its worker touches it.
final class Sessions: @unchecked Sendable {
    let transports: Transports
    let logger: Logger
    private var emailSession: (any EmailSession)?
    private var smsSession: (any SMSSession)?

    init(transports: Transports, logger: Logger) {
        self.transports = transports
        self.logger = logger
    }

    func email() -> (any EmailSession)? {
        if emailSession == nil {
            do { emailSession = try transports.email.makeSession() } catch {
                logger.error("cannot open an e-mail transport session", metadata: ["error": "\(error)"])
            }
        }
        return emailSession
    }

    func sms() -> (any SMSSession)? {
        if smsSession == nil {
            do { smsSession = try transports.sms.makeSession() } catch {
                logger.error("cannot open an SMS transport session", metadata: ["error": "\(error)"])
            }
        }
        return smsSession
    }

    func close() async {
        await emailSession?.close()
        await smsSession?.close()
    }
}
