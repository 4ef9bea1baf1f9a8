import Foundation
import RelanceCore
import RelanceStore

/// Invoices and cases (registration, holds, payments, merges, fallbacks) and delivery
/// reports: the rules of `SQLiteJobStore+Invoices.swift` and `+Reports.swift`.
extension PostgresJobStore {
    static let invoiceColumns = """
        ref, payer_ref, scenario, currency, amount, balance, issue_date, due_date, status, paid_at, hold_until,
        hold_reason, reference
        """

    static func invoice(from row: PGRow) -> Invoice {
        Invoice(
            ref: row.text("ref") ?? "", payerRef: row.text("payer_ref") ?? "", scenario: row.text("scenario") ?? "",
            currency: row.text("currency") ?? "", amount: Invoice.parseAmount(row.text("amount") ?? "0") ?? 0,
            balance: Invoice.parseAmount(row.text("balance") ?? "0") ?? 0, issueDate: row.text("issue_date") ?? "",
            dueDate: row.text("due_date") ?? "",
            status: InvoiceStatus(rawValue: row.text("status") ?? "") ?? .open, paidAt: row.text("paid_at"),
            holdUntil: row.text("hold_until"), holdReason: row.text("hold_reason"), reference: row.text("reference"))
    }

    public func openInvoice(_ invoice: Invoice, jobs: [NewJob]) async throws -> (
        invoice: Invoice, created: Bool, jobs: [EnqueueResult]
    ) {
        let wantsEvents = enqueueEvents
        return try await retryingUniqueViolation {
            try await transaction { tx in
                // The first creditor reference no other invoice holds (RFReference.candidates);
                // two registrations taking the same at once: the unique index refuses one,
                // which is tried again.
                var stored = invoice
                stored.reference = nil
                let preferred = invoice.reference.flatMap { RFReference($0) }.map { [$0] } ?? []
                for candidate in preferred + RFReference.candidates(forInvoice: invoice.ref) {
                    let taken = try await tx.one(
                        "SELECT 1 AS taken FROM invoices WHERE reference = $1", [.text(candidate.text)])
                    if taken == nil {
                        stored.reference = candidate.text
                        break
                    }
                }
                let inserted = try await tx.query(
                    """
                    INSERT INTO invoices(ref, payer_ref, scenario, currency, amount, balance, issue_date, due_date,
                      reference)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (ref) DO NOTHING RETURNING ref
                    """,
                    [
                        .text(invoice.ref), .text(invoice.payerRef), .text(invoice.scenario), .text(invoice.currency),
                        .text(Invoice.text(invoice.amount)), .text(Invoice.text(invoice.balance)),
                        .text(invoice.issueDate), .text(invoice.dueDate), .text(stored.reference),
                    ])
                // Already registered: its jobs' idempotency keys exist, so nothing new is inserted.
                let results = try await Self.insertJobs(jobs, tx, wantsEvents: wantsEvents)
                if !inserted.isEmpty { return (stored, true, results) }
                let row = try await tx.one(
                    "SELECT \(Self.invoiceColumns) FROM invoices WHERE ref = $1", [.text(invoice.ref)])
                return (row.map(Self.invoice(from:)) ?? invoice, false, results)
            }
        }
    }

    public func invoice(ref: String) async throws -> Invoice? {
        try await withSession { session in
            try await session.one("SELECT \(Self.invoiceColumns) FROM invoices WHERE ref = $1", [.text(ref)]).map(
                Self.invoice(from:))
        }
    }

    public func fallBack(from job: Job, contact: String, reason: String, to next: NewJob?) async throws -> Int64? {
        let wantsEvents = enqueueEvents
        return try await retryingUniqueViolation {
            try await transaction { tx in
                try await Self.suppress(
                    tx, Suppression(payerRef: job.payerRef, channel: job.channel, contact: contact, reason: reason))
                var newID: Int64?
                if let next {
                    newID = try await Self.insertJobs([next], tx, wantsEvents: wantsEvents).first?.id
                }
                var detail: [String: JSONValue] = [
                    "reason": "channel fallback", "suppressed": .string(job.channel),
                    "contact_problem": .string(reason),
                ]
                if let next, let newID {
                    detail["to_channel"] = .string(next.channel.rawValue)
                    detail["new_job"] = .number(String(newID))
                } else {
                    detail["to_channel"] = .null
                }
                tx.record(job, kind: .rescued, detail: detail)
                return newID
            }
        }
    }

    /// The suppression row; an existing one for the same contact keeps its first reason and date.
    static func suppress(_ tx: PGTransaction, _ suppression: Suppression) async throws {
        try await tx.query(
            """
            INSERT INTO suppressions AS s (payer_ref, channel, contact, reason) VALUES ($1, $2, $3, $4)
            ON CONFLICT (payer_ref, channel) DO UPDATE SET contact = excluded.contact,
              reason = CASE WHEN s.contact = excluded.contact THEN s.reason ELSE excluded.reason END,
              created_at = CASE WHEN s.contact = excluded.contact THEN s.created_at ELSE relance_now() END
            """,
            [
                .text(suppression.payerRef), .text(suppression.channel), .text(suppression.contact),
                .text(suppression.reason),
            ])
    }

    public func mergeSiblings(of job: Job) async throws -> [String] {
        try await transaction { tx in
            // Already merged into a sibling by another worker: nothing to gather (its
            // pre-dispatch check cancels it).
            if let reason = try await tx.one("SELECT cancel_reason FROM jobs WHERE id = $1", [.int(job.id)])?.text(
                "cancel_reason"), !reason.isEmpty
            {
                return []
            }
            // Same payer, message, channel and day (UTC); invoices in the same currency only.
            let sameMessage = """
                payer_ref = $2 AND template = $3 AND channel = $4
                  AND (run_at AT TIME ZONE 'UTC')::date = ($5::timestamptz AT TIME ZONE 'UTC')::date
                  AND id <> $6 AND case_ref IS NOT NULL AND case_ref <> $7
                  AND strpos(data, '\(Invoice.quotedDataKey)') > 0 AND cancel_reason IS NULL
                  AND (SELECT currency FROM invoices WHERE ref = jobs.case_ref)
                    IS NOT DISTINCT FROM (SELECT currency FROM invoices WHERE ref = $7)
                """
            let merged = CancelReason.merged(into: job.id)
            let binds: [PGBind] = [
                .text(merged.stored), .text(job.payerRef), .text(job.template), .text(job.channel), .text(job.runAt),
                .int(job.id), .text(job.caseRef ?? ""),
            ]
            let queued = try await tx.query(
                """
                UPDATE jobs SET state = 'cancelled', cancel_reason = $1, finished_at = relance_now(),
                  updated_at = relance_now()
                WHERE state = 'queued' AND \(sameMessage) RETURNING \(Self.jobColumns)
                """, binds)
            for row in queued.sorted(by: { $0.int64("id") < $1.int64("id") }) {
                tx.record(Self.job(from: row), kind: .cancelled, detail: merged.traceDetail)
            }
            // Claimed but not dispatching: their pre-dispatch check cancels them.
            try await tx.query(
                """
                UPDATE jobs SET cancel_reason = $1, updated_at = relance_now()
                WHERE state = 'running' AND dispatch_started_at IS NULL AND \(sameMessage)
                """, binds)
            // Every case merged into this job, now or on an earlier attempt.
            return try await tx.query(
                """
                SELECT case_ref FROM jobs WHERE cancel_reason = $1 AND case_ref IS NOT NULL
                  AND case_ref <> $2 ORDER BY id
                """, [.text(merged.stored), .text(job.caseRef ?? "")]
            ).compactMap { $0.text("case_ref") }
        }
    }

    public func hold(ref: String, until: String?, reason: String) async throws -> HoldOutcome {
        try await transaction { tx in
            let updated = try await tx.query(
                "UPDATE invoices SET hold_until = $1, hold_reason = $2, updated_at = relance_now() WHERE ref = $3 RETURNING ref",
                [.text(until), .text(until == nil ? nil : reason), .text(ref)])
            guard !updated.isEmpty else { throw OperatorError(message: "invoice \(ref) is not registered") }
            let rows: [PGRow]
            if let until {
                rows = try await tx.query(
                    """
                    UPDATE jobs SET held_run_at = coalesce(held_run_at, run_at), run_at = $1::timestamptz,
                      due_at = $1::timestamptz, updated_at = relance_now()
                    WHERE case_ref = $2 AND state = 'queued' AND run_at < $1::timestamptz RETURNING \(Self.jobColumns)
                    """, [.text(until), .text(ref)])
                for row in rows.sorted(by: { $0.int64("id") < $1.int64("id") }) {
                    tx.record(
                        Self.job(from: row), kind: .deferred,
                        detail: ["reason": "hold", "hold_reason": .string(reason), "until": .string(until)])
                }
            } else {
                rows = try await tx.query(
                    """
                    UPDATE jobs SET run_at = greatest(held_run_at, relance_now()),
                      due_at = greatest(held_run_at, relance_now()), held_run_at = NULL, updated_at = relance_now()
                    WHERE case_ref = $1 AND state = 'queued' AND held_run_at IS NOT NULL RETURNING \(Self.jobColumns)
                    """, [.text(ref)])
                for row in rows.sorted(by: { $0.int64("id") < $1.int64("id") }) {
                    let job = Self.job(from: row)
                    tx.record(
                        job, kind: .deferred,
                        detail: ["reason": "hold lifted", "note": .string(reason), "until": .string(job.runAt)])
                }
            }
            let row = try await tx.one("SELECT \(Self.invoiceColumns) FROM invoices WHERE ref = $1", [.text(ref)])
            return HoldOutcome(invoice: Self.invoice(from: row!), jobs: rows.count)
        }
    }

    public func recordPayment(
        ref: String, amount: Decimal, paidOn: String, thanks: @escaping @Sendable (Invoice) -> [NewJob]
    ) async throws -> PaymentOutcome {
        let wantsEvents = enqueueEvents
        return try await transaction { tx in
            try await Self.applyPayment(
                tx, ref: ref, amount: amount, paidOn: paidOn, bankLine: nil, wantsEvents: wantsEvents, thanks: thanks)
        }
    }

    /// A payment's effects inside a transaction (see SQLiteJobStore.applyPayment).
    static func applyPayment(
        _ tx: PGTransaction, ref: String, amount: Decimal, paidOn: String, bankLine: String?,
        wantsEvents: Bool?, thanks: (Invoice) -> [NewJob]
    ) async throws -> PaymentOutcome {
        // Locked: two payments recorded at once both count.
        guard
            let row = try await tx.one(
                "SELECT \(Self.invoiceColumns) FROM invoices WHERE ref = $1 FOR UPDATE", [.text(ref)])
        else { throw OperatorError(message: "invoice \(ref) is not registered") }
        var invoice = Self.invoice(from: row)
        guard invoice.status == .open else { throw OperatorError(message: "invoice \(ref) is already paid") }
        // Under the row lock: two payments recorded at once must not both fit one balance.
        if let problem = BankLineRow.paymentProblem(amount, invoice) { throw OperatorError(message: problem) }
        invoice.balance -= amount
        try await tx.query(
            "INSERT INTO payments(invoice_ref, amount, paid_on, bank_line_id) VALUES ($1, $2, $3, $4)",
            [.text(ref), .text(Invoice.text(amount)), .text(paidOn), .text(bankLine)])
        let settled = invoice.balance <= 0
        if settled {
            invoice.status = .paid
            invoice.paidAt = paidOn
        }
        try await tx.query(
            """
            UPDATE invoices SET balance = $1, status = $2, updated_at = relance_now(),
              paid_at = CASE WHEN $3 THEN $4 END
            WHERE ref = $5
            """,
            [
                .text(Invoice.text(invoice.balance)), .text(invoice.status.rawValue), .bool(settled),
                .text(paidOn), .text(ref),
            ])
        var cancelled = 0
        var thanked: [EnqueueResult] = []
        if settled {
            cancelled = try await Self.cancelPending(tx, caseRef: ref, reason: .paid).cancelled
            thanked = try await Self.insertJobs(thanks(invoice), tx, wantsEvents: wantsEvents)
        }
        return PaymentOutcome(invoice: invoice, settled: settled, cancelled: cancelled, thanks: thanked)
    }

    public func report(_ report: DeliveryReport) async throws -> ReportOutcome {
        try await transaction { tx in
            guard
                let row = try await tx.one(
                    "SELECT \(Self.jobColumns) FROM jobs WHERE id = $1 FOR UPDATE", [.int(report.jobID)])
            else { return .unknownJob }
            let job = Self.job(from: row)
            let target: JobState = report.delivered ? .delivered : .undelivered
            let kind: DeliveryEventKind = report.delivered ? .delivered : .undelivered
            guard job.attempt == report.attempt else {
                return .rejected("the report is for attempt \(report.attempt); the job is at attempt \(job.attempt)")
            }
            if let known = job.providerRef, let given = report.providerRef, known != given {
                return .rejected("the report names provider message \(given); the job was sent as \(known)")
            }
            // A message sent in several parts may get a report per part, or one for the
            // whole (see SQLiteJobStore.report).
            let segments = try await tx.one(
                """
                SELECT detail->>'segments' AS segments FROM delivery_events
                WHERE job_id = $1 AND attempt = $2 AND event = 'rendered' ORDER BY id DESC LIMIT 1
                """, [.int(job.id), .int(job.attempt)])?.text("segments")
            let parts = segments.flatMap { Int($0) } ?? 1
            var detail = report.detail
            if report.delivered && job.state == .undelivered {
                if parts > 1 { detail["parts"] = .number(String(parts)) }
                tx.record(job, kind: .delivered, detail: detail)
                return .duplicate(.undelivered)
            }
            if job.state == .delivered && !report.delivered {
                try await tx.query(
                    """
                    UPDATE jobs SET state = 'undelivered', updated_at = relance_now()
                    WHERE id = $1 AND attempt = $2 AND state = 'delivered'
                    """, [.int(job.id), .int(job.attempt)])
                detail["was"] = "delivered"
                if parts > 1 { detail["parts"] = .number(String(parts)) }
                tx.record(job, kind: .undelivered, detail: detail)
                if let suppression = report.suppression { try await Self.suppress(tx, suppression) }
                return .applied(.undelivered)
            }
            if job.state == target {
                if parts > 1 {
                    detail["parts"] = .number(String(parts))
                    tx.record(job, kind: kind, detail: detail)
                }
                return .duplicate(target)
            }
            if job.state == .running && job.dispatchStartedAt != nil {
                // The report overtook the worker: keep it; the outcome applies it.
                if row.text("reported_state") == target.rawValue { return .duplicate(target) }
                try await tx.query(
                    """
                    UPDATE jobs SET reported_state = $1, provider_ref = coalesce(provider_ref, $2),
                      updated_at = relance_now()
                    WHERE id = $3 AND attempt = $4 AND state = 'running'
                    """, [.text(target.rawValue), .text(report.providerRef), .int(job.id), .int(job.attempt)])
                detail["before_outcome"] = true
                tx.record(job, kind: kind, detail: detail)
                if !report.delivered, let suppression = report.suppression { try await Self.suppress(tx, suppression) }
                return .applied(target)
            }
            guard job.state == .sent || job.state == .uncertain else {
                return .rejected("job \(job.id) is \(job.state.rawValue); only a sent job takes a delivery report")
            }
            try await tx.query(
                """
                UPDATE jobs SET state = $1, provider_ref = coalesce(provider_ref, $2),
                  finished_at = relance_now(), updated_at = relance_now()
                WHERE id = $3 AND attempt = $4
                """, [.text(target.rawValue), .text(report.providerRef), .int(job.id), .int(job.attempt)])
            if job.state == .uncertain { detail["was"] = .string("uncertain") }
            tx.record(job, kind: kind, detail: detail)
            if !report.delivered, let suppression = report.suppression { try await Self.suppress(tx, suppression) }
            return .applied(target)
        }
    }

    public func notice(
        jobID: Int64, attempt: Int, kind: DeliveryEventKind, detail: [String: JSONValue], suppression: Suppression?
    ) async throws -> Bool {
        try await transaction { tx in
            guard let row = try await tx.one("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [.int(jobID)]) else {
                return false
            }
            let job = Self.job(from: row)
            guard attempt >= 1, attempt <= job.attempt else { return false }
            tx.record(job, attempt: attempt, kind: kind, detail: detail)
            if let suppression { try await Self.suppress(tx, suppression) }
            return true
        }
    }
}
