import Foundation
import Testing

@testable import RelanceCore

@Suite("Lettrage: which invoices a credit pays")
struct LettrageTests {
    static func invoice(
        _ ref: String, _ balance: Decimal, payer: String = "P1", currency: String = "EUR", paid: Bool = false
    ) -> Invoice {
        Invoice(
            ref: ref, payerRef: payer, scenario: "standard", currency: currency, amount: balance + 10,
            balance: paid ? 0 : balance, issueDate: "2026-10-01", dueDate: "2026-11-01", status: paid ? .paid : .open,
            reference: RFReference.candidates(forInvoice: ref).first?.text)
    }

    static func line(_ amount: Decimal, currency: String = "EUR", reversal: Bool = false) -> BankLine {
        BankLine(
            id: "L1", statementID: "S1", account: "FR7630006000011234567890189", direction: .credit, reversal: reversal,
            amount: amount, currency: currency)
    }

    typealias Case = (
        name: String, line: BankLine, found: Lettrage.Candidates, expected: Lettrage.Verdict.Outcome,
        step: Lettrage.Step?
    )

    static let a = invoice("F-1", 100)
    static let b = invoice("F-2", 50)
    static let c = invoice("F-3", 50)
    static let cases: [Case] = [
        (
            "full payment by reference", line(100), .init(byReference: [a]),
            .apply([.init(invoiceRef: "F-1", amount: 100)]), .reference
        ),
        (
            "partial payment by reference", line(40), .init(byReference: [a]),
            .apply([.init(invoiceRef: "F-1", amount: 40)]), .reference
        ),
        (
            "overpayment by reference", line(100.01), .init(byReference: [a]),
            .review(.overpayment, candidates: ["F-1"]), .reference
        ),
        (
            "another currency", line(100, currency: "CHF"), .init(byReference: [a]),
            .review(.currency, candidates: ["F-1"]), .reference
        ),
        (
            "invoice already paid", line(100), .init(byReference: [invoice("F-1", 100, paid: true)]),
            .review(.alreadyPaid, candidates: ["F-1"]), .reference
        ),
        (
            "the reference wins over numbers", line(50), .init(byReference: [b], byNumber: [a]),
            .apply([.init(invoiceRef: "F-2", amount: 50)]), .reference
        ),
        (
            "one invoice number", line(100), .init(byNumber: [a]), .apply([.init(invoiceRef: "F-1", amount: 100)]),
            .invoiceNumber
        ),
        (
            "two numbers, their total", line(150), .init(byNumber: [a, b]),
            .apply([.init(invoiceRef: "F-1", amount: 100), .init(invoiceRef: "F-2", amount: 50)]), .invoiceNumber
        ),
        (
            "two numbers, less than their total", line(120), .init(byNumber: [a, b]),
            .review(.ambiguous, candidates: ["F-1", "F-2"]), .invoiceNumber
        ),
        (
            "two numbers, more than their total", line(151), .init(byNumber: [a, b]),
            .review(.overpayment, candidates: ["F-1", "F-2"]), .invoiceNumber
        ),
        (
            "two numbers, one paid: the open one's balance", line(50),
            .init(byNumber: [invoice("F-1", 100, paid: true), b]), .apply([.init(invoiceRef: "F-2", amount: 50)]),
            .invoiceNumber
        ),
        (
            "the same number twice is one", line(100), .init(byNumber: [a, a]),
            .apply([.init(invoiceRef: "F-1", amount: 100)]), .invoiceNumber
        ),
        (
            "known IBAN, the amount of one open invoice", line(100), .init(byIBAN: [("P1", [a, b])]),
            .apply([.init(invoiceRef: "F-1", amount: 100)]), .ibanAmount
        ),
        (
            "known IBAN, two invoices of that amount", line(50), .init(byIBAN: [("P1", [a, b, c])]),
            .review(.ambiguous, candidates: ["F-2", "F-3"]), .ibanAmount
        ),
        (
            "known IBAN, the total due", line(200), .init(byIBAN: [("P1", [a, b, c])]),
            .apply([
                .init(invoiceRef: "F-1", amount: 100), .init(invoiceRef: "F-2", amount: 50),
                .init(invoiceRef: "F-3", amount: 50),
            ]), .ibanTotal
        ),
        (
            "known IBAN, another amount", line(70), .init(byIBAN: [("P1", [a, b])]),
            .review(.noMatch, candidates: ["F-1", "F-2"]), nil
        ),
        (
            "known IBAN, invoices in another currency", line(100, currency: "USD"), .init(byIBAN: [("P1", [a])]),
            .review(.currency, candidates: ["F-1"]), nil
        ),
        (
            "an IBAN two payers used", line(100), .init(byIBAN: [("P1", [a]), ("P2", [])]),
            .review(.ambiguous, candidates: ["P1", "P2"]), nil
        ),
        ("nothing known", line(100), .init(), .review(.noMatch, candidates: []), nil),
        (
            "a reversal is never applied", line(100, reversal: true), .init(byReference: [a]),
            .review(.reversal, candidates: []), nil
        ),
    ]

    @Test("each rule, in order", arguments: cases)
    func decides(_ example: Case) {
        let verdict = Lettrage.decide(example.line, example.found)
        #expect(verdict.outcome == example.expected, "\(example.name): \(verdict.note)")
        #expect(verdict.step == example.step, "\(example.name)")
        #expect(!verdict.note.isEmpty)
    }

    @Test("invoice numbers are found as words of their own, and short ones never")
    func mentions() {
        let invoices = [
            Self.invoice("F-2026-12", 1), Self.invoice("F-2026-123", 1), Self.invoice("2026-12", 1),
            Self.invoice("4521", 1), Self.invoice("FA 2026 7", 1), Self.invoice("Z-300", 1), Self.invoice("Z-300-1", 1),
        ]
        func found(_ text: String) -> [String] { Lettrage.mentioned(invoices, in: text).map(\.ref) }
        #expect(found("Paiement facture f-2026-123") == ["F-2026-123"])
        #expect(found("F-2026-12, F-2026-123.") == ["F-2026-12", "F-2026-123"])
        #expect(found("(F-2026-12)") == ["F-2026-12"])
        // Inside a longer word: a date, a sub-number, another number.
        #expect(found("commande du 2026-12-03") == [])
        #expect(found("F-2026-12/1 XF-2026-12 F-2026-1234") == [])
        #expect(found("Z-300-1") == ["Z-300-1"])
        // Too short to be told from an order number or a quantity.
        #expect(found("Commande 4521 livraison") == [])
        // A number with spaces, as a run of words.
        #expect(found("ref FA 2026 7 merci") == ["FA 2026 7"])
        #expect(found("ref FA 2026 77") == [])
        #expect(found("") == [])
    }

    @Test("several references, too many numbers, a number of another payer's than the IBAN's")
    func weakEvidence() {
        let other = Self.invoice("F-9", 100, payer: "P2")
        var verdict = Lettrage.decide(Self.line(150), .init(byReference: [Self.a, Self.b]))
        #expect(
            verdict.outcome == .apply([.init(invoiceRef: "F-1", amount: 100), .init(invoiceRef: "F-2", amount: 50)]))
        #expect(verdict.step == .reference)
        verdict = Lettrage.decide(Self.line(100), .init(byReference: [Self.a, Self.b]))
        #expect(verdict.outcome == .review(.ambiguous, candidates: ["F-1", "F-2"]))
        verdict = Lettrage.decide(Self.line(100), .init(byNumber: [Self.a], tooManyNumbers: true))
        #expect(verdict.outcome == .review(.ambiguous, candidates: []))
        verdict = Lettrage.decide(Self.line(100), .init(byNumber: [other], ibanPayers: ["P1"]))
        #expect(verdict.outcome == .review(.ambiguous, candidates: ["F-9"]), "\(verdict.note)")
        verdict = Lettrage.decide(Self.line(100), .init(byNumber: [Self.a], ibanPayers: ["P1"]))
        #expect(verdict.outcome == .apply([.init(invoiceRef: "F-1", amount: 100)]))
    }
}
