import Foundation
import RelanceCore

/// Where jobs, payers, invoices and the delivery trace live, as one protocol per role.
/// The daemon, the CLI and the HTTP API talk to `JobStore`, which is all of them; SQLite
/// (`SQLiteJobStore`, one file per role) is the embedded implementation, and a second
/// backend implements the same roles (ARCHITECTURE.md).
///
/// Every method that completes a job is conditional on the job id, the attempt
/// and the lease owner: a worker that lost its lease cannot overwrite a newer outcome.
public protocol JobStore: SchemaStore, PayerStore, JobQueue, CaseStore, DeliveryReportStore, TraceReader,
    StoreHousekeeping, LedgerStore, ConsoleReader, MessageArchive, TraceSealing
{}

/// A backend that tells when jobs are enqueued (PostgreSQL's LISTEN/NOTIFY), so that idle
/// workers claim a new job at once instead of at their next poll.
public protocol JobNotifications: Sendable {
    /// Calls `connected` once listening, then `wake` for each enqueue with the seconds
    /// since the enqueuing statement (nil when unknown); returns when the task is
    /// cancelled, throws when the connection is lost.
    func listenForJobs(connected: @escaping @Sendable () -> Void, wake: @escaping @Sendable (Double?) -> Void)
        async throws

    /// The connection pool as the daemon's metrics show it.
    var poolUse: PoolUse { get }
}

/// An error that means the database cannot be reached now (server down, restarting,
/// failing over), as opposed to a refused statement: the API answers 503 for it.
public protocol DatabaseUnavailable: Error {
    var isUnavailable: Bool { get }
}

/// A backend's connection pool: its size, the connections leased now, the callers waiting
/// for one, and the time they waited in all.
public struct PoolUse: Sendable, Equatable {
    public var size: Int
    public var inUse: Int
    public var waiting: Int
    public var leases: Int
    public var waitSeconds: Double
    public init(size: Int, inUse: Int = 0, waiting: Int = 0, leases: Int = 0, waitSeconds: Double = 0) {
        self.size = size
        self.inUse = inUse
        self.waiting = waiting
        self.leases = leases
        self.waitSeconds = waitSeconds
    }
}

/// Periodic care of the storage itself, apart from the jobs: on SQLite, copying the
/// write-ahead log into the database file so that it stops growing. A backend that needs
/// none does nothing.
public protocol StoreHousekeeping: Sendable {
    /// Called by the daemon every quarter of a second.
    func housekeep() async throws
}

/// The schema, and the database's own health.
public protocol SchemaStore: Sendable {
    /// "Now" for every statement the store runs: the system clock, or a simulated one.
    var clock: any WallClock { get }
    /// Applies the migrations not applied yet; returns their names, in order.
    @discardableResult
    func migrate() async throws -> [String]
    /// True when every migration this build knows has been applied.
    func isMigrated() async throws -> Bool
    /// Takes the write lock and lets it go: proves the database takes writes now (readiness).
    func checkWritable() async throws
}

/// Payers, and which of their contact points are suppressed.
public protocol PayerStore: Sendable {
    /// Creates or replaces the payer; true when it did not exist. Decided inside the write,
    /// so of many concurrent calls for a new ref exactly one says it created it.
    @discardableResult
    func upsertPayer(_ payer: PayerProfile) async throws -> Bool
    func payer(ref: String) async throws -> PayerProfile?

    /// Channels of the payer whose contact point is suppressed (bounced, unusable).
    func suppressedChannels(payerRef: String) async throws -> Set<Channel>
}

/// The queue: jobs in, claimed under a lease, dispatched, settled; and its housekeeping.
public protocol JobQueue: Sendable {
    /// Inserts the jobs (and payers) in one transaction. A job whose idempotency key
    /// already exists is not inserted again: its existing row is returned.
    func enqueue(_ jobs: [NewJob], payers: [PayerProfile]) async throws -> [EnqueueResult]

    /// The same, after `check` accepted the jobs inside the same write transaction:
    /// `check` is given the stored payers (by ref, as the transaction sees them, before
    /// the inline `payers` are saved) so that no other writer can change a payer between
    /// the check and the insert. When it returns errors nothing is written and they are
    /// thrown as `InvalidFields`.
    func enqueue(
        _ jobs: [NewJob], payers: [PayerProfile],
        check: @escaping @Sendable (_ storedPayer: (String) throws -> PayerProfile?) -> [FieldError]
    ) async throws -> [EnqueueResult]

    /// Takes up to `limit` due jobs for `owner`, moving them to `running` with a lease.
    func claim(owner: String, limit: Int, leaseSeconds: Double) async throws -> [ClaimedJob]

    /// Records the rendered message and that sending starts, re-checking just before
    /// dispatch that the job is still ours and its case was not cancelled; `content` (the
    /// exact bytes about to be handed over) goes to the archive first (`MessageArchive`).
    func beginDispatch(
        _ job: Job, owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> DispatchPermission

    /// Records the outcome of an attempt. Returns false when the lease was lost.
    @discardableResult
    func complete(_ job: Job, owner: String, outcome: DispatchOutcome, retry: RetryPolicy, random: Double) async throws
        -> Bool

    /// Records the outcome of `done`'s attempt and then, in the same write transaction,
    /// that sending `job` starts: `complete` followed by `beginDispatch`, for a worker
    /// that moves on to its next job. Each part succeeds or is refused on its own terms
    /// (a lost lease, a cancelled case); a store error fails both.
    func complete(
        _ done: Job, outcome: DispatchOutcome, retry: RetryPolicy, random: Double, thenBeginDispatch job: Job,
        owner: String, leaseSeconds: Double, rendered: JSONValue, content: ArchivedMessage?
    ) async throws -> (completed: Bool, permission: DispatchPermission)

    /// Puts claimed jobs that were never dispatched back in the queue (graceful shutdown).
    func release(_ jobs: [Job], owner: String, reason: String) async throws

    /// Puts a claimed job that was not dispatched back in the queue until `until`
    /// (outside its send window, rate limit), giving its attempt back; trace `deferred`
    /// with `detail`. Its `due_at` becomes `until`, so a long wait does not count
    /// towards its maximum age. Returns false when the lease was lost.
    @discardableResult
    func postpone(_ job: Job, owner: String, until: String, detail: [String: JSONValue]) async throws -> Bool

    /// Rescues expired leases and expires jobs past their maximum age. A job whose lease
    /// expired on its last allowed attempt (`max_attempts` of the job, else `maxAttempts`)
    /// is `dead`: a job that kills every worker that takes it must not loop forever.
    func sweep(maxAge: Double, maxAttempts: Int?) async throws -> SweepResult

    /// Operator decisions on a finished job, mostly `uncertain` ones.
    /// `force` allows a decision `OperatorDecision.refusal` would refuse (sending a sent or
    /// cancelled job again, ...); a queued or running job is never resolved.
    func resolve(jobID: Int64, decision: OperatorDecision, note: String, force: Bool) async throws -> Job?

    /// Cancels every job of the case not yet dispatched.
    func cancelCase(_ caseRef: String, reason: CancelReason) async throws -> CaseCancellation

    /// Deletes finished jobs, and their trace, finished more than `retention` seconds ago;
    /// a case's jobs go together, once every one of them is that old (a case's trace is
    /// one hash chain: pruning part of it would look like a removed event).
    func prune(retention: Double, batch: Int) async throws -> Int
}

/// Invoices and cases: dunning scenarios' registrations, holds, payments, merges and
/// fallbacks (docs/SCENARIOS.md).
public protocol CaseStore: Sendable {
    /// Registers an invoice and schedules its jobs, in one transaction. An invoice already
    /// registered is returned as it is, and jobs whose idempotency key exists are not
    /// inserted again: repeating the call changes nothing.
    func openInvoice(_ invoice: Invoice, jobs: [NewJob]) async throws -> (
        invoice: Invoice, created: Bool, jobs: [EnqueueResult]
    )

    func invoice(ref: String) async throws -> Invoice?

    /// After `job` failed on an unusable contact point: suppresses that contact for the
    /// payer and channel, and inserts `next` (the same step on another channel) if any,
    /// with a `rescued` event on the failed job naming the hop. Returns the new job's id.
    func fallBack(from job: Job, contact: String, reason: String, to next: NewJob?) async throws -> Int64?

    /// Merges into `job` the other scenario jobs of the same payer, message and channel
    /// falling due the same day (UTC), not yet dispatching: they are cancelled (reason
    /// `merged`, trace naming the job they went into; a claimed one at its pre-dispatch
    /// check). Returns their cases, so that one letter lists every invoice.
    func mergeSiblings(of job: Job) async throws -> [String]

    /// Holds an invoice until `until` (a timestamp) for `reason`: its pending jobs due
    /// before then wait until then (trace `deferred`, reason `hold`). `until` nil lifts the
    /// hold: the held jobs are due again at their own time, or now if it has passed.
    func hold(ref: String, until: String?, reason: String) async throws -> HoldOutcome

    /// Records a payment. When it settles the invoice, every job of the case not yet
    /// dispatched is cancelled (reason `paid`) and `thanks` are enqueued (their
    /// idempotency keys make that happen once).
    func recordPayment(
        ref: String, amount: Decimal, paidOn: String, thanks: @escaping @Sendable (Invoice) -> [NewJob]
    ) async throws -> PaymentOutcome
}

/// Delivery reports from the providers.
public protocol DeliveryReportStore: Sendable {
    /// A delivery report from the provider for one attempt of a job: `sent` (or
    /// `uncertain`: the report proves the message left) becomes `delivered` or
    /// `undelivered`, with a trace event carrying `detail`. When the job has a
    /// provider reference and the report carries one, they must match.
    func report(_ report: DeliveryReport) async throws -> ReportOutcome
    /// A notice about one attempt of a job after the message left (a delayed-delivery
    /// notice, an automatic reply, a complaint): a `kind` trace event with `detail`, the
    /// job's state unchanged; with `suppression`, that contact point is suppressed in the
    /// same transaction. False (nothing written) when the job has no such attempt.
    func notice(
        jobID: Int64, attempt: Int, kind: DeliveryEventKind, detail: [String: JSONValue], suppression: Suppression?
    ) async throws -> Bool
}

/// Reading: jobs, the trace, workload, statistics and the effectiveness report.
public protocol TraceReader: Sendable {
    func job(id: Int64) async throws -> Job?
    func jobs(_ filter: JobFilter) async throws -> [Job]
    func events(jobID: Int64) async throws -> [DeliveryEvent]
    /// Trace events with an id greater than `afterID`, oldest first.
    func events(after afterID: Int64, filter: EventFilter, limit: Int) async throws -> [DeliveryEvent]

    /// What is left to do now: for status lines.
    func workload() async throws -> Workload

    /// Due and running jobs only, without counting the scheduled ones (a million jobs
    /// scheduled months ahead are a million to count): for `--until-idle`.
    func activity() async throws -> (due: Int, running: Int)

    /// Jobs by state and channel, and how late the oldest due job is: for metrics.
    func statistics() async throws -> QueueStatistics

    /// For each scenario step sent since `since` (a timestamp): how many were sent and
    /// delivered, how many of their invoices were paid in full within 7 and 30 days, and
    /// the amount paid on them after the step.
    func stepReport(since: String, scenario: String?) async throws -> [StepFigures]
}

extension TraceReader {
    public func activity() async throws -> (due: Int, running: Int) {
        let workload = try await workload()
        return (workload.due, workload.running)
    }
}

public struct StepFigures: Sendable, Equatable {
    public var scenario: String
    public var step: String
    /// Messages handed to a provider (sent, delivered or undelivered).
    public var sent: Int
    public var delivered: Int
    /// Of those, messages reported undelivered (an SMS report, an e-mail bounce): they
    /// did not reach the invoice.
    public var undelivered: Int = 0
    /// Of those, messages their recipient reported as spam (a feedback-loop complaint).
    public var complaints: Int = 0
    /// Invoices reached by the step (one per invoice, whatever the channels).
    public var invoices: Int
    public var paidWithin7Days: Int
    public var paidWithin30Days: Int
    /// Paid on those invoices on or after the day of the step, by currency.
    public var recovered: [String: Decimal]
    /// The scenario's step on payment (thanks): what is paid after it means nothing.
    public var onPayment: Bool = false
}

public struct HoldOutcome: Sendable {
    public var invoice: Invoice
    /// Jobs moved (hold) or given back their time (lift).
    public var jobs: Int
    public init(invoice: Invoice, jobs: Int) {
        self.invoice = invoice
        self.jobs = jobs
    }
}

public struct PaymentOutcome: Sendable {
    public var invoice: Invoice
    /// True when this payment settled the invoice.
    public var settled: Bool
    public var cancelled: Int
    public var thanks: [EnqueueResult]
    public init(invoice: Invoice, settled: Bool, cancelled: Int, thanks: [EnqueueResult]) {
        self.invoice = invoice
        self.settled = settled
        self.cancelled = cancelled
        self.thanks = thanks
    }
}

extension JobQueue {
    /// Enqueue with no check beyond the store's own.
    public func enqueue(_ jobs: [NewJob], payers: [PayerProfile]) async throws -> [EnqueueResult] {
        try await enqueue(jobs, payers: payers) { _ in [] }
    }
}

extension JobStore {
    /// Sweeps with only the jobs' own `max_attempts` as the attempt limit.
    public func sweep(maxAge: Double) async throws -> SweepResult {
        try await sweep(maxAge: maxAge, maxAttempts: nil)
    }
}

/// What an operator decides about a job the daemon could not settle.
public enum OperatorDecision: String, Sendable, CaseIterable {
    /// Send it again (for an `uncertain` job: after checking it did not arrive).
    case requeue
    /// Record it as sent (for an `uncertain` job: it did arrive).
    case markSent = "mark-sent"
    /// Give up on it.
    case cancel

    /// Checks that the decision may apply to `job` (finished; forced when `refusal` says
    /// so) and returns the detail of its trace event; throws `OperatorError` otherwise.
    /// The same on every backend.
    public func traceDetail(for job: Job, note: String, force: Bool) throws -> [String: JSONValue] {
        // Only settled jobs: a queued or running one belongs to the dispatcher.
        guard job.state.isFinished else {
            throw OperatorError(message: "job \(job.id) is \(job.state.rawValue); only a finished job can be resolved")
        }
        if !force, let reason = refusal(for: job.state) {
            throw OperatorError(
                message: "job \(job.id) is \(job.state.rawValue): \(reason); add --force to \(rawValue) it all the same"
            )
        }
        return ["by": "operator", "note": .string(note), "previous_state": .string(job.state.rawValue)]
    }

    /// Why this decision is refused for a finished job in `state` unless forced, or nil
    /// when it is what the decision is for. Sending again a job that was sent or whose
    /// case was cancelled (paid, disputed) is what Relance exists to prevent, so it
    /// takes a deliberate `--force`.
    public func refusal(for state: JobState) -> String? {
        switch (self, state) {
        case (_, .queued), (_, .running): return nil  // refused earlier, and never forced
        case (.requeue, .uncertain), (.requeue, .failed), (.requeue, .dead), (.requeue, .undelivered): return nil
        case (.requeue, .sent), (.requeue, .delivered):
            return "it was already sent: requeue would send it a second time"
        case (.requeue, .cancelled):
            return "its case was cancelled (paid, disputed or by hand): requeue would send it all the same"
        case (.markSent, .uncertain), (.markSent, .failed), (.markSent, .dead): return nil
        case (.markSent, .sent), (.markSent, .delivered): return "it is already recorded as sent"
        case (.markSent, .undelivered): return "the provider reported it undelivered"
        case (.markSent, .cancelled): return "it is cancelled; recording it as sent takes --force if it did arrive"
        case (.cancel, .uncertain), (.cancel, .failed), (.cancel, .dead), (.cancel, .undelivered): return nil
        case (.cancel, .sent), (.cancel, .delivered): return "it was already sent: cancelling cannot call it back"
        case (.cancel, .cancelled): return "it is already cancelled"
        }
    }
}

/// What cancelling a case did.
public struct CaseCancellation: Sendable, Equatable {
    /// Queued jobs now `cancelled`.
    public var cancelled: Int
    /// Jobs a worker has claimed but not yet started to send: the worker cancels them
    /// in its check just before dispatch.
    public var inFlight: Int
    public var total: Int { cancelled + inFlight }
    public init(cancelled: Int, inFlight: Int) {
        self.cancelled = cancelled
        self.inFlight = inFlight
    }
}

public struct EnqueueResult: Sendable, Equatable {
    public var id: Int64
    public var state: JobState
    /// False when an existing job with the same idempotency key was returned.
    public var created: Bool
    public init(id: Int64, state: JobState, created: Bool) {
        self.id = id
        self.state = state
        self.created = created
    }
}

public struct ClaimedJob: Sendable {
    public var job: Job
    /// The payer, or why it cannot be used (missing, unreadable row).
    public var payer: Result<PayerProfile, PayerUnusable>
    public init(job: Job, payer: Result<PayerProfile, PayerUnusable>) {
        self.job = job
        self.payer = payer
    }
}

public struct PayerUnusable: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

public enum DispatchPermission: Sendable, Equatable {
    case proceed
    /// The case was cancelled after the claim; the job is now `cancelled`.
    case cancelled(reason: CancelReason)
    /// Another worker owns the job now (lease expired and rescued).
    case leaseLost
}

public struct SweepResult: Sendable, Equatable {
    public var requeued = 0
    public var uncertain = 0
    public var dead = 0
    public init() {}
}

public struct JobFilter: Sendable {
    public var state: JobState?
    public var caseRef: String?
    public var payerRef: String?
    public var channel: String?
    public var template: String?
    /// Created at or after / before these timestamps.
    public var createdSince: String?
    public var createdBefore: String?
    public var limit: Int = 100
    /// Ids above this one (oldest first), or below it with `newestFirst`.
    public var afterID: Int64?
    public var newestFirst = false
    public init(
        state: JobState? = nil, caseRef: String? = nil, payerRef: String? = nil, limit: Int = 100, afterID: Int64? = nil
    ) {
        self.state = state
        self.caseRef = caseRef
        self.payerRef = payerRef
        self.limit = limit
        self.afterID = afterID
    }
}

public struct EventFilter: Sendable {
    public var caseRef: String?
    public var channel: String?
    public var jobID: Int64?
    public init(caseRef: String? = nil, channel: String? = nil, jobID: Int64? = nil) {
        self.caseRef = caseRef
        self.channel = channel
        self.jobID = jobID
    }
}

public struct Workload: Sendable, Equatable {
    /// Queued jobs whose run_at has come.
    public var due: Int
    public var running: Int
    /// Queued jobs not yet due.
    public var scheduled: Int
    /// run_at of the next scheduled job.
    public var nextRunAt: String?
    public init(due: Int, running: Int, scheduled: Int, nextRunAt: String?) {
        self.due = due
        self.running = running
        self.scheduled = scheduled
        self.nextRunAt = nextRunAt
    }
}

public struct QueueStatistics: Sendable, Equatable {
    /// (state, channel) → number of jobs.
    public var jobs: [String: [String: Int]]
    /// Seconds since the oldest queued job became due (0 when none is due).
    public var oldestDueAge: Double
    public init(jobs: [String: [String: Int]], oldestDueAge: Double) {
        self.jobs = jobs
        self.oldestDueAge = oldestDueAge
    }
}

/// The detail of a trace event about a provider's answer or a failed attempt, the same
/// on every backend.
public enum TraceDetail {
    public static func of(_ response: ProviderResponse) -> [String: JSONValue] {
        var detail = response.detail
        if let code = response.code { detail["code"] = .number(String(code)) }
        detail["response"] = .string(response.text)
        if let ref = response.providerRef { detail["provider_ref"] = .string(ref) }
        return detail
    }

    public static func of(_ failure: DispatchFailure) -> [String: JSONValue] {
        var detail: [String: JSONValue] = [
            "reason": .string(failure.reason.rawValue), "message": .string(failure.message),
        ]
        if let code = failure.code { detail["code"] = .number(String(code)) }
        if let enhanced = failure.enhancedCode { detail["enhanced_code"] = .string(enhanced) }
        return detail
    }

    /// The retry delay as the trace keeps it: canonical number text, milliseconds precision.
    public static func retryDelay(_ delay: Double) -> JSONValue {
        .number((Decimal(Int((delay * 1000).rounded())) / 1000).description)
    }
}
