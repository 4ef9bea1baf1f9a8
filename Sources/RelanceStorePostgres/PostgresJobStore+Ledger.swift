import Foundation
import RelanceCore
import RelanceStore

/// Bank statement lines and lettrage: the rules of `SQLiteJobStore+Ledger.swift`.
extension PostgresJobStore {
    static let bankLineColumns = """
        id, statement_id, account, amount, currency, booking_date, value_date, debtor_name, debtor_iban,
        end_to_end_id, reference, remittance, bank_status, direction, reversal, status, step, review, payer_ref, invoices,
        candidates, note, relance_iso(imported_at) AS imported_at
        """

    /// Gives each invoice registered before `p4-bank-lines` its creditor reference, in the
    /// order they came (inside the migration's transaction).
    static func giveReferences(_ session: PGSession, schema: String) async throws {
        let refs = try await session.query("SELECT ref FROM \(schema).invoices ORDER BY created_at, ref").compactMap {
            $0.text("ref")
        }
        for ref in refs {
            for candidate in RFReference.candidates(forInvoice: ref) {
                let updated = try await session.query(
                    """
                    UPDATE \(schema).invoices SET reference = $1 WHERE ref = $2
                      AND NOT EXISTS (SELECT 1 FROM \(schema).invoices WHERE reference = $1) RETURNING ref
                    """, [.text(candidate.text), .text(ref)])
                if !updated.isEmpty { break }
            }
        }
    }

    public func invoice(reference: String) async throws -> Invoice? {
        try await withSession { session in
            try await session.one(
                "SELECT \(Self.invoiceColumns) FROM invoices WHERE reference = $1", [.text(reference)]
            ).map(Self.invoice(from:))
        }
    }

    public func invoices(mentionedIn text: String, limit: Int) async throws -> [Invoice] {
        try await withSession { session in
            // ASCII upper case on both sides, as SQLite's upper() does.
            try await session.query(
                """
                SELECT \(Self.invoiceColumns) FROM invoices
                WHERE strpos(translate($1, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
                             translate(ref, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')) > 0
                ORDER BY ref LIMIT $2
                """, [.text(text), .int(limit)]
            ).map(Self.invoice(from:))
        }
    }

    public func payers(paying iban: String) async throws -> [String] {
        try await withSession { session in
            try await session.query(
                """
                SELECT DISTINCT payer_ref FROM bank_lines
                WHERE debtor_iban = $1 AND status = 'matched' AND payer_ref IS NOT NULL ORDER BY payer_ref
                """, [.text(iban)]
            ).compactMap { $0.text("payer_ref") }
        }
    }

    public func openInvoices(payerRef: String) async throws -> [Invoice] {
        try await withSession { session in
            try await session.query(
                """
                SELECT \(Self.invoiceColumns) FROM invoices WHERE payer_ref = $1 AND status = 'open'
                ORDER BY due_date, ref
                """, [.text(payerRef)]
            ).map(Self.invoice(from:))
        }
    }

    public func importLine(
        _ line: BankLine, verdict: Lettrage.Verdict, thanks: @escaping @Sendable (Invoice, Decimal, String) -> [NewJob]
    ) async throws -> LineImport {
        let wantsEvents = enqueueEvents
        let today = Timestamp.isoDate(of: clock.now(), in: TimeZone(identifier: "UTC")!)
        let columns = Self.bankLineColumns
        return try await retryingUniqueViolation {
            try await transaction { tx in
                if let row = try await tx.one("SELECT \(columns) FROM bank_lines WHERE id = $1", [.text(line.id)]) {
                    return .duplicate(Self.bankLine(from: row))
                }
                // The same movement stored under another id, or a payment recorded by hand.
                var twin: String?
                if let e2e = line.endToEndID, let debtor = line.debtorIBAN {
                    twin = try await tx.one(
                        """
                        SELECT id FROM bank_lines WHERE account = $1 AND end_to_end_id = $2 AND debtor_iban = $3
                          AND amount = $4 AND currency = $5 ORDER BY imported_at LIMIT 1
                        """,
                        [
                            .text(line.account), .text(e2e), .text(debtor), .text(Invoice.text(line.amount)),
                            .text(line.currency),
                        ])?.text("id")
                }
                var manual: (invoice: String, day: String)?
                var manualPayment: Int?
                if twin == nil, let ref = BankLineRow.soleInvoice(verdict),
                    let row = try await tx.one(
                        """
                        SELECT id, paid_on FROM payments WHERE invoice_ref = $1 AND amount = $2 AND bank_line_id IS NULL
                        ORDER BY id LIMIT 1 FOR UPDATE
                        """, [.text(ref), .text(Invoice.text(line.amount))])
                {
                    manual = (ref, row.text("paid_on") ?? "")
                    manualPayment = row.int("id")
                }
                if let earlier = BankLineRow.earlier(verdict, line: line, twin: twin, manual: manual) {
                    let stored = try await Self.insertLine(tx, line, earlier, columns: columns)
                    if let manualPayment {
                        try await tx.query(
                            "UPDATE payments SET bank_line_id = $1 WHERE id = $2",
                            [.text(line.id), .int(manualPayment)])
                        return .applied(stored, [])
                    }
                    return .listed(stored)
                }
                var invoices: [String: Invoice] = [:]
                if case .apply(let allocations) = verdict.outcome {
                    for allocation in allocations.sorted(by: { $0.invoiceRef < $1.invoiceRef }) {
                        // Locked in one order: two imports paying the same invoices cannot deadlock.
                        invoices[allocation.invoiceRef] = try await tx.one(
                            "SELECT \(Self.invoiceColumns) FROM invoices WHERE ref = $1 FOR UPDATE",
                            [.text(allocation.invoiceRef)]
                        ).map(Self.invoice(from:))
                    }
                }
                let checked = BankLineRow.recheck(verdict, line: line, invoices: invoices)
                let stored = try await Self.insertLine(tx, line, checked, columns: columns)
                guard case .apply(let allocations) = checked.outcome else { return .listed(stored) }
                let paidOn = BankLineRow.paidOn(line, today: today)
                var outcomes: [PaymentOutcome] = []
                for allocation in allocations {
                    outcomes.append(
                        try await Self.applyPayment(
                            tx, ref: allocation.invoiceRef, amount: allocation.amount, paidOn: paidOn,
                            bankLine: line.id, wantsEvents: wantsEvents
                        ) { thanks($0, allocation.amount, paidOn) })
                }
                return .applied(stored, outcomes)
            }
        }
    }

    static func insertLine(_ tx: PGTransaction, _ line: BankLine, _ checked: Lettrage.Verdict, columns: String)
        async throws -> StoredBankLine
    {
        let (status, applied, review, candidates) = BankLineRow.columns(checked)
        // A concurrent import of the same line: the primary key refuses the second,
        // whose retry then finds the line stored.
        guard
            let row = try await tx.one(
                """
                INSERT INTO bank_lines(id, statement_id, account, amount, currency, booking_date, value_date,
                  debtor_name, debtor_iban, end_to_end_id, reference, remittance, bank_status, direction, reversal, status,
                  step, review, payer_ref, invoices, candidates, note, imported_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                  $20, $21, $22, relance_now())
                RETURNING \(columns)
                """,
                [
                    .text(line.id), .text(line.statementID), .text(line.account),
                    .text(Invoice.text(line.amount)), .text(line.currency), .text(line.bookingDate),
                    .text(line.valueDate), .text(line.debtorName), .text(line.debtorIBAN),
                    .text(line.endToEndID), .text(line.structuredReference),
                    .text(BankLineRow.stringsText(line.unstructured)), .text(line.status),
                    .text(line.direction.rawValue), .int(line.reversal ? 1 : 0), .text(status.rawValue),
                    .text(checked.step?.rawValue),
                    .text(review?.rawValue), .text(checked.payerRef),
                    .text(BankLineRow.allocationsText(applied)), .text(BankLineRow.stringsText(candidates)),
                    .text(checked.note),
                ])
        else { throw OperatorError(message: "bank line \(line.id) was not stored") }
        return Self.bankLine(from: row)
    }

    public func bankLines(reviewOnly: Bool, limit: Int) async throws -> [StoredBankLine] {
        let columns = Self.bankLineColumns
        return try await withSession { session in
            try await session.query(
                """
                SELECT \(columns) FROM bank_lines \(reviewOnly ? "WHERE status = 'review'" : "")
                ORDER BY bank_lines.imported_at, id LIMIT $1
                """, [.int(limit)]
            ).map(Self.bankLine(from:))
        }
    }

    public func dismissLine(id: String, note: String) async throws -> Bool {
        try await transaction { tx in
            !(try await tx.query(
                """
                UPDATE bank_lines SET status = 'dismissed', dismissed_at = relance_now(),
                  note = note || CASE WHEN $1 = '' THEN '' ELSE ' — dismissed: ' || $1 END
                WHERE id = $2 AND status = 'review' RETURNING id
                """, [.text(note), .text(id)])).isEmpty
        }
    }

    static func bankLine(from row: PGRow) -> StoredBankLine {
        let line = BankLine(
            id: row.text("id") ?? "", statementID: row.text("statement_id") ?? "", account: row.text("account") ?? "",
            direction: BankLine.Direction(rawValue: row.text("direction") ?? "") ?? .credit,
            reversal: (row.int("reversal") ?? 0) != 0,
            amount: Invoice.parseAmount(row.text("amount") ?? "0") ?? 0, currency: row.text("currency") ?? "",
            bookingDate: row.text("booking_date"), valueDate: row.text("value_date"),
            debtorName: row.text("debtor_name"), debtorIBAN: row.text("debtor_iban"),
            endToEndID: row.text("end_to_end_id"), structuredReference: row.text("reference"),
            unstructured: BankLineRow.strings(row.text("remittance")), status: row.text("bank_status"))
        return StoredBankLine(
            line: line, status: StoredBankLine.Status(rawValue: row.text("status") ?? "") ?? .review,
            step: row.text("step").flatMap(Lettrage.Step.init(rawValue:)),
            review: row.text("review").flatMap(Lettrage.Review.init(rawValue:)), payerRef: row.text("payer_ref"),
            invoices: BankLineRow.allocations(row.text("invoices")),
            candidates: BankLineRow.strings(row.text("candidates")), note: row.text("note") ?? "",
            importedAt: row.text("imported_at") ?? "")
    }
}
