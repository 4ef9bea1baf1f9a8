import Foundation

/// One movement read from a bank statement (an ISO 20022 camt.053 entry, or one
/// transaction of a batch entry): what lettrage needs to find the invoice it pays.
public struct BankLine: Sendable, Equatable {
    public enum Direction: String, Sendable {
        case credit
        case debit
    }

    /// Stable across imports of the same statement, and of a notification (camt.054) and
    /// the statement that books it later: the bank's own reference for the movement
    /// (`AcctSvcrRef`) when it gives one, prefixed by the account; otherwise a digest of
    /// the statement's id, the entry's place and its content. Importing a line whose id
    /// is already stored changes nothing.
    public var id: String
    /// The statement's or notification's `Id`.
    public var statementID: String
    /// The creditor's account the statement is about (IBAN, or the bank's other id).
    public var account: String
    public var direction: Direction
    /// A reversal (`RvslInd`): never applied, listed for review.
    public var reversal: Bool
    /// Positive, in `currency`'s units.
    public var amount: Decimal
    /// ISO 4217, upper case.
    public var currency: String
    /// YYYY-MM-DD, when the statement gives them.
    public var bookingDate: String?
    public var valueDate: String?
    public var debtorName: String?
    /// Upper case, no spaces.
    public var debtorIBAN: String?
    /// The payer's end-to-end id (`NOTPROVIDED` reads as nil).
    public var endToEndID: String?
    /// Structured remittance: the creditor reference the payer gave (`CdtrRefInf/Ref`).
    public var structuredReference: String?
    /// Unstructured remittance lines (`Ustrd`), as written.
    public var unstructured: [String]
    /// Booked (`BOOK`), pending (`PDNG`) or information only (`INFO`); nil when absent.
    public var status: String?

    public init(
        id: String, statementID: String, account: String, direction: Direction, reversal: Bool = false,
        amount: Decimal, currency: String, bookingDate: String? = nil, valueDate: String? = nil,
        debtorName: String? = nil, debtorIBAN: String? = nil, endToEndID: String? = nil,
        structuredReference: String? = nil, unstructured: [String] = [], status: String? = nil
    ) {
        self.id = id
        self.statementID = statementID
        self.account = account
        self.direction = direction
        self.reversal = reversal
        self.amount = amount
        self.currency = currency
        self.bookingDate = bookingDate
        self.valueDate = valueDate
        self.debtorName = debtorName
        self.debtorIBAN = debtorIBAN
        self.endToEndID = endToEndID
        self.structuredReference = structuredReference
        self.unstructured = unstructured
        self.status = status
    }

    /// The remittance information as one text: the structured reference, then the lines.
    public var remittance: String {
        ([structuredReference].compactMap { $0 } + unstructured).joined(separator: " ")
    }
}
