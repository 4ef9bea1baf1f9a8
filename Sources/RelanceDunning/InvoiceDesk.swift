import Foundation
import RelanceCore
import RelanceStore
import RelanceTemplates

/// Looks after invoices: registering one expands its scenario into scheduled jobs;
/// recording a payment updates the balance later messages show, and a full payment
/// cancels what is pending and thanks the payer once.
public struct InvoiceDesk: Sendable {
    let store: any JobStore
    let composer: MessageComposer
    public let scenarios: ScenarioCatalog
    /// What "today" is for a payer (a payment without a date, the first plannable step).
    let clock: any WallClock

    public init(
        store: any JobStore, composer: MessageComposer, scenarios: ScenarioCatalog,
        clock: any WallClock = SystemWallClock()
    ) {
        self.store = store
        self.composer = composer
        self.scenarios = scenarios
        self.clock = clock
    }

    public struct Opening: Sendable {
        public var invoice: Invoice
        public var created: Bool
        public var planned: [Scenario.PlannedJob]
        public var skipped: [String]
        public var results: [EnqueueResult]
    }

    /// The payer's channels with a usable contact point, in the payer's order, less the
    /// suppressed ones (bounced).
    public func usableChannels(_ payer: PayerProfile, without suppressed: Set<Channel> = []) -> [Channel] {
        payer.channels.filter { !suppressed.contains($0) && isUsable($0, payer) }
    }

    func isUsable(_ channel: Channel, _ payer: PayerProfile) -> Bool {
        composer.hasUsableContact(channel, payer)
    }

    /// Whether `message` has the parts `channel` needs for this payer.
    func supports(_ payer: PayerProfile) -> @Sendable (String, Channel) -> Bool {
        let composer = self.composer
        return { message, channel in composer.hasTemplate(message, for: channel, payer) }
    }

    /// 09:00 in the payer's time zone on `day`, as stored (UTC); the channel's send window then applies.
    static func morning(of day: String, timeZone: TimeZone) -> String? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 9))
            .map(Timestamp.string(from:))
    }

    static func today(in timeZone: TimeZone, now: Date) -> String {
        Timestamp.isoDate(of: now, in: timeZone)
    }

    public func open(
        ref: String, payerRef: String, amount: Decimal, currency: String, issueDate: String, dueDate: String,
        scenario name: String? = nil
    ) async throws -> Opening {
        var problems: [FieldError] = []
        // The same rule as every reference (a NUL cut "I\u{0}5" to "I": steps lost, invoices mixed up).
        if let problem = TextRules.referenceProblem(ref) { problems.append(FieldError("/number", problem)) }
        if let problem = TextRules.referenceProblem(payerRef) {
            throw ScenarioError(problems: problems + [FieldError("/payer_ref", problem)])
        }
        // The same rules as for the amounts and dates in job data (MoneyRules).
        if let problem = MoneyRules.problem(value: amount, currency: currency) {
            problems.append(FieldError("/amount", problem))
        }
        if let problem = MoneyRules.dateProblem(issueDate) { problems.append(FieldError("/issue_date", problem)) }
        if let problem = MoneyRules.dateProblem(dueDate) { problems.append(FieldError("/due_date", problem)) }
        if MoneyRules.dateProblem(issueDate) == nil, MoneyRules.dateProblem(dueDate) == nil, dueDate < issueDate {
            problems.append(FieldError("/due_date", "'\(dueDate)' is before the issue date '\(issueDate)'"))
        }
        guard let payer = try await store.payer(ref: payerRef) else {
            throw ScenarioError(problems: [FieldError("/payer_ref", "payer \(payerRef) does not exist")])
        }
        guard let scenario = scenarios.scenario(named: name, for: payer) else {
            throw ScenarioError(problems: [
                FieldError(
                    "/scenario",
                    "no scenario '\(name ?? payer.segment)' (known: \(scenarios.scenarios.map(\.name).joined(separator: ", ")))"
                )
            ])
        }
        if !problems.isEmpty { throw ScenarioError(problems: problems) }
        var invoice = Invoice(
            ref: ref, payerRef: payerRef, scenario: scenario.name, currency: currency, amount: amount, balance: amount,
            issueDate: issueDate, dueDate: dueDate)
        // The creditor reference the jobs' data shows (the store keeps it unless another
        // invoice took it meanwhile; the data is rebuilt from the stored invoice at dispatch).
        for candidate in RFReference.candidates(forInvoice: ref) where invoice.reference == nil {
            if try await store.invoice(reference: candidate.text) == nil { invoice.reference = candidate.text }
        }
        let zone = TimeZone(identifier: payer.timezone) ?? TimeZone(identifier: "UTC")!
        let plan = try scenario.plan(
            caseRef: ref, dueDay: dueDate, balance: amount, payer: payer,
            usable: try await usableChannels(payer, without: store.suppressedChannels(payerRef: payer.ref)),
            from: Self.today(in: zone, now: clock.now()), supports: supports(payer))
        let data = invoice.templateData().jsonText
        let withLetter =
            plan.jobs.contains(where: \.attachLetter)
            ? invoice.templateData(extra: ["attach_letter": .bool(true)]).jsonText : data
        let jobs = plan.jobs.map { job in
            NewJob(
                idempotencyKey: job.idempotencyKey, payerRef: payerRef, caseRef: ref, channel: job.channel,
                template: job.message, data: job.attachLetter ? withLetter : data,
                runAt: Self.morning(of: job.day, timeZone: zone))
        }
        let (stored, created, results) = try await store.openInvoice(invoice, jobs: jobs)
        return Opening(invoice: stored, created: created, planned: plan.jobs, skipped: plan.skipped, results: results)
    }

    /// Holds the invoice through `until` (YYYY-MM-DD): its pending steps due before the end
    /// of that day wait until 09:00 the next morning in the payer's time zone. `until` nil
    /// lifts the hold.
    public func hold(ref: String, until: String?, reason: String) async throws -> HoldOutcome {
        guard let invoice = try await store.invoice(ref: ref) else {
            throw OperatorError(message: "invoice \(ref) is not registered")
        }
        guard let until else { return try await store.hold(ref: ref, until: nil, reason: reason) }
        guard let end = Scenario.day(until) else { throw ScenarioError("until: '\(until)' is not YYYY-MM-DD") }
        let payer = try await store.payer(ref: invoice.payerRef)
        let zone = payer.flatMap { TimeZone(identifier: $0.timezone) } ?? TimeZone(identifier: "UTC")!
        let nextDay = Scenario.format(end.addingTimeInterval(86400))
        guard let resume = Self.morning(of: nextDay, timeZone: zone) else {
            throw ScenarioError("until: '\(until)' is not YYYY-MM-DD")
        }
        return try await store.hold(ref: ref, until: resume, reason: reason)
    }

    public func pay(ref: String, amount: Decimal, date: String? = nil) async throws
        -> PaymentOutcome
    {
        guard amount > 0 else { throw ScenarioError("amount: must be more than zero") }
        if let date, let problem = MoneyRules.dateProblem(date) { throw ScenarioError("date: \(problem)") }
        guard let current = try await store.invoice(ref: ref) else {
            throw ScenarioError("invoice \(ref) is not registered")
        }
        if let problem = MoneyRules.problem(value: amount, currency: current.currency) {
            throw ScenarioError("amount: \(problem)")
        }
        if current.status != .paid, amount > current.balance {
            // The balance would go below zero, and every later message would show it.
            throw ScenarioError(
                "amount: \(Invoice.text(amount)) \(current.currency) is more than the balance of \(Invoice.text(current.balance)) \(current.currency)"
            )
        }

        guard let payer = try await store.payer(ref: current.payerRef) else {
            throw ScenarioError("payer \(current.payerRef) does not exist")
        }
        let zone = TimeZone(identifier: payer.timezone) ?? TimeZone(identifier: "UTC")!
        let paidOn = date ?? Self.today(in: zone, now: clock.now())
        let thanks = try await thanksJobs(payer: payer)
        return try await store.recordPayment(ref: ref, amount: amount, paidOn: paidOn) { invoice in
            thanks(invoice, amount, paidOn)
        }
    }

    /// The jobs that thank `payer` for a payment that settles an invoice: its scenario's
    /// step on payment, on the payer's usable channels (their idempotency keys make it once).
    func thanksJobs(payer: PayerProfile) async throws -> @Sendable (Invoice, Decimal, String) -> [NewJob] {
        let usable = try await usableChannels(payer, without: store.suppressedChannels(payerRef: payer.ref))
        let supports = supports(payer)
        let scenarios = self.scenarios
        return { invoice, amount, paidOn in
            guard let step = scenarios.scenarios.first(where: { $0.name == invoice.scenario })?.onPayment else {
                return []
            }
            let once = Scenario(name: "thanks", segments: [], steps: [step])
            let planned =
                (try? once.plan(
                    caseRef: invoice.ref, dueDay: paidOn, balance: 0, payer: payer, usable: usable, supports: supports))?
                .jobs ?? []
            let payment: JSONValue = .object([
                "amount": .object(["amount": .string(Invoice.text(amount)), "currency": .string(invoice.currency)]),
                "date": .string(paidOn),
            ])
            let data = invoice.templateData(extra: ["payment": payment]).jsonText
            return planned.map {
                NewJob(
                    idempotencyKey: $0.idempotencyKey, payerRef: invoice.payerRef, caseRef: invoice.ref,
                    channel: $0.channel, template: $0.message, data: data)
            }
        }
    }
}
