import Foundation
import GRDB
import RelanceCore

/// Bank statement lines and lettrage (docs/PAYMENTS.md).
extension SQLiteJobStore {
    public func invoice(reference: String) async throws -> Invoice? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE reference = ?", arguments: [reference]).map(
                Self.invoice(from:))
        }
    }

    public func invoices(mentionedIn text: String, limit: Int) async throws -> [Invoice] {
        try await pool.read { db in
            // Upper case on both sides, ASCII only (SQLite's upper()): invoice numbers are references.
            try Row.fetchAll(
                db, sql: "SELECT * FROM invoices WHERE instr(upper(?), upper(ref)) > 0 ORDER BY ref LIMIT ?",
                arguments: [text, limit]
            ).map(Self.invoice(from:))
        }
    }

    public func payers(paying iban: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT payer_ref FROM bank_lines
                    WHERE debtor_iban = ? AND status = 'matched' AND payer_ref IS NOT NULL ORDER BY payer_ref
                    """, arguments: [iban])
        }
    }

    public func openInvoices(payerRef: String) async throws -> [Invoice] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM invoices WHERE payer_ref = ? AND status = 'open' ORDER BY due_date, ref",
                arguments: [payerRef]
            ).map(Self.invoice(from:))
        }
    }

    public func importLine(
        _ line: BankLine, verdict: Lettrage.Verdict, thanks: @escaping @Sendable (Invoice, Decimal, String) -> [NewJob]
    ) async throws -> LineImport {
        let wantsEvents = enqueueEvents
        let today = Timestamp.isoDate(of: clock.now(), in: TimeZone(identifier: "UTC")!)
        return try await transaction { db, events in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM bank_lines WHERE id = ?", arguments: [line.id]) {
                return .duplicate(Self.bankLine(from: row))
            }
            // The same movement stored under another id, or a payment a person recorded by hand.
            var twin: String?
            if let e2e = line.endToEndID, let debtor = line.debtorIBAN {
                twin = try String.fetchOne(
                    db,
                    sql: """
                        SELECT id FROM bank_lines WHERE account = ? AND end_to_end_id = ? AND debtor_iban = ?
                          AND amount = ? AND currency = ? ORDER BY imported_at LIMIT 1
                        """, arguments: [line.account, e2e, debtor, Invoice.text(line.amount), line.currency])
            }
            var manual: (invoice: String, day: String)?
            var manualPayment: Int64?
            if twin == nil, let ref = BankLineRow.soleInvoice(verdict),
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, paid_on FROM payments WHERE invoice_ref = ? AND amount = ? AND bank_line_id IS NULL
                        ORDER BY id LIMIT 1
                        """, arguments: [ref, Invoice.text(line.amount)])
            {
                manual = (ref, row["paid_on"] ?? "")
                manualPayment = row["id"]
            }
            if let earlier = BankLineRow.earlier(verdict, line: line, twin: twin, manual: manual) {
                let stored = try Self.insertLine(db, line, earlier)
                if let manualPayment {
                    try db.execute(
                        sql: "UPDATE payments SET bank_line_id = ? WHERE id = ?", arguments: [line.id, manualPayment])
                    return .applied(stored, [])
                }
                return .listed(stored)
            }
            var invoices: [String: Invoice] = [:]
            if case .apply(let allocations) = verdict.outcome {
                for allocation in allocations {
                    invoices[allocation.invoiceRef] = try Row.fetchOne(
                        db, sql: "SELECT * FROM invoices WHERE ref = ?", arguments: [allocation.invoiceRef]
                    ).map(Self.invoice(from:))
                }
            }
            let checked = BankLineRow.recheck(verdict, line: line, invoices: invoices)
            let row = try Self.insertLine(db, line, checked)
            guard case .apply(let allocations) = checked.outcome else { return .listed(row) }
            let paidOn = BankLineRow.paidOn(line, today: today)
            var outcomes: [PaymentOutcome] = []
            for allocation in allocations {
                outcomes.append(
                    try Self.applyPayment(
                        db, &events, ref: allocation.invoiceRef, amount: allocation.amount, paidOn: paidOn,
                        bankLine: line.id, wantsEvents: wantsEvents
                    ) { thanks($0, allocation.amount, paidOn) })
            }
            return .applied(row, outcomes)
        }
    }

    static func insertLine(_ db: Database, _ line: BankLine, _ verdict: Lettrage.Verdict) throws -> StoredBankLine {
        let (status, applied, review, candidates) = BankLineRow.columns(verdict)
        let row = try Row.fetchOne(
            db,
            sql: """
                INSERT INTO bank_lines(id, statement_id, account, amount, currency, booking_date, value_date,
                  debtor_name, debtor_iban, end_to_end_id, reference, remittance, bank_status, direction, reversal, status, step,
                  review, payer_ref, invoices, candidates, note, imported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(clockNow)) RETURNING *
                """,
            arguments: [
                line.id, line.statementID, line.account, Invoice.text(line.amount), line.currency, line.bookingDate,
                line.valueDate, line.debtorName, line.debtorIBAN, line.endToEndID, line.structuredReference,
                BankLineRow.stringsText(line.unstructured), line.status, line.direction.rawValue, line.reversal ? 1 : 0,
                status.rawValue,
                verdict.step?.rawValue, review?.rawValue, verdict.payerRef, BankLineRow.allocationsText(applied),
                BankLineRow.stringsText(candidates), verdict.note,
            ])!
        return bankLine(from: row)
    }

    public func bankLines(reviewOnly: Bool, limit: Int) async throws -> [StoredBankLine] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM bank_lines \(reviewOnly ? "WHERE status = 'review'" : "")
                    ORDER BY imported_at, id LIMIT ?
                    """, arguments: [limit]
            ).map(Self.bankLine(from:))
        }
    }

    public func dismissLine(id: String, note: String) async throws -> Bool {
        try await transaction { db, _ in
            try db.execute(
                sql: """
                    UPDATE bank_lines SET status = 'dismissed', dismissed_at = \(clockNow),
                      note = note || CASE WHEN ? = '' THEN '' ELSE ' — dismissed: ' || ? END
                    WHERE id = ? AND status = 'review'
                    """, arguments: [note, note, id])
            return db.changesCount == 1
        }
    }

    static func bankLine(from row: Row) -> StoredBankLine {
        let line = BankLine(
            id: row["id"], statementID: row["statement_id"], account: row["account"],
            direction: BankLine.Direction(rawValue: row["direction"] ?? "") ?? .credit,
            reversal: (row["reversal"] as Int64? ?? 0) != 0,
            amount: Invoice.parseAmount(row["amount"] ?? "0") ?? 0, currency: row["currency"],
            bookingDate: row["booking_date"], valueDate: row["value_date"], debtorName: row["debtor_name"],
            debtorIBAN: row["debtor_iban"], endToEndID: row["end_to_end_id"],
            structuredReference: row["reference"], unstructured: BankLineRow.strings(row["remittance"]),
            status: row["bank_status"])
        return StoredBankLine(
            line: line, status: StoredBankLine.Status(rawValue: row["status"] ?? "") ?? .review,
            step: (row["step"] as String?).flatMap(Lettrage.Step.init(rawValue:)),
            review: (row["review"] as String?).flatMap(Lettrage.Review.init(rawValue:)), payerRef: row["payer_ref"],
            invoices: BankLineRow.allocations(row["invoices"]), candidates: BankLineRow.strings(row["candidates"]),
            note: row["note"] ?? "", importedAt: row["imported_at"] ?? "")
    }
}
