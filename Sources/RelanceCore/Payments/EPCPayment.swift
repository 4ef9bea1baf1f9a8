import Foundation

/// A SEPA credit transfer as an EPC QR code carries it (EPC069-12, "Quick Response Code:
/// Guidelines to Enable Data Capture for the Initiation of a SEPA Credit Transfer", version
/// `002`, character set `1`, UTF-8). `payload()` checks every field and writes the text the
/// code holds; `RelanceQR` turns that text into the symbol.
///
/// Lengths are counted in Unicode scalars, as the banks' ISO 20022 messages count the
/// characters of these fields: a decomposed `é` (e + U+0301) counts two.
public struct EPCPayment: Sendable, Hashable {
    /// What the payer's bank passes on to the creditor: a creditor reference, or free text.
    /// The EPC allows one of them, never both.
    public enum Remittance: Sendable, Hashable {
        /// An ISO 11649 creditor reference (field 10, at most 35 characters).
        case structured(RFReference)
        /// Free text (field 11, at most 140 characters).
        case unstructured(String)
    }

    /// The beneficiary's name (field 6): 1 to 70 characters.
    public var name: String
    /// The beneficiary's account (field 7).
    public var iban: IBAN
    /// The beneficiary's bank (field 5): 8 or 11 characters (ISO 9362), upper case. Optional
    /// in version 002 when payer and beneficiary are in the EEA.
    public var bic: String?
    /// In euros (field 8): 0.01 to 999999999.99, at most two decimals.
    public var amount: Decimal
    /// Field 10 or 11; nil for none.
    public var remittance: Remittance?
    /// An ISO 20022 purpose code (field 9): four letters A–Z, such as `CHAR` or `GDDS`.
    public var purpose: String?
    /// Beneficiary to originator information (field 12): at most 70 characters, shown to
    /// the payer, not passed on with the transfer.
    public var information: String?

    public init(
        name: String, iban: IBAN, bic: String? = nil, amount: Decimal, remittance: Remittance? = nil,
        purpose: String? = nil, information: String? = nil
    ) {
        self.name = name
        self.iban = iban
        self.bic = bic
        self.amount = amount
        self.remittance = remittance
        self.purpose = purpose
        self.information = information
    }

    /// The longest payload the EPC allows, in bytes.
    public static let maxPayloadBytes = 331
    /// The field limits, in characters.
    public static let maxName = 70
    public static let maxStructured = 35
    public static let maxUnstructured = 140
    public static let maxInformation = 70
    public static let minAmount = Decimal(string: "0.01")!
    public static let maxAmount = Decimal(string: "999999999.99")!

    /// `BCD`, `002`, `1`, `SCT`, BIC, name, IBAN, `EUR` + amount, purpose, creditor
    /// reference, text, information, one a line (LF), without the empty lines at the end.
    public func payload() throws(EPCPaymentError) -> String {
        // In the order of the fields: the first wrong one is the one reported.
        try checkBIC()
        try checkName()
        let amountText = try checkedAmount()
        try checkPurpose()
        var structured = ""
        var unstructured = ""
        switch remittance {
        case .structured(let reference):
            // An RFReference is at most 25 characters; the field allows 35.
            guard reference.text.unicodeScalars.count <= Self.maxStructured else {
                throw EPCPaymentError(
                    .remittance, "the creditor reference has more than \(Self.maxStructured) characters")
            }
            structured = reference.text
        case .unstructured(let text):
            try Self.checkText(text, field: .remittance, what: "the remittance text", limit: Self.maxUnstructured)
            unstructured = text
        case nil:
            break
        }
        if let information {
            try Self.checkText(
                information, field: .information, what: "the information for the payer", limit: Self.maxInformation)
        }
        var lines = [
            "BCD", "002", "1", "SCT", bic ?? "", name, iban.text, "EUR" + amountText, purpose ?? "", structured,
            unstructured, information ?? "",
        ]
        while lines.last?.isEmpty == true { lines.removeLast() }
        let text = lines.joined(separator: "\n")
        let bytes = text.utf8.count
        guard bytes <= Self.maxPayloadBytes else {
            throw EPCPaymentError(
                .payload,
                "the EPC QR payload is \(bytes) bytes in UTF-8, over the \(Self.maxPayloadBytes) the EPC allows: "
                    + "shorten the name, the remittance text or the information")
        }
        return text
    }

    /// `12.3` → `12.30`, after the range and the decimals are checked.
    func checkedAmount() throws(EPCPaymentError) -> String {
        guard amount >= Self.minAmount, amount <= Self.maxAmount else {
            throw EPCPaymentError(
                .amount, "the amount \(amount) EUR is outside the EPC's range of 0.01 to 999999999.99 EUR")
        }
        var rounded = Decimal()
        var input = amount
        NSDecimalRound(&rounded, &input, 2, .plain)
        guard rounded == amount else {
            throw EPCPaymentError(.amount, "the amount \(amount) EUR has more than two decimals (cents)")
        }
        return Invoice.text(amount, decimals: 2)
    }

    func checkName() throws(EPCPaymentError) {
        guard name.contains(where: { !$0.isWhitespace }) else {
            throw EPCPaymentError(.name, "the beneficiary's name is empty: the EPC requires one")
        }
        try Self.checkText(name, field: .name, what: "the beneficiary's name", limit: Self.maxName)
    }

    func checkBIC() throws(EPCPaymentError) {
        guard let bic else { return }
        let bytes = Array(bic.utf8)
        let letter = { (byte: UInt8) in (65...90).contains(byte) }
        let alnum = { (byte: UInt8) in (65...90).contains(byte) || (48...57).contains(byte) }
        guard bytes.count == 8 || bytes.count == 11 else {
            throw EPCPaymentError(
                .bic, "the BIC \(Self.quoted(bic)) has \(bic.unicodeScalars.count) characters, not 8 or 11 (ISO 9362)")
        }
        guard bytes[0..<6].allSatisfy(letter), bytes[6...].allSatisfy(alnum) else {
            throw EPCPaymentError(
                .bic,
                "the BIC \(Self.quoted(bic)) is not 6 upper-case letters (bank, country) then 2 or 5 upper-case "
                    + "letters or digits (ISO 9362)")
        }
    }

    func checkPurpose() throws(EPCPaymentError) {
        guard let purpose else { return }
        guard purpose.utf8.count == 4, purpose.utf8.allSatisfy({ (65...90).contains($0) }) else {
            throw EPCPaymentError(
                .purpose,
                "the purpose \(Self.quoted(purpose)) is not an ISO 20022 purpose code: four upper-case letters A-Z")
        }
    }

    /// A free-text field: not blank, at most `limit` characters, on one line, and only
    /// characters a bank can carry (no control, line-separator, private-use or unassigned
    /// code point: a line break would shift every field that follows).
    static func checkText(_ text: String, field: EPCPaymentError.Field, what: String, limit: Int)
        throws(EPCPaymentError)
    {
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw EPCPaymentError(field, "\(what) is empty: leave it out (nil) instead")
        }
        let count = text.unicodeScalars.count
        guard count <= limit else {
            throw EPCPaymentError(field, "\(what) has \(count) characters, over the \(limit) the EPC allows")
        }
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            let digits = String(scalar.value, radix: 16, uppercase: true)
            let hex = "U+" + String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator:
                let kind = lineBreaks.contains(scalar.value) ? "a line break" : "a control character"
                throw EPCPaymentError(
                    field,
                    "\(what) holds \(kind) (\(hex)) at character \(offset + 1): each EPC field is one line of text")
            case .privateUse, .surrogate, .unassigned:
                throw EPCPaymentError(
                    field,
                    "\(what) holds \(hex) at character \(offset + 1), a code point that is private or not a "
                        + "character: the payer's bank could not show it")
            default:
                continue
            }
        }
    }

    /// LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR.
    static let lineBreaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029]

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            out += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return out + "\""
    }
}

/// A field an EPC QR code cannot carry: which one, and what is wrong with it.
public struct EPCPaymentError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Field: String, Sendable, Equatable {
        case name, bic, amount, purpose, remittance, information
        /// The whole text (its length in bytes).
        case payload
    }

    public var field: Field
    public var message: String

    public init(_ field: Field, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "EPC QR code: \(message)" }
}
