import Foundation
import RelanceCore
import RelanceStore
import RelanceTemplates

/// Lettrage (docs/PAYMENTS.md): reads the credits of a bank statement, finds the invoices
/// each pays (`Lettrage.decide`) and records the payments, once per statement line: a
/// settled invoice's pending reminders are cancelled and its payer thanked, as with
/// `invoice pay`. What cannot be matched without a guess is listed for review.
public struct PaymentDesk: Sendable {
    let store: any JobStore
    let invoices: InvoiceDesk

    public init(store: any JobStore, invoices: InvoiceDesk) {
        self.store = store
        self.invoices = invoices
    }

    /// What became of one line.
    public struct LineResult: Sendable {
        public enum Outcome: String, Sendable {
            /// Payments recorded.
            case matched
            /// Listed for review.
            case review
            /// Imported before: nothing changed.
            case duplicate
            /// Not a credit to match (a debit), or not booked yet (pending: imported when booked).
            case skipped
        }

        public var line: BankLine
        public var outcome: Outcome
        /// The stored line (nil for a skipped one).
        public var stored: StoredBankLine?
        public var payments: [PaymentOutcome]
        public var note: String
    }

    public struct Report: Sendable {
        public var lines: [LineResult]
        public func count(_ outcome: LineResult.Outcome) -> Int { lines.filter { $0.outcome == outcome }.count }
    }

    /// How many invoices a line's text may name: a text naming more is listed for review.
    static let mentionLimit = 20
    /// How many invoices whose number is somewhere in the text (a substring, before the
    /// word check) are read at most.
    static let substringLimit = 500

    public func importLines(_ lines: [BankLine]) async throws -> Report {
        var results: [LineResult] = []
        for line in lines { results.append(try await importLine(line)) }
        return Report(lines: results)
    }

    func importLine(_ line: BankLine) async throws -> LineResult {
        func skip(_ why: String) -> LineResult {
            LineResult(line: line, outcome: .skipped, stored: nil, payments: [], note: why)
        }
        // In ISO 20022 a reversed debit is a credit (harmless), a reversed credit a debit: the
        // bank took back money a payer sent, perhaps after it paid an invoice. That one a
        // person must see.
        if line.direction == .debit, !line.reversal { return skip("a debit") }
        if line.direction == .credit, line.reversal { return skip("the reversal of a debit") }
        if let status = line.status, status != "BOOK" {
            return skip("not booked (\(status)): imported when a statement books it")
        }
        if line.amount <= 0 { return skip("a zero amount") }
        if let day = line.valueDate ?? line.bookingDate, let problem = MoneyRules.dateProblem(day) {
            let verdict = Lettrage.Verdict(
                step: nil, payerRef: nil, outcome: .review(.invalid, candidates: []),
                note: "the line's date cannot be a payment's: \(problem)")
            return try await store(line, verdict)
        }
        return try await store(line, Lettrage.decide(line, try await candidates(for: line)))
    }

    func store(_ line: BankLine, _ verdict: Lettrage.Verdict) async throws -> LineResult {
        let thanks = try await thanksJobs(for: verdict)
        switch try await store.importLine(line, verdict: verdict, thanks: thanks) {
        case .duplicate(let stored):
            return LineResult(
                line: line, outcome: .duplicate, stored: stored, payments: [],
                note: "imported before (\(stored.status.rawValue)): nothing changed")
        case .applied(let stored, let payments):
            return LineResult(line: line, outcome: .matched, stored: stored, payments: payments, note: stored.note)
        case .listed(let stored):
            return LineResult(line: line, outcome: .review, stored: stored, payments: [], note: stored.note)
        }
    }

    /// What the store knows that could identify the line's invoices, rule by rule; a rule
    /// is read only when the ones before it found nothing.
    func candidates(for line: BankLine) async throws -> Lettrage.Candidates {
        var found = Lettrage.Candidates()
        if line.reversal { return found }
        if let iban = line.debtorIBAN { found.ibanPayers = try await store.payers(paying: iban) }
        var references: [RFReference] = []
        if let structured = line.structuredReference, let reference = RFReference(structured) {
            references.append(reference)
        }
        references += RFReference.find(in: line.unstructured.joined(separator: " ")).filter {
            !references.contains($0)
        }
        for reference in references {
            if let invoice = try await store.invoice(reference: reference.text) { found.byReference.append(invoice) }
        }
        if !found.byReference.isEmpty { return found }
        let text = line.remittance
        if !text.isEmpty {
            let read = try await store.invoices(mentionedIn: text, limit: Self.substringLimit)
            found.byNumber = Lettrage.mentioned(read, in: text)
            // Past the limit, a number the text names may not have been read: a person decides.
            found.tooManyNumbers = read.count >= Self.substringLimit || found.byNumber.count > Self.mentionLimit
            if !found.byNumber.isEmpty || found.tooManyNumbers { return found }
        }
        for payer in found.ibanPayers {
            found.byIBAN.append((payer, try await store.openInvoices(payerRef: payer)))
        }
        return found
    }

    /// The thanks each settled invoice's payer gets, read before the transaction.
    func thanksJobs(for verdict: Lettrage.Verdict) async throws -> @Sendable (Invoice, Decimal, String) -> [NewJob] {
        guard case .apply(let allocations) = verdict.outcome else { return { _, _, _ in [] } }
        var byPayer: [String: @Sendable (Invoice, Decimal, String) -> [NewJob]] = [:]
        for allocation in allocations {
            guard let invoice = try await store.invoice(ref: allocation.invoiceRef), byPayer[invoice.payerRef] == nil,
                let payer = try await store.payer(ref: invoice.payerRef)
            else { continue }
            byPayer[invoice.payerRef] = try await invoices.thanksJobs(payer: payer)
        }
        let thanks = byPayer
        return { invoice, amount, paidOn in thanks[invoice.payerRef]?(invoice, amount, paidOn) ?? [] }
    }
}

extension StoredBankLine {
    /// As the API and `--json` show it (openapi.yaml, `BankLine`).
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(line.id), "statement_id": .string(line.statementID), "account": .string(line.account),
            "amount": .object(["amount": .string(Invoice.text(line.amount)), "currency": .string(line.currency)]),
            "status": .string(status.rawValue), "note": .string(note), "imported_at": .string(importedAt),
            "remittance": .array(line.unstructured.map { .string($0) }),
            "invoices": .array(
                invoices.map {
                    .object([
                        "invoice": .string($0.invoiceRef),
                        "amount": .object([
                            "amount": .string(Invoice.text($0.amount)), "currency": .string(line.currency),
                        ]),
                    ])
                }),
            "candidates": .array(candidates.map { .string($0) }),
        ]
        let optional: [(String, String?)] = [
            ("booking_date", line.bookingDate), ("value_date", line.valueDate), ("debtor_name", line.debtorName),
            ("debtor_iban", line.debtorIBAN), ("end_to_end_id", line.endToEndID),
            ("reference", line.structuredReference), ("step", step?.rawValue), ("review", review?.rawValue),
            ("payer_ref", payerRef),
        ]
        for (key, value) in optional { fields[key] = value.map { .string($0) } ?? .null }
        return .object(fields)
    }
}

extension PaymentDesk.LineResult {
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(line.id), "outcome": .string(outcome.rawValue), "note": .string(note),
            "amount": .object(["amount": .string(Invoice.text(line.amount)), "currency": .string(line.currency)]),
        ]
        fields["line"] = stored?.json ?? .null
        fields["payments"] = .array(
            payments.map {
                .object([
                    "invoice": .string($0.invoice.ref),
                    "balance": .object([
                        "amount": .string(Invoice.text($0.invoice.balance)), "currency": .string($0.invoice.currency),
                    ]),
                    "settled": .bool($0.settled), "cancelled_jobs": .number(String($0.cancelled)),
                    "thanks_jobs": .array($0.thanks.map { .number(String($0.id)) }),
                ])
            })
        return .object(fields)
    }
}

extension PaymentDesk.Report {
    public var json: JSONValue {
        .object([
            "matched": .number(String(count(.matched))), "review": .number(String(count(.review))),
            "duplicate": .number(String(count(.duplicate))), "skipped": .number(String(count(.skipped))),
            "lines": .array(lines.map(\.json)),
        ])
    }

    /// One line per statement line, then the counts: for the CLI.
    public var text: String {
        var out: [String] = []
        for result in lines {
            let amount = "\(Invoice.text(result.line.amount)) \(result.line.currency)"
            var words = [result.line.id, result.outcome.rawValue, amount]
            if let step = result.stored?.step, result.outcome == .matched { words.append("by \(step.rawValue)") }
            if let review = result.stored?.review, result.outcome == .review { words.append(review.rawValue) }
            words.append("— \(result.note)")
            for payment in result.payments where payment.settled {
                words.append(
                    "[\(payment.invoice.ref) paid: \(payment.cancelled) pending job(s) cancelled, thanks \(payment.thanks.map { String($0.id) }.joined(separator: ","))]"
                )
            }
            out.append(words.joined(separator: " "))
        }
        out.append(
            "\(count(.matched)) matched, \(count(.review)) for review, \(count(.duplicate)) imported before, \(count(.skipped)) skipped"
        )
        return out.joined(separator: "\n")
    }
}
