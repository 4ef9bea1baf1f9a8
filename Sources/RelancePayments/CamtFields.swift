import Foundation

/// The field rules of a camt document, read at one place of it: `label` names the
/// statement, entry and transaction in every message (`statement STMT-1, entry 3: `).
struct CamtFields {
    let doc: SafeXML.Document
    var label = ""

    /// ISO 20022 text lengths (Max35Text, Max140Text).
    static let idLength = 35
    static let nameLength = 140
    static let remittanceLength = 140

    func error(_ element: Int, _ reason: String) -> CamtError {
        let (line, column) = doc.position(of: element)
        return CamtError(line: line, column: column, path: doc.path(of: element), reason: label + reason)
    }

    /// A value quoted in a message: at most `limit` characters, control characters shown as `?`.
    static func quoted(_ value: String, limit: Int = 40) -> String {
        let scalars = value.unicodeScalars
        let shown = String(String.UnicodeScalarView(scalars.prefix(limit).map { isControl($0) ? "?" : $0 }))
        return "'" + shown + (scalars.count > limit ? "…'" : "'")
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    static func isXMLSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    /// The element's text without surrounding whitespace; nil when empty. Refused: a
    /// control character (tab and line breaks included) or more than `limit` characters.
    func text(_ element: Int, limit: Int) throws -> String? {
        let scalars = doc[element].text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isXMLSpace($0) }),
            let last = scalars.lastIndex(where: { !Self.isXMLSpace($0) })
        else { return nil }
        let value = String(String.UnicodeScalarView(scalars[first...last]))
        if let control = value.unicodeScalars.first(where: Self.isControl) {
            let code = String(control.value, radix: 16, uppercase: true)
            throw error(
                element,
                "<\(doc[element].name)> holds a control character (U+\(String(repeating: "0", count: 4 - code.count) + code))"
            )
        }
        let count = value.unicodeScalars.count
        guard count <= limit else {
            throw error(element, "<\(doc[element].name)> has \(count) characters, more than the \(limit) allowed")
        }
        return value
    }

    func optional(_ parent: Int?, _ path: String..., limit: Int) throws -> String? {
        guard let parent, let element = doc.first(parent, path: path) else { return nil }
        return try text(element, limit: limit)
    }

    func required(_ parent: Int, _ path: String..., limit: Int) throws -> String {
        guard let element = doc.first(parent, path: path) else {
            throw error(parent, "<\(doc[parent].name)> has no <\(path.joined(separator: "><"))>")
        }
        guard let value = try text(element, limit: limit) else {
            throw error(element, "<\(doc[element].name)> is empty")
        }
        return value
    }

    // MARK: Amounts and currencies

    /// ISO 4217 minor units of the currencies that do not take 2.
    static let minorUnits: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        "CLF": 4, "UYW": 4,
    ]

    static func isCurrency(_ code: String) -> Bool {
        code.utf8.count == 3 && code.utf8.allSatisfy { (0x41...0x5A).contains($0) }
    }

    func currency(_ code: String, at element: Int) throws -> String {
        guard Self.isCurrency(code) else {
            throw error(element, "the currency \(Self.quoted(code)) is not three upper-case letters (ISO 4217)")
        }
        return code
    }

    /// An `Amt` element: a positive decimal (ASCII digits, one optional `.`, at most 18
    /// digits, at most the currency's minor units after the point) and its `Ccy`.
    func amount(_ element: Int) throws -> (amount: Decimal, currency: String) {
        guard let code = doc[element].attribute("Ccy") else {
            throw error(element, "<\(doc[element].name)> has no Ccy attribute")
        }
        let currency = try currency(code.trimmingCharacters(in: .whitespaces), at: element)
        guard let written = try text(element, limit: 100) else { throw error(element, "the amount is empty") }
        let shown = Self.quoted(written)
        if written.hasPrefix("-") { throw error(element, "the amount \(shown) is negative") }
        if written.contains(where: { $0 == "e" || $0 == "E" }) {
            throw error(element, "the amount \(shown) has an exponent")
        }
        let parts = Array(written.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (48...57).contains($0) } })
        else {
            throw error(element, "the amount \(shown) is not ASCII digits with at most one '.' between them")
        }
        let integer = parts[0].drop { $0 == UInt8(ascii: "0") }
        let fraction = parts.count == 2 ? parts[1] : [][...]
        guard integer.count + fraction.count <= 18 else {
            throw error(element, "the amount \(shown) has more than 18 digits")
        }
        let allowed = Self.minorUnits[currency] ?? 2
        guard fraction.count <= allowed else {
            throw error(
                element, "the amount \(shown) has \(fraction.count) decimals; \(currency) takes at most \(allowed)")
        }
        var significand: UInt64 = 0
        for digit in Array(integer) + Array(fraction) { significand = significand * 10 + UInt64(digit - 48) }
        return (Decimal(sign: .plus, exponent: -fraction.count, significand: Decimal(significand)), currency)
    }

    // MARK: Dates

    /// A `BookgDt` or `ValDt` (DateAndDateTimeChoice): `Dt`, or the date part of `DtTm`.
    func date(_ choice: Int?) throws -> String? {
        guard let choice else { return nil }
        if let element = doc.first(choice, "Dt") { return try date(element, withTime: false) }
        if let element = doc.first(choice, "DtTm") { return try date(element, withTime: true) }
        throw error(choice, "<\(doc[choice].name)> has neither <Dt> nor <DtTm>")
    }

    /// YYYY-MM-DD, a real calendar date, from an ISODate (a time zone allowed after it) or
    /// an ISODateTime (`2024-03-01T10:15:00.000+01:00`).
    func date(_ element: Int, withTime: Bool) throws -> String {
        guard let written = try text(element, limit: 64) else {
            throw error(element, "<\(doc[element].name)> is empty")
        }
        let bytes = Array(written.utf8)
        let what = withTime ? "a date and time (YYYY-MM-DDThh:mm:ss)" : "a date (YYYY-MM-DD)"
        guard bytes.count >= 10, Self.isCalendarDate(bytes[0..<10]) else {
            throw error(element, "\(Self.quoted(written)) is not \(what)")
        }
        var rest = bytes[10...]
        if withTime {
            guard rest.first == UInt8(ascii: "T"), Self.isTime(rest.dropFirst().prefix(8)) else {
                throw error(element, "\(Self.quoted(written)) is not \(what)")
            }
            rest = rest.dropFirst(9)
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst()
                let digits = rest.prefix { (48...57).contains($0) }
                guard !digits.isEmpty else { throw error(element, "\(Self.quoted(written)) is not \(what)") }
                rest = rest.dropFirst(digits.count)
            }
        }
        guard Self.isZone(rest) else { throw error(element, "\(Self.quoted(written)) is not \(what)") }
        return String(decoding: bytes[0..<10], as: UTF8.self)
    }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    static func isCalendarDate(_ bytes: ArraySlice<UInt8>) -> Bool {
        let s = bytes.startIndex
        guard bytes.count == 10, bytes[s + 4] == UInt8(ascii: "-"), bytes[s + 7] == UInt8(ascii: "-"),
            let year = number(bytes[s..<(s + 4)]), let month = number(bytes[(s + 5)..<(s + 7)]),
            let day = number(bytes[(s + 8)..<(s + 10)]), year >= 1, (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    static func isTime(_ bytes: ArraySlice<UInt8>) -> Bool {
        let s = bytes.startIndex
        guard bytes.count == 8, bytes[s + 2] == UInt8(ascii: ":"), bytes[s + 5] == UInt8(ascii: ":"),
            let hour = number(bytes[s..<(s + 2)]), let minute = number(bytes[(s + 3)..<(s + 5)]),
            let second = number(bytes[(s + 6)..<(s + 8)])
        else { return false }
        return hour <= 24 && minute <= 59 && second <= 60
    }

    /// Nothing, `Z`, or `+hh:mm` / `-hh:mm`.
    static func isZone(_ bytes: ArraySlice<UInt8>) -> Bool {
        if bytes.isEmpty { return true }
        if bytes.count == 1 { return bytes.first == UInt8(ascii: "Z") }
        let s = bytes.startIndex
        guard bytes.count == 6, bytes[s] == UInt8(ascii: "+") || bytes[s] == UInt8(ascii: "-"),
            bytes[s + 3] == UInt8(ascii: ":"), let hour = number(bytes[(s + 1)..<(s + 3)]),
            let minute = number(bytes[(s + 4)..<(s + 6)])
        else { return false }
        return hour <= 14 && minute <= 59
    }

    // MARK: Accounts

    /// An IBAN as the schema's pattern has it (two letters, two digits, 1 to 30 letters or
    /// digits), upper-cased, spaces dropped. The check digits are not verified: a
    /// schema-valid statement is not refused for a payer's mistyped account.
    func iban(_ element: Int) throws -> String {
        guard let written = try text(element, limit: 64) else { throw error(element, "<IBAN> is empty") }
        let bytes = written.utf8.filter { $0 != 0x20 }.map { (0x61...0x7A).contains($0) ? $0 - 32 : $0 }
        let isUpper = { (b: UInt8) in (0x41...0x5A).contains(b) }
        let isDigit = { (b: UInt8) in (0x30...0x39).contains(b) }
        guard (5...34).contains(bytes.count), bytes[0..<2].allSatisfy(isUpper), bytes[2..<4].allSatisfy(isDigit),
            bytes[4...].allSatisfy({ isUpper($0) || isDigit($0) })
        else {
            throw error(
                element, "the IBAN \(Self.quoted(written)) is not two letters, two digits and 1 to 30 letters or digits"
            )
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
