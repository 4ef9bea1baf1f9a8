import Foundation
import RelanceCore
import RelanceStore

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

    /// How many invoices whose number a line's text contains are read at most: a text
    /// naming more is listed for review.
    static let mentionLimit = 20

    public func importLines(_ lines: [BankLine]) async throws -> Report {
        var results: [LineResult] = []
        for line in lines { results.append(try await importLine(line)) }
        return Report(lines: results)
    }

    func importLine(_ line: BankLine) async throws -> LineResult {
        if line.direction == .debit {
            return LineResult(line: line, outcome: .skipped, stored: nil, payments: [], note: "a debit")
        }
        if let status = line.status, status != "BOOK" {
            return LineResult(
                line: line, outcome: .skipped, stored: nil, payments: [],
                note: "not booked (\(status)): imported when a statement books it")
        }
        let verdict = Lettrage.decide(line, try await candidates(for: line))
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
            let mentioned = try await store.invoices(mentionedIn: text, limit: Self.mentionLimit + 1)
            found.byNumber = Lettrage.mentioned(mentioned, in: text)
            if !found.byNumber.isEmpty { return found }
        }
        if let iban = line.debtorIBAN {
            for payer in try await store.payers(paying: iban) {
                found.byIBAN.append((payer, try await store.openInvoices(payerRef: payer)))
            }
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
