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
        /// Its date cannot be a payment's (outside 1990–2999).
        case invalid
        /// Another line already stored has the same end-to-end id, amount and debtor: the
        /// same movement reported twice (a notification, then the statement)?
        case possibleDuplicate = "possible_duplicate"
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
        /// The payers earlier lines from the debtor's IBAN were matched to (read whatever
        /// the rule: an invoice number of another payer's is then not taken on its own).
        public var ibanPayers: [String]
        /// The text names more invoices than are read.
        public var tooManyNumbers: Bool

        public init(
            byReference: [Invoice] = [], byNumber: [Invoice] = [], byIBAN: [(payerRef: String, open: [Invoice])] = [],
            ibanPayers: [String] = [], tooManyNumbers: Bool = false
        ) {
            self.byReference = byReference
            self.byNumber = byNumber
            self.byIBAN = byIBAN
            self.ibanPayers = ibanPayers
            self.tooManyNumbers = tooManyNumbers
        }
    }

    public static func decide(_ line: BankLine, _ found: Candidates) -> Verdict {
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        if line.reversal {
            return Verdict(
                step: nil, payerRef: nil, outcome: .review(.reversal, candidates: []),
                note: line.direction == .debit
                    ? "the bank took back a credit of \(amount): a payment recorded from it may have to be undone by hand"
                    : "the bank reversed a movement of \(amount)")
        }
        let referenced = unique(found.byReference)
        if referenced.count == 1 {
            return single(line, referenced[0], step: .reference, how: "reference \(referenced[0].reference ?? "")")
        }
        if referenced.count > 1 { return several(line, referenced, step: .reference) }
        if found.tooManyNumbers {
            return Verdict(
                step: .invoiceNumber, payerRef: nil, outcome: .review(.ambiguous, candidates: []),
                note: "the text names more invoice numbers than are read: \(line.remittance.prefix(80))")
        }
        let named = unique(found.byNumber)
        // A number alone is weak evidence: not when the debtor's IBAN is known for another payer.
        if !named.isEmpty, !found.ibanPayers.isEmpty,
            let stranger = named.first(where: { !found.ibanPayers.contains($0.payerRef) })
        {
            return Verdict(
                step: .invoiceNumber, payerRef: nil, outcome: .review(.ambiguous, candidates: named.map(\.ref)),
                note:
                    "\(amount) names invoice \(stranger.ref) of payer \(stranger.payerRef), but comes from an IBAN known for \(found.ibanPayers.joined(separator: ", "))"
            )
        }
        if named.count == 1 { return single(line, named[0], step: .invoiceNumber, how: "invoice number") }
        if named.count > 1 { return several(line, named, step: .invoiceNumber) }
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
    static func several(_ line: BankLine, _ invoices: [Invoice], step: Step) -> Verdict {
        let refs = invoices.map(\.ref)
        let payers = Set(invoices.map(\.payerRef))
        let payer = payers.count == 1 ? payers.first : nil
        let amount = "\(Invoice.text(line.amount)) \(line.currency)"
        let open = invoices.filter { $0.status == .open && $0.balance > 0 }
        if invoices.contains(where: { $0.currency != line.currency }) {
            return Verdict(
                step: step, payerRef: payer, outcome: .review(.currency, candidates: refs),
                note: "\(amount) names invoices \(refs.joined(separator: ", ")), not all in \(line.currency)")
        }
        let total = open.reduce(Decimal(0)) { $0 + $1.balance }
        if !open.isEmpty, line.amount == total {
            return Verdict(
                step: step, payerRef: payer,
                outcome: .apply(open.map { Allocation(invoiceRef: $0.ref, amount: $0.balance) }),
                note:
                    "\(amount) pays invoices \(open.map(\.ref).joined(separator: ", ")) (\(step == .reference ? "references" : "invoice numbers"))"
            )
        }
        let reason: Review = open.isEmpty ? .alreadyPaid : (line.amount > total ? .overpayment : .ambiguous)
        return Verdict(
            step: step, payerRef: payer, outcome: .review(reason, candidates: refs),
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

    /// The shortest invoice number (in letters and digits) matched by the text alone: a
    /// number like `4521` is also an order, a quantity or a date part.
    public static let minimumNumberLength = 5

    /// The invoice numbers among `invoices` that `text` names as a word of its own, any
    /// case: words are split at spaces and at `,;:()[]{}"'`, and lose the `.-/_#` at their
    /// ends (`F-12` is in "F-12, F-13." but not in "F-12/1" or "F-123"). A number holding
    /// spaces is looked for as a run of words. Numbers of fewer than
    /// `minimumNumberLength` letters and digits are never found.
    public static func mentioned(_ invoices: [Invoice], in text: String) -> [Invoice] {
        let upper = text.uppercased()
        let words = Set(Self.words(upper))
        return invoices.filter { invoice in
            let number = invoice.ref.uppercased()
            guard
                number.unicodeScalars.filter(\.properties.isAlphabetic).count
                    + number.unicodeScalars.filter({ $0.properties.numericType != nil }).count >= minimumNumberLength
            else { return false }
            if number.contains(where: \.isWhitespace) { return containsAsWords(number, in: upper) }
            return words.contains(trimmed(number))
        }
    }

    static let separators: Set<Character> = [",", ";", ":", "(", ")", "[", "]", "{", "}", "\"", "'"]
    static let trimmable: Set<Character> = [".", "-", "/", "_", "#"]

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace || separators.contains($0) }).map { trimmed(String($0)) }
            .filter { !$0.isEmpty }
    }

    static func trimmed(_ word: String) -> String {
        var word = Substring(word)
        while let first = word.first, trimmable.contains(first) { word = word.dropFirst() }
        while let last = word.last, trimmable.contains(last) { word = word.dropLast() }
        return String(word)
    }

    /// `needle` in `haystack` with no letter or digit right before or after it.
    static func containsAsWords(_ needle: String, in haystack: String) -> Bool {
        var searchRange = haystack.startIndex..<haystack.endIndex
        while let range = haystack.range(of: needle, range: searchRange) {
            let before =
                range.lowerBound == haystack.startIndex ? nil : haystack[haystack.index(before: range.lowerBound)]
            let after = range.upperBound == haystack.endIndex ? nil : haystack[range.upperBound]
            if !(before?.isLetter ?? false || before?.isNumber ?? false)
                && !(after?.isLetter ?? false || after?.isNumber ?? false)
            {
                return true
            }
            searchRange = haystack.index(after: range.lowerBound)..<haystack.endIndex
        }
        return false
    }
}
