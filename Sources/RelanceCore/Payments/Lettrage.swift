import Foundation

/// Lettrage: which open invoices a credit on the bank statement pays. The rules are
/// tried in order and the first that names invoices decides; what is ambiguous, too
/// much, in another currency or for an invoice already paid is listed for a person to
/// review, never guessed (docs/PAYMENTS.md).
public enum Lettrage {
    /// The rule that matched a line.
    public enum Step: String, Sendable, CaseIterable {
        /// The invoice's creditor reference (RF), structured or found in the text.
        case reference
        /// Invoice numbers found in the remittance information.
        case invoiceNumber = "invoice_number"
        /// The payer's known IBAN, with the amount of one open invoice.
        case ibanAmount = "iban_amount"
        /// The payer's known IBAN, with the payer's total due.
        case ibanTotal = "iban_total"
    }

    /// Why a line waits for review.
    public enum Review: String, Sendable, CaseIterable {
        /// No rule found an invoice.
        case noMatch = "no_match"
        /// Several invoices or payers fit, and the amount does not say which.
        case ambiguous
        /// More than the invoice's balance (or the invoices' total).
        case overpayment
        /// Not in the invoice's currency.
        case currency
        /// The invoice named is already paid.
        case alreadyPaid = "already_paid"
        /// The bank reversed a movement.
        case reversal
    }

    public struct Allocation: Sendable, Equatable {
        public var invoiceRef: String
        public var amount: Decimal
        public init(invoiceRef: String, amount: Decimal) {
            self.invoiceRef = invoiceRef
            self.amount = amount
        }
    }

    /// What to do with a line.
    public struct Verdict: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            /// Record these payments.
            case apply([Allocation])
            /// List the line for review; `candidates` are the invoices (or payers) it might be for.
            case review(Review, candidates: [String])
        }

        /// The rule that found the invoices (nil when none did).
        public var step: Step?
        public var payerRef: String?
        public var outcome: Outcome
        /// One sentence for the person reviewing, in English.
        public var note: String

        public init(step: Step?, payerRef: String?, outcome: Outcome, note: String) {
            self.step = step
            self.payerRef = payerRef
            self.outcome = outcome
            self.note = note
        }
    }

    /// What the store found for a line, rule by rule.
    public struct Candidates: Sendable {
        /// Invoices whose creditor reference the line gives, in the order given.
        public var byReference: [Invoice]
        /// Invoices whose number appears in the remittance information.
        public var byNumber: [Invoice]
        /// Payers earlier lines from the debtor's IBAN were matched to, with their open invoices.
        public var byIBAN: [(payerRef: String, open: [Invoice])]

        public init(
            byReference: [Invoice] = [], byNumber: [Invoice] = [], byIBAN: [(payerRef: String, open: [Invoice])] = []
        ) {
            self.byReference = byReference
            self.byNumber = byNumber
            self.byIBAN = byIBAN
        }
    }

    public static func decide(_ line: BankLine, _ found: Candidates) -> Verdict {
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        if line.reversal {
            return Verdict(
                step: nil, payerRef: nil, outcome: .review(.reversal, candidates: []),
                note: "the bank reversed a movement of \(amount)")
        }
        if let invoice = found.byReference.first {
            return single(line, invoice, step: .reference, how: "reference \(invoice.reference ?? "")")
        }
        let named = unique(found.byNumber)
        if named.count == 1 { return single(line, named[0], step: .invoiceNumber, how: "invoice number") }
        if named.count > 1 { return several(line, named) }
        let payers = found.byIBAN
        if payers.count > 1 {
            return Verdict(
                step: nil, payerRef: nil, outcome: .review(.ambiguous, candidates: payers.map(\.payerRef).sorted()),
                note:
                    "the IBAN has paid the invoices of several payers: \(payers.map(\.payerRef).sorted().joined(separator: ", "))"
            )
        }
        if let (payer, open) = payers.first {
            return byIBAN(line, payer: payer, open: unique(open))
        }
        return Verdict(
            step: nil, payerRef: nil, outcome: .review(.noMatch, candidates: []),
            note: "no reference, invoice number or known IBAN identifies the \(amount)")
    }

    /// Each invoice once, in the order first seen.
    static func unique(_ invoices: [Invoice]) -> [Invoice] {
        var seen: Set<String> = []
        return invoices.filter { seen.insert($0.ref).inserted }
    }

    static func single(_ line: BankLine, _ invoice: Invoice, step: Step, how: String) -> Verdict {
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        func review(_ reason: Review, _ note: String) -> Verdict {
            Verdict(
                step: step, payerRef: invoice.payerRef, outcome: .review(reason, candidates: [invoice.ref]), note: note)
        }
        if invoice.currency != line.currency {
            return review(.currency, "\(amount) for invoice \(invoice.ref), which is in \(invoice.currency)")
        }
        if invoice.status == .paid || invoice.balance <= 0 {
            return review(.alreadyPaid, "\(amount) for invoice \(invoice.ref), already paid")
        }
        if line.amount > invoice.balance {
            return review(
                .overpayment,
                "\(amount) for invoice \(invoice.ref), whose balance is \(Invoice.text(invoice.balance)) \(invoice.currency)"
            )
        }
        let kind = line.amount == invoice.balance ? "pays" : "pays part of"
        return Verdict(
            step: step, payerRef: invoice.payerRef,
            outcome: .apply([Allocation(invoiceRef: invoice.ref, amount: line.amount)]),
            note: "\(amount) \(kind) invoice \(invoice.ref) (\(how))")
    }

    /// Several invoice numbers in the text: applied only when the amount is exactly their
    /// open balances' total, each then paid in full.
    static func several(_ line: BankLine, _ invoices: [Invoice]) -> Verdict {
        let refs = invoices.map(\.ref)
        let payers = Set(invoices.map(\.payerRef))
        let payer = payers.count == 1 ? payers.first : nil
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        let open = invoices.filter { $0.status == .open && $0.balance > 0 }
        if invoices.contains(where: { $0.currency != line.currency }) {
            return Verdict(
                step: .invoiceNumber, payerRef: payer, outcome: .review(.currency, candidates: refs),
                note: "\(amount) names invoices \(refs.joined(separator: ", ")), not all in \(line.currency)")
        }
        let total = open.reduce(Decimal(0)) { $0 + $1.balance }
        if !open.isEmpty, line.amount == total {
            return Verdict(
                step: .invoiceNumber, payerRef: payer,
                outcome: .apply(open.map { Allocation(invoiceRef: $0.ref, amount: $0.balance) }),
                note: "\(amount) pays invoices \(open.map(\.ref).joined(separator: ", ")) (invoice numbers)")
        }
        let reason: Review = open.isEmpty ? .alreadyPaid : (line.amount > total ? .overpayment : .ambiguous)
        return Verdict(
            step: .invoiceNumber, payerRef: payer, outcome: .review(reason, candidates: refs),
            note:
                "\(amount) names invoices \(refs.joined(separator: ", ")), whose open balances add up to \(Invoice.text(total)) \(line.currency)"
        )
    }

    static func byIBAN(_ line: BankLine, payer: String, open: [Invoice]) -> Verdict {
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        let due = open.filter { $0.status == .open && $0.balance > 0 }
        let same = due.filter { $0.currency == line.currency }
        let exact = same.filter { $0.balance == line.amount }
        if exact.count == 1 {
            return Verdict(
                step: .ibanAmount, payerRef: payer,
                outcome: .apply([Allocation(invoiceRef: exact[0].ref, amount: line.amount)]),
                note: "\(amount) from payer \(payer)'s IBAN pays invoice \(exact[0].ref), the one open for that amount")
        }
        if exact.count > 1 {
            return Verdict(
                step: .ibanAmount, payerRef: payer, outcome: .review(.ambiguous, candidates: exact.map(\.ref)),
                note: "\(amount) from payer \(payer)'s IBAN: \(exact.count) open invoices are for that amount")
        }
        let total = same.reduce(Decimal(0)) { $0 + $1.balance }
        if same.count > 1, total == line.amount {
            return Verdict(
                step: .ibanTotal, payerRef: payer,
                outcome: .apply(same.map { Allocation(invoiceRef: $0.ref, amount: $0.balance) }),
                note:
                    "\(amount) from payer \(payer)'s IBAN is the total due: pays \(same.map(\.ref).joined(separator: ", "))"
            )
        }
        if !due.isEmpty, same.isEmpty {
            return Verdict(
                step: nil, payerRef: payer, outcome: .review(.currency, candidates: due.map(\.ref)),
                note: "\(amount) from payer \(payer)'s IBAN, whose open invoices are in another currency")
        }
        return Verdict(
            step: nil, payerRef: payer, outcome: .review(.noMatch, candidates: same.map(\.ref)),
            note:
                "\(amount) from payer \(payer)'s IBAN matches neither one open invoice nor the total due (\(Invoice.text(total)) \(line.currency))"
        )
    }

    /// The invoice numbers among `invoices` that `text` names as a word of its own: not
    /// inside a longer run of letters and digits (`F-12` is not in `F-123`), any case.
    public static func mentioned(_ invoices: [Invoice], in text: String) -> [Invoice] {
        let haystack = Array(text.uppercased().utf8)
        return invoices.filter { invoice in
            let needle = Array(invoice.ref.uppercased().utf8)
            guard !needle.isEmpty, needle.count <= haystack.count else { return false }
            var start = 0
            while start + needle.count <= haystack.count {
                if haystack[start..<(start + needle.count)].elementsEqual(needle) {
                    let before = start == 0 ? nil : haystack[start - 1]
                    let after = start + needle.count == haystack.count ? nil : haystack[start + needle.count]
                    let isWord = { (byte: UInt8?) in byte.map { RFReference.isAlnum($0) || $0 >= 0x80 } ?? false }
                    if !(isWord(before) && RFReference.isAlnum(needle[0]))
                        && !(isWord(after) && RFReference.isAlnum(needle[needle.count - 1]))
                    {
                        return true
                    }
                }
                start += 1
            }
            return false
        }
    }
}
