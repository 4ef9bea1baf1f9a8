import Foundation
import GRDB
import RelanceCore
import Synchronization

/// Invoices and cases: registration, holds, payments, merges, suppressions and fallbacks (docs/SCENARIOS.md).
extension SQLiteJobStore {
    public func openInvoice(_ invoice: Invoice, jobs: [NewJob]) async throws -> (
        invoice: Invoice, created: Bool, jobs: [EnqueueResult]
    ) {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [invoice.ref]) {
                // Already registered: its jobs' idempotency keys exist, so nothing new is inserted.
                let results = try Self.insertJobs(jobs, db, &events, wantsEvents: wantsEvents)
                return (Self.invoice(from: row), false, results)
            }
            // The first creditor reference no other invoice holds (RFReference.candidates).
            var stored = invoice
            let preferred = invoice.reference.flatMap { RFReference($0) }.map { [$0] } ?? []
            stored.reference = try (preferred + RFReference.candidates(forInvoice: invoice.ref)).first {
                try Bool.fetchOne(db, sql: "SELECT 1 FROM invoices WHERE reference = ?", arguments: [$0.text]) == nil
            }?.text
            try db.execute(
                sql: """
                    INSERT INTO invoices(ref, payer_ref, scenario, currency, amount, balance, issue_date, due_date,
                      reference)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    invoice.ref, invoice.payerRef, invoice.scenario, invoice.currency, Invoice.text(invoice.amount),
                    Invoice.text(invoice.balance), invoice.issueDate, invoice.dueDate, stored.reference,
                ])
            let results = try Self.insertJobs(jobs, db, &events, wantsEvents: wantsEvents)
            return (stored, true, results)
        }
    }

    public func invoice(ref: String) async throws -> Invoice? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref]).map(Self.invoice(from:))
        }
    }

    public func suppressedChannels(payerRef: String) async throws -> Set<Channel> {
        try await pool.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT channel FROM suppressions WHERE payer_ref = ?", arguments: [payerRef]
                )
                .compactMap(Channel.init(rawValue:)))
        }
    }

    public func fallBack(from job: Job, contact: String, reason: String, to next: NewJob?) async throws -> Int64? {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            try Self.suppress(
                db, Suppression(payerRef: job.payerRef, channel: job.channel, contact: contact, reason: reason))
            var newID: Int64?
            if let next {
                newID = try Self.insertJobs([next], db, &events, wantsEvents: wantsEvents).first?.id
            }
            var detail: [String: JSONValue] = [
                "reason": "channel fallback", "suppressed": .string(job.channel), "contact_problem": .string(reason),
            ]
            if let next, let newID {
                detail["to_channel"] = .string(next.channel.rawValue)
                detail["new_job"] = .number(String(newID))
            } else {
                detail["to_channel"] = .null
            }
            try Self.record(db, &events, job: job, kind: .rescued, detail: detail)
            return newID
        }
    }

    /// The suppression row; an existing one for the same contact keeps its first reason and date.
    static func suppress(_ db: Database, _ suppression: Suppression) throws {
        try db.execute(
            sql: """
                INSERT INTO suppressions(payer_ref, channel, contact, reason) VALUES (?, ?, ?, ?)
                ON CONFLICT(payer_ref, channel) DO UPDATE SET contact = excluded.contact,
                  reason = CASE WHEN contact IS excluded.contact THEN reason ELSE excluded.reason END,
                  created_at = CASE WHEN contact IS excluded.contact THEN created_at ELSE \(clockNow) END
                """,
            arguments: [suppression.payerRef, suppression.channel, suppression.contact, suppression.reason])
    }

    public func mergeSiblings(of job: Job) async throws -> [String] {
        try await transaction { db, events in
            // Already merged into a sibling by another worker: nothing to gather (its
            // pre-dispatch check cancels it).
            let own = try Row.fetchOne(db, sql: "SELECT cancel_reason FROM jobs WHERE id = ?", arguments: [job.id])
            if let reason: String = own?["cancel_reason"], !reason.isEmpty { return [] }
            let sameMessage = """
                payer_ref = ? AND template = ? AND channel = ? AND substr(run_at, 1, 10) = substr(?, 1, 10)
                  AND id != ? AND case_ref IS NOT NULL AND case_ref != ? AND instr(data, '\(Invoice.quotedDataKey)') > 0
                  AND cancel_reason IS NULL
                  AND (SELECT currency FROM invoices WHERE ref = jobs.case_ref)
                    IS (SELECT currency FROM invoices WHERE ref = ?)
                """
            // Only invoices in the same currency share a message (one total).
            let arguments: StatementArguments = [
                job.payerRef, job.template, job.channel, job.runAt, job.id, job.caseRef ?? "", job.caseRef ?? "",
            ]
            let merged = CancelReason.merged(into: job.id)
            let queued = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'cancelled', cancel_reason = ?, finished_at = \(clockNow),
                      updated_at = \(clockNow)
                    WHERE state = 'queued' AND \(sameMessage) RETURNING *
                    """, arguments: [merged.stored] + arguments)
            for row in queued {
                try Self.record(db, &events, job: Self.job(from: row), kind: .cancelled, detail: merged.traceDetail)
            }
            // Claimed but not dispatching: their pre-dispatch check cancels them.
            try db.execute(
                sql: """
                    UPDATE jobs SET cancel_reason = ?, updated_at = \(clockNow)
                    WHERE state = 'running' AND dispatch_started_at IS NULL AND \(sameMessage)
                    """, arguments: [merged.stored] + arguments)
            // Every case merged into this job, now or on an earlier attempt (a retry after a
            // transient error lists the same invoices as the first try).
            return try String.fetchAll(
                db,
                sql: """
                    SELECT case_ref FROM jobs WHERE cancel_reason = ? AND case_ref IS NOT NULL
                      AND case_ref != ? ORDER BY id
                    """, arguments: [merged.stored, job.caseRef ?? ""])
        }
    }

    public func hold(ref: String, until: String?, reason: String) async throws -> HoldOutcome {
        try await transaction { db, events in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM invoices WHERE ref = ?", arguments: [ref]) != nil else {
                throw OperatorError(message: "invoice \(ref) is not registered")
            }
            try db.execute(
                sql: "UPDATE invoices SET hold_until = ?, hold_reason = ?, updated_at = \(clockNow) WHERE ref = ?",
                arguments: [until, until == nil ? nil : reason, ref])
            let rows: [Row]
            if let until {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE jobs SET held_run_at = coalesce(held_run_at, run_at), run_at = ?, due_at = ?,
                          updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'queued' AND run_at < ? RETURNING *
                        """, arguments: [until, until, ref, until])
                for row in rows {
                    try Self.record(
                        db, &events, job: Self.job(from: row), kind: .deferred,
                        detail: ["reason": "hold", "hold_reason": .string(reason), "until": .string(until)])
                }
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE jobs SET run_at = max(held_run_at, \(clockNow)), due_at = max(held_run_at, \(clockNow)),
                          held_run_at = NULL, updated_at = \(clockNow)
                        WHERE case_ref = ? AND state = 'queued' AND held_run_at IS NOT NULL RETURNING *
                        """, arguments: [ref])
                for row in rows {
                    let job = Self.job(from: row)
                    try Self.record(
                        db, &events, job: job, kind: .deferred,
                        detail: ["reason": "hold lifted", "note": .string(reason), "until": .string(job.runAt)])
                }
            }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref])!
            return HoldOutcome(invoice: Self.invoice(from: row), jobs: rows.count)
        }
    }

    public func recordPayment(
        ref: String, amount: Decimal, paidOn: String, thanks: @escaping @Sendable (Invoice) -> [NewJob]
    ) async throws -> PaymentOutcome {
        let wantsEvents = enqueueEvents
        return try await transaction { db, events in
            try Self.applyPayment(
                db, &events, ref: ref, amount: amount, paidOn: paidOn, bankLine: nil, wantsEvents: wantsEvents,
                thanks: thanks)
        }
    }

    /// A payment's effects, inside a write transaction: the balance, and for a payment that
    /// settles the invoice its pending jobs cancelled and `thanks` enqueued.
    static func applyPayment(
        _ db: Database, _ events: inout [DeliveryEvent], ref: String, amount: Decimal, paidOn: String,
        bankLine: String?, wantsEvents: EnqueueEvents, thanks: (Invoice) -> [NewJob]
    ) throws -> PaymentOutcome {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [ref]) else {
            throw OperatorError(message: "invoice \(ref) is not registered")
        }
        var invoice = Self.invoice(from: row)
        guard invoice.status == .open else {
            throw OperatorError(message: "invoice \(ref) is already paid")
        }
        // Checked here, in the write transaction: two payments recorded at once must not
        // both fit a balance that holds only one.
        if let problem = BankLineRow.paymentProblem(amount, invoice) { throw OperatorError(message: problem) }
        invoice.balance -= amount
        try db.execute(
            sql: "INSERT INTO payments(invoice_ref, amount, paid_on, bank_line_id) VALUES (?, ?, ?, ?)",
            arguments: [ref, Invoice.text(amount), paidOn, bankLine])
        let settled = invoice.balance <= 0
        if settled { invoice.status = .paid }
        try db.execute(
            sql: """
                UPDATE invoices SET balance = ?, status = ?, updated_at = \(clockNow),
                  paid_at = CASE WHEN ? THEN ? END
                WHERE ref = ?
                """, arguments: [Invoice.text(invoice.balance), invoice.status.rawValue, settled, paidOn, ref])
        var cancelled = 0
        var thanked: [EnqueueResult] = []
        if settled {
            invoice.paidAt = try String.fetchOne(
                db, sql: "SELECT paid_at FROM invoices WHERE ref = ?", arguments: [ref])
            cancelled = try Self.cancelPending(db, &events, caseRef: ref, reason: .paid).cancelled
            thanked = try Self.insertJobs(thanks(invoice), db, &events, wantsEvents: wantsEvents)
        }
        return PaymentOutcome(invoice: invoice, settled: settled, cancelled: cancelled, thanks: thanked)
    }

    static func invoice(from row: Row) -> Invoice {
        return Invoice(
            ref: row["ref"], payerRef: row["payer_ref"], scenario: row["scenario"], currency: row["currency"],
            amount: Invoice.parseAmount(row["amount"] ?? "0") ?? 0,
            balance: Invoice.parseAmount(row["balance"] ?? "0") ?? 0, issueDate: row["issue_date"],
            dueDate: row["due_date"],
            // The schema's CHECK holds status to open or paid.
            status: InvoiceStatus(rawValue: row["status"] ?? "") ?? .open, paidAt: row["paid_at"],
            holdUntil: row["hold_until"],
            holdReason: row["hold_reason"], reference: row["reference"])
    }
}
