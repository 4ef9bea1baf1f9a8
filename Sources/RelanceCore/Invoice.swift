import Foundation

/// An invoice Relance looks after: its number is the `case_ref` of every job about it.
/// Messages about it render from its state at dispatch time (a partial payment shows
/// in the next reminder), not from a snapshot taken when the jobs were scheduled.
public struct Invoice: Sendable, Equatable {
    public var ref: String
    public var payerRef: String
    public var scenario: String
    public var currency: String
    public var amount: Decimal
    public var balance: Decimal
    /// YYYY-MM-DD.
    public var issueDate: String
    public var dueDate: String
    public var status: InvoiceStatus
    public var paidAt: String?
    /// While held (dispute, promise to pay): until when, and why.
    public var holdUntil: String?
    public var holdReason: String?
    /// The ISO 11649 creditor reference (`RF…`) a payer gives with a transfer, assigned
    /// when the invoice is registered (`RFReference.candidates(forInvoice:)`).
    public var reference: String?

    public init(
        ref: String, payerRef: String, scenario: String, currency: String, amount: Decimal, balance: Decimal,
        issueDate: String, dueDate: String, status: InvoiceStatus = .open, paidAt: String? = nil,
        holdUntil: String? = nil,
        holdReason: String? = nil, reference: String? = nil
    ) {
        self.reference = reference
        self.holdUntil = holdUntil
        self.holdReason = holdReason
        self.ref = ref
        self.payerRef = payerRef
        self.scenario = scenario
        self.currency = currency
        self.amount = amount
        self.balance = balance
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.status = status
        self.paidAt = paidAt
    }

    /// `1250.5` → `"1250.50"`: the decimal-string convention of job data (rounded half to
    /// even), with `decimals` digits after the point (a currency's minor unit: JPY 0).
    public static func text(_ value: Decimal) -> String { text(value, decimals: 2) }

    /// The same with `decimals` digits after the point.
    public static func text(_ value: Decimal, decimals: Int) -> String {
        var rounded = Decimal()
        var input = value
        NSDecimalRound(&rounded, &input, decimals, .bankers)
        // Decimal's description is locale-free ("1250.5", "-3", "0.07"): pad it to `decimals`.
        var digits = rounded.description
        guard decimals > 0 else { return digits }
        if let dot = digits.firstIndex(of: ".") {
            digits += String(repeating: "0", count: max(0, decimals - digits[digits.index(after: dot)...].count))
        } else {
            digits += "." + String(repeating: "0", count: decimals)
        }
        return digits
    }

    /// An amount written like `1250.00`: ASCII digits with an optional fraction, nothing else.
    public static func parseAmount(_ text: String) -> Decimal? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    func money(_ value: Decimal) -> JSONValue {
        .object(["amount": .string(Self.text(value)), "currency": .string(currency)])
    }

    /// The template data of a message about this invoice, as it stands now. `extra` keeps
    /// what the job itself carries (a payment for `thanks`, a deadline…).
    public func templateData(extra: [String: JSONValue] = [:]) -> JSONValue {
        Self.templateData([self], extra: extra)
    }

    /// The data field naming the registered invoice a job is about: a scenario's job, whose
    /// invoices and total are read from the invoice when it is sent (docs/SCENARIOS.md).
    public static let dataKey = "invoice_ref"

    /// Whether job data (JSON text) names a registered invoice. A byte search, not a parse:
    /// it runs for every job claimed; the dispatcher parses the data when it does.
    public static func isAboutInvoice(data: String) -> Bool {
        data.containsBytes(quotedDataKey)
    }

    /// `dataKey` with its quotes, as it appears in JSON text (and in SQL's `instr`).
    public static let quotedDataKey = "\"" + dataKey + "\""

    /// One message about several invoices of a payer (same currency): all listed, the total due summed.
    public static func templateData(_ invoices: [Invoice], extra: [String: JSONValue] = [:]) -> JSONValue {
        var data = extra
        guard let first = invoices.first else { return .object(data) }
        data[dataKey] = .string(first.ref)
        data["invoices"] = .array(
            invoices.map {
                var fields: [String: JSONValue] = [
                    "number": .string($0.ref), "issue_date": .string($0.issueDate), "due_date": .string($0.dueDate),
                    "amount": $0.money($0.amount), "balance": $0.money($0.balance),
                ]
                if let reference = $0.reference {
                    fields["payment_reference"] = .string(RFReference.display(reference))
                }
                return .object(fields)
            })
        // One invoice, one reference to give with the transfer; several are named by their
        // numbers (`invoice_numbers`), as one transfer carries one reference.
        // Rebuilt from scratch: `extra` may carry the reference of the one invoice the job was
        // scheduled for, and a message about several must not ask for it with their total.
        data["payment_reference"] = nil
        if invoices.count == 1, let reference = first.reference {
            data["payment_reference"] = .string(RFReference.display(reference))
        }
        data["total_due"] = first.money(invoices.reduce(Decimal(0)) { $0 + $1.balance })
        return .object(data)
    }
}
