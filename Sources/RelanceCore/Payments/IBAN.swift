/// An International Bank Account Number (ISO 13616): country code, two check digits,
/// then up to 30 letters or digits. Stored upper case without spaces.
public struct IBAN: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    /// The length of each SEPA country's IBAN (the register's figures); a country not
    /// listed is held to 15–34 characters.
    static let lengths: [String: Int] = [
        "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
        "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
        "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
        "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
    ]

    /// Nil when `written` is not an IBAN; `problem(_:)` says why.
    public init?(_ written: some StringProtocol) {
        guard case .success(let iban) = Self.read(written) else { return nil }
        self = iban
    }

    private init(checked: String) { text = checked }

    /// Why `written` is not an IBAN, or nil.
    public static func problem(_ written: some StringProtocol) -> String? {
        if case .failure(let problem) = read(written) { return problem.message }
        return nil
    }

    struct Problem: Error { let message: String }

    static func read(_ written: some StringProtocol) -> Result<IBAN, Problem> {
        var bytes: [UInt8] = []
        for byte in written.utf8 where byte != UInt8(ascii: " ") {
            bytes.append((UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte)
        }
        guard bytes.count >= 5, bytes.count <= 34 else {
            return .failure(Problem(message: "an IBAN has 15 to 34 letters and digits, not \(bytes.count)"))
        }
        guard bytes[0...1].allSatisfy({ (65...90).contains($0) }), bytes[2...3].allSatisfy({ (48...57).contains($0) })
        else { return .failure(Problem(message: "an IBAN starts with a country code and two check digits")) }
        let country = String(decoding: bytes[0...1], as: UTF8.self)
        if let length = lengths[country], bytes.count != length {
            return .failure(Problem(message: "an IBAN of \(country) has \(length) characters, not \(bytes.count)"))
        }
        if lengths[country] == nil, bytes.count < 15 {
            return .failure(Problem(message: "an IBAN has 15 to 34 letters and digits, not \(bytes.count)"))
        }
        guard let remainder = Mod97.remainder(bytes[4...] + bytes[0...3]) else {
            return .failure(Problem(message: "an IBAN holds only letters and digits"))
        }
        guard remainder == 1 else { return .failure(Problem(message: "the IBAN's check digits are wrong")) }
        return .success(IBAN(checked: String(decoding: bytes, as: UTF8.self)))
    }

    public var country: Substring { text.prefix(2) }

    /// Whether the account is in a country of the SEPA scheme (the EPC QR code is for SEPA
    /// credit transfers): the countries of `lengths`.
    public var isSEPA: Bool { Self.lengths[String(country)] != nil }

    /// In groups of four: `FR76 3000 6000 0112 3456 7890 189`.
    public var grouped: String { GroupsOfFour.text(text) }

    public var description: String { text }
}

/// A BIC (ISO 9362): 4 letters for the bank, 2 for the country, 2 letters or digits for
/// the place, and optionally 3 for the branch.
public enum BankIdentifierCode {
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 8 || bytes.count == 11 else { return false }
        let letter = { (b: UInt8) in (65...90).contains(b) }
        let alnum = { (b: UInt8) in (65...90).contains(b) || (48...57).contains(b) }
        return bytes[0..<6].allSatisfy(letter) && bytes[6...].allSatisfy(alnum)
    }
}
