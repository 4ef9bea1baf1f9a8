import Foundation
import RelanceCore

/// Bank statement lines and their lettrage (docs/PAYMENTS.md): what the desk needs to
/// find the invoices a credit pays, and the all-or-nothing write of one line.
public protocol LedgerStore: Sendable {
    /// The invoice whose creditor reference is `reference` (`RF…`, no spaces).
    func invoice(reference: String) async throws -> Invoice?
    /// Invoices whose number `text` contains (the caller checks word boundaries), at most `limit`.
    func invoices(mentionedIn text: String, limit: Int) async throws -> [Invoice]
    /// The payers earlier lines from `iban` were matched to.
    func payers(paying iban: String) async throws -> [String]
    /// A payer's invoices not yet paid.
    func openInvoices(payerRef: String) async throws -> [Invoice]
    /// Stores `line` with its verdict in one transaction. A line whose id is stored already
    /// changes nothing (`.duplicate`). To apply, each allocation is checked again against
    /// the invoice as it stands (open, same currency, not more than its balance); if one no
    /// longer fits, nothing is applied and the line is listed for review. Each payment has
    /// `recordPayment`'s effects: the balance, and for a settled invoice its pending jobs
    /// cancelled and `thanks` enqueued.
    func importLine(
        _ line: BankLine, verdict: Lettrage.Verdict,
        thanks: @escaping @Sendable (Invoice, Decimal, String) -> [NewJob]
    ) async throws -> LineImport
    /// Lines waiting for review, oldest first (or every line when `all`).
    func bankLines(reviewOnly: Bool, limit: Int) async throws -> [StoredBankLine]
    /// Marks a line waiting for review as dealt with (a person recorded the payment by
    /// hand, or it was not for an invoice). False when no such line waits.
    func dismissLine(id: String, note: String) async throws -> Bool
}

/// A statement line as stored.
public struct StoredBankLine: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Payments recorded from it.
        case matched
        /// Waiting for a person.
        case review
        /// A person dealt with it (`relance payments dismiss`).
        case dismissed
    }

    public var line: BankLine
    public var status: Status
    public var step: Lettrage.Step?
    public var review: Lettrage.Review?
    public var payerRef: String?
    /// Applied payments (matched), or the candidates (review).
    public var invoices: [Lettrage.Allocation]
    public var candidates: [String]
    public var note: String
    public var importedAt: String

    public init(
        line: BankLine, status: Status, step: Lettrage.Step?, review: Lettrage.Review?, payerRef: String?,
        invoices: [Lettrage.Allocation], candidates: [String], note: String, importedAt: String
    ) {
        self.line = line
        self.status = status
        self.step = step
        self.review = review
        self.payerRef = payerRef
        self.invoices = invoices
        self.candidates = candidates
        self.note = note
        self.importedAt = importedAt
    }
}

public enum LineImport: Sendable {
    /// Stored earlier: nothing changed.
    case duplicate(StoredBankLine)
    /// Payments recorded.
    case applied(StoredBankLine, [PaymentOutcome])
    /// Listed for review.
    case listed(StoredBankLine)

    public var stored: StoredBankLine {
        switch self {
        case .duplicate(let line), .applied(let line, _), .listed(let line): line
        }
    }
}

/// The columns of a stored line, shared by both backends.
public enum BankLineRow {
    /// `invoices`: `[{"invoice": ref, "amount": "12.00"}]`.
    public static func allocationsText(_ allocations: [Lettrage.Allocation]) -> String {
        JSONValue.array(
            allocations.map {
                .object(["invoice": .string($0.invoiceRef), "amount": .string(Invoice.text($0.amount))])
            }
        ).jsonText
    }

    public static func allocations(_ text: String?) -> [Lettrage.Allocation] {
        guard let text, let value = try? JSONValue.parse(text), case .array(let items) = value else { return [] }
        return items.compactMap { item in
            guard let ref = item["invoice"]?.stringValue, let amount = item["amount"]?.stringValue,
                let decimal = Invoice.parseAmount(amount)
            else { return nil }
            return Lettrage.Allocation(invoiceRef: ref, amount: decimal)
        }
    }

    public static func stringsText(_ strings: [String]) -> String {
        JSONValue.array(strings.map { .string($0) }).jsonText
    }

    public static func strings(_ text: String?) -> [String] {
        guard let text, let value = try? JSONValue.parse(text), case .array(let items) = value else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// The verdict to store once the allocations were checked against the invoices as
    /// they stand in the transaction: `problem` says why one no longer fits.
    public static func recheck(
        _ verdict: Lettrage.Verdict, line: BankLine, invoices: [String: Invoice]
    ) -> Lettrage.Verdict {
        guard case .apply(let allocations) = verdict.outcome else { return verdict }
        for allocation in allocations {
            let refs = allocations.map(\.invoiceRef)
            guard let invoice = invoices[allocation.invoiceRef] else {
                return Lettrage.Verdict(
                    step: verdict.step, payerRef: verdict.payerRef, outcome: .review(.noMatch, candidates: refs),
                    note: "invoice \(allocation.invoiceRef) is no longer registered")
            }
            if invoice.currency != line.currency {
                return Lettrage.Verdict(
                    step: verdict.step, payerRef: verdict.payerRef, outcome: .review(.currency, candidates: refs),
                    note: "invoice \(invoice.ref) is in \(invoice.currency), the line in \(line.currency)")
            }
            if invoice.status != .open || invoice.balance <= 0 {
                return Lettrage.Verdict(
                    step: verdict.step, payerRef: verdict.payerRef, outcome: .review(.alreadyPaid, candidates: refs),
                    note: "invoice \(invoice.ref) was paid meanwhile")
            }
            if allocation.amount > invoice.balance {
                return Lettrage.Verdict(
                    step: verdict.step, payerRef: verdict.payerRef, outcome: .review(.overpayment, candidates: refs),
                    note:
                        "\(Invoice.text(allocation.amount)) \(line.currency) is now more than invoice \(invoice.ref)'s balance of \(Invoice.text(invoice.balance))"
                )
            }
        }
        return verdict
    }

    /// The columns a verdict fills: the line's status, the payments applied (matched) or
    /// the reason and candidates (review).
    public static func columns(_ verdict: Lettrage.Verdict) -> (
        status: StoredBankLine.Status, applied: [Lettrage.Allocation], review: Lettrage.Review?, candidates: [String]
    ) {
        switch verdict.outcome {
        case .apply(let allocations): (.matched, allocations, nil, [])
        case .review(let reason, let names): (.review, [], reason, names)
        }
    }

    /// Why `amount` cannot be paid on `invoice` as it stands, or nil.
    public static func paymentProblem(_ amount: Decimal, _ invoice: Invoice) -> String? {
        if amount <= 0 { return "amount: must be more than zero" }
        if amount > invoice.balance {
            return
                "amount: \(Invoice.text(amount)) \(invoice.currency) is more than the balance of \(Invoice.text(invoice.balance)) \(invoice.currency)"
        }
        return nil
    }

    /// The verdict for a line that is probably one already stored (the same end-to-end id,
    /// amount and debtor: a notification, then the statement booking it, with different
    /// bank references), or that pays what a person already recorded by hand: nil when
    /// neither. `twin` is the stored line's id; `manual` the invoice and day of a payment
    /// recorded without a line, of the same amount, that this line then accounts for.
    public static func earlier(
        _ verdict: Lettrage.Verdict, line: BankLine, twin: String?, manual: (invoice: String, day: String)?
    ) -> Lettrage.Verdict? {
        if let twin {
            return Lettrage.Verdict(
                step: verdict.step, payerRef: verdict.payerRef,
                outcome: .review(.possibleDuplicate, candidates: [twin]),
                note:
                    "line \(twin) has the same end-to-end id, amount and debtor: the same movement reported twice? nothing applied"
            )
        }
        if let manual {
            return Lettrage.Verdict(
                step: verdict.step, payerRef: verdict.payerRef,
                outcome: .apply([Lettrage.Allocation(invoiceRef: manual.invoice, amount: line.amount)]),
                note:
                    "\(Invoice.text(line.amount)) \(line.currency) for invoice \(manual.invoice) was recorded by hand on \(manual.day): linked to this line, not recorded again"
            )
        }
        return nil
    }

    /// The invoice a verdict would pay in full or in part, alone: what a payment recorded
    /// by hand can account for.
    public static func soleInvoice(_ verdict: Lettrage.Verdict) -> String? {
        switch verdict.outcome {
        case .apply(let allocations) where allocations.count == 1: allocations[0].invoiceRef
        case .review(.alreadyPaid, let candidates) where candidates.count == 1: candidates[0]
        default: nil
        }
    }

    /// The day a payment from `line` counts as made: its value date, else its booking date.
    public static func paidOn(_ line: BankLine, today: String) -> String {
        line.valueDate ?? line.bookingDate ?? today
    }
}
