/// A phone number in E.164 form ("+33612345678"), normalised from what people write.
///
/// Accepted forms:
/// - international: "+33612345678", "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78" (the "(0)" is
///   dropped, except for Italy and Côte d'Ivoire where the leading 0 belongs to the number),
///   "0033 6 12 34 56 78" (the 00 international prefix; 011 too for US and CA), and
///   "+330612345678" (the trunk 0 written after the country code, a common mistake, is dropped
///   for countries whose trunk prefix is 0);
/// - national, with the payer's country: "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78"
///   for FR; "(202) 555-0143" or "1 202 555 0143" for US.
///
/// Separators: spaces (also no-break and narrow no-break), dots, dashes, slashes and parentheses.
/// Anything else (a letter, a second '+') makes the number invalid. For a known calling code, the
/// length of the national significant number is checked against the country's plan; other
/// calling codes only need to be valid E.164 (8 to 15 digits, no leading 0).
///
/// France and its overseas departments (GP, BL, MF, MQ, GF, RE, YT) share one national numbering
/// plan: a national number such as "06 90 12 34 56" is a Guadeloupe mobile and becomes
/// "+590690123456", whichever of these countries is given; "06 12 34 56 78" becomes "+33612345678".
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    public let e164: String
    public var description: String { e164 }

    init(e164: String) { self.e164 = e164 }

    /// Reads a phone number written in any of the accepted forms. `country` (ISO 3166 alpha-2,
    /// any case) is used for national numbers only.
    public static func normalize(_ input: String, country: String?) throws -> PhoneNumber {
        let scanned = try scan(input)
        var digits = scanned.digits

        // International prefix: "+", "00", or "011" in the North American plan.
        var international = scanned.plus
        var zeroAt = scanned.parenthesizedZeroAt
        let plan = country.flatMap { NumberingPlan.byCountry[$0.uppercased()] }
        for prefix in ["00", plan?.callingCode == "1" ? "011" : nil].compactMap({ $0 })
        where !international && digits.hasPrefix(prefix) {
            international = true
            digits.removeFirst(prefix.count)
            zeroAt = zeroAt.map { $0 - prefix.count }
        }
        if international {
            return try normalizeInternational(input, digits: digits, parenthesizedZeroAt: zeroAt)
        }
        if let zeroAt { digits.insert("0", at: digits.index(digits.startIndex, offsetBy: zeroAt)) }
        return try normalizeNational(input, digits: digits, country: country)
    }

    /// The region of a BCP 47 language tag: "fr-FR" → "FR", "zh-Hant-TW" → "TW"; nil when the tag
    /// has none ("fr") or names a larger area ("es-419").
    public static func country(fromLocale locale: String) -> String? {
        for part in locale.split(whereSeparator: { $0 == "-" || $0 == "_" }).dropFirst() {
            if part.count == 1 { return nil }  // an extension or private use: no region before it
            if part.count == 2 && part.allSatisfy({ $0.isASCII && $0.isLetter }) { return part.uppercased() }
            if part.count == 3 && part.allSatisfy({ $0.isASCII && $0.isNumber }) { return nil }
        }
        return nil
    }

    // MARK: Scanning

    private struct Scanned {
        var plus = false
        /// ASCII digits, without a "(0)".
        var digits = ""
        /// Where a "(0)" stood, as an offset in `digits`.
        var parenthesizedZeroAt: Int?
    }

    private static let separators: Set<Unicode.Scalar> = [" ", "\u{A0}", "\u{202F}", ".", "-", "/", "(", ")"]

    private static func scan(_ input: String) throws -> Scanned {
        let scalars = Array(input.unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end && isSpace(scalars[start]) { start += 1 }
        while end > start && isSpace(scalars[end - 1]) { end -= 1 }
        guard start < end else { throw PhoneNumberError(input: input, message: "the phone number is empty") }

        var scanned = Scanned()
        var i = start
        while i < end {
            let scalar = scalars[i]
            switch scalar {
            case "0"..."9":
                scanned.digits.unicodeScalars.append(scalar)
            case "+" where i == start:
                scanned.plus = true
            case "+":
                throw invalid(input, "a '+' is only allowed at the start")
            case "(":
                // "(0)", possibly with spaces inside: the trunk prefix shown in international form.
                var j = i + 1
                while j < end && isSpace(scalars[j]) { j += 1 }
                guard j < end, scalars[j] == "0", scanned.parenthesizedZeroAt == nil else { break }
                j += 1
                while j < end && isSpace(scalars[j]) { j += 1 }
                guard j < end, scalars[j] == ")" else { break }
                scanned.parenthesizedZeroAt = scanned.digits.count
                i = j
            case _ where separators.contains(scalar):
                break
            default:
                throw invalid(
                    input,
                    "\(visible(scalar)) is not allowed (only digits, a leading '+', spaces, dots, dashes, "
                        + "slashes and parentheses)")
            }
            i += 1
        }
        guard !scanned.digits.isEmpty else { throw invalid(input, "no digits") }
        return scanned
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\u{A0}" || scalar == "\u{202F}" || scalar == "\t"
    }

    // MARK: International numbers

    private static func normalizeInternational(
        _ input: String, digits: String, parenthesizedZeroAt: Int?
    ) throws -> PhoneNumber {
        guard let first = digits.first else { throw invalid(input, "no digits after the international prefix") }
        guard first != "0" else { throw invalid(input, "a country code never starts with 0") }

        guard let known = NumberingPlan.callingCode(of: digits) else {
            // An unknown calling code: only E.164 applies. A "(0)" is a trunk prefix to drop.
            guard (8...15).contains(digits.count) else {
                throw invalid(input, "\(count(digits.count)), expected 8 to 15 after the '+'")
            }
            return PhoneNumber(e164: "+" + digits)
        }
        let (callingCode, plans) = known
        let plan = plans[0]
        var national = String(digits.dropFirst(callingCode.count))
        if let zeroAt = parenthesizedZeroAt {
            let offset = zeroAt - callingCode.count
            if offset != 0 || plan.leadingZeroIsPartOfNumber {
                guard offset >= 0 else { throw invalid(input, "a '(0)' inside the country code") }
                national.insert("0", at: national.index(national.startIndex, offsetBy: offset))
            }
        }
        // "+33 0 6 12 34 56 78": the trunk prefix does not belong after the country code.
        if plan.trunkPrefix == "0" && national.hasPrefix("0") { national.removeFirst() }

        let context = "for +\(callingCode) (\(plans.map(\.country).joined(separator: ", ")))"
        guard plan.lengths.contains(national.count) else {
            throw invalid(
                input, "\(count(national.count)) after the country code, expected \(range(plan.lengths))",
                context: context)
        }
        if let digit = national.first, !plan.firstDigits.contains(digit) {
            throw invalid(input, "\(plan.firstDigitName) cannot start with \(digit)", context: context)
        }
        return try checked(input, "+" + callingCode + national)
    }

    // MARK: National numbers

    private static func normalizeNational(_ input: String, digits: String, country: String?) throws -> PhoneNumber {
        guard let country else {
            throw invalid(
                input, "a national number needs the payer's country (or write it with '+' and the country code)")
        }
        let code = country.uppercased()
        guard let plan = NumberingPlan.byCountry[code] else {
            throw invalid(
                input,
                "there are no numbering rules for country '\(country)': write the number with '+' and the "
                    + "country code")
        }
        let context = "for \(code)"
        var national = digits
        switch plan.trunkPrefix {
        case "1"?:
            // North American plan: 10 digits, or 11 with the trunk prefix 1.
            let expected = "expected \(range(plan.lengths)), or \(plan.lengths.upperBound + 1) starting with 1"
            if national.count == plan.lengths.upperBound + 1 && national.hasPrefix("1") { national.removeFirst() }
            guard plan.lengths.contains(national.count) else {
                throw invalid(input, "\(count(digits.count)), \(expected)", context: context)
            }
        case let trunk?:
            let expected = "expected \(range(plan.lengths, plus: trunk.count)) starting with \(trunk)"
            guard plan.lengths.contains(national.count - trunk.count) else {
                throw invalid(input, "\(count(digits.count)), \(expected)", context: context)
            }
            guard national.hasPrefix(trunk) else {
                throw invalid(input, "it starts with \(national.first!), \(expected)", context: context)
            }
            national.removeFirst(trunk.count)
        case nil:
            guard plan.lengths.contains(national.count) else {
                throw invalid(input, "\(count(digits.count)), expected \(range(plan.lengths))", context: context)
            }
        }
        if let digit = national.first, !plan.firstDigits.contains(digit) {
            throw invalid(input, "\(plan.firstDigitName) cannot start with \(digit)", context: context)
        }
        let callingCode = plan.sharesFrenchPlan ? NumberingPlan.frenchZone(of: national) : plan.callingCode
        return try checked(input, "+" + callingCode + national)
    }

    // MARK: Helpers

    private static func checked(_ input: String, _ e164: String) throws -> PhoneNumber {
        guard PayerProfile.isE164(e164) else {
            throw invalid(input, "\(count(e164.count - 1)) in all, expected 8 to 15 (E.164)")
        }
        return PhoneNumber(e164: e164)
    }

    private static func invalid(_ input: String, _ reason: String, context: String? = nil) -> PhoneNumberError {
        let what = context.map { "not a valid phone number \($0)" } ?? "not a valid phone number"
        return PhoneNumberError(input: input, message: "\(quoted(input)) is \(what): \(reason)")
    }

    private static func count(_ n: Int) -> String { n == 1 ? "1 digit" : "\(n) digits" }

    private static func range(_ r: ClosedRange<Int>, plus extra: Int = 0) -> String {
        r.count == 1 ? "\(r.lowerBound + extra)" : "\(r.lowerBound + extra) to \(r.upperBound + extra)"
    }

    /// The input in single quotes, control characters made visible, cut after 40 characters.
    static func quoted(_ s: String) -> String {
        var out = "'"
        for (i, scalar) in s.unicodeScalars.enumerated() {
            if i == 40 {
                out += "…"
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.properties.generalCategory == .format {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "'\(scalar)'"
    }
}

/// Why a phone number was refused; `message` names the input and the reason.
public struct PhoneNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    public var input: String
    public var message: String
    public init(input: String, message: String) {
        self.input = input
        self.message = message
    }
    public var description: String { message }
}

/// The numbering rules of one country, enough to normalise a number (not to tell a mobile from a
/// landline). Lengths are those of the national significant number (after the country code,
/// without the trunk prefix); where the plan varies they are kept loose.
struct NumberingPlan: Sendable {
    /// ISO 3166 alpha-2.
    var country: String
    var callingCode: String
    /// The digit dialled before a national number inside the country ("0"; "1" in the North
    /// American plan), nil when there is none.
    var trunkPrefix: String?
    var lengths: ClosedRange<Int>
    /// The digits a national significant number may start with.
    var firstDigits: Set<Character> = Set("123456789")
    /// Italy, Côte d'Ivoire: a leading 0 is part of the number and is dialled from abroad too.
    var leadingZeroIsPartOfNumber = false
    /// France and its overseas departments share one national plan.
    var sharesFrenchPlan = false

    /// What the first digit of the national significant number is, for messages.
    var firstDigitName: String { callingCode == "1" ? "the area code" : "the number after the country code" }

    static let all: [NumberingPlan] = [
        // France: 0 + 9 digits.
        NumberingPlan(country: "FR", callingCode: "33", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "BE", callingCode: "32", trunkPrefix: "0", lengths: 8...9),
        NumberingPlan(country: "LU", callingCode: "352", trunkPrefix: nil, lengths: 4...11),
        NumberingPlan(country: "CH", callingCode: "41", trunkPrefix: "0", lengths: 9...9),
        // Germany and Austria have open plans; 13 is the most E.164 allows after a 2-digit code.
        NumberingPlan(country: "DE", callingCode: "49", trunkPrefix: "0", lengths: 4...13),
        NumberingPlan(country: "AT", callingCode: "43", trunkPrefix: "0", lengths: 4...13),
        NumberingPlan(country: "NL", callingCode: "31", trunkPrefix: "0", lengths: 5...10),
        NumberingPlan(country: "ES", callingCode: "34", trunkPrefix: nil, lengths: 9...9),
        NumberingPlan(country: "PT", callingCode: "351", trunkPrefix: nil, lengths: 9...9),
        NumberingPlan(
            country: "IT", callingCode: "39", trunkPrefix: nil, lengths: 6...12, firstDigits: Set("0123456789"),
            leadingZeroIsPartOfNumber: true),
        NumberingPlan(country: "GB", callingCode: "44", trunkPrefix: "0", lengths: 7...10),
        NumberingPlan(country: "IE", callingCode: "353", trunkPrefix: "0", lengths: 7...10),
        // North American plan: area code and exchange, 10 digits, the area code starting with 2-9.
        NumberingPlan(
            country: "US", callingCode: "1", trunkPrefix: "1", lengths: 10...10, firstDigits: Set("23456789")),
        NumberingPlan(
            country: "CA", callingCode: "1", trunkPrefix: "1", lengths: 10...10, firstDigits: Set("23456789")),
        NumberingPlan(country: "MA", callingCode: "212", trunkPrefix: "0", lengths: 9...9),
        NumberingPlan(country: "TN", callingCode: "216", trunkPrefix: nil, lengths: 8...8),
        NumberingPlan(country: "SN", callingCode: "221", trunkPrefix: nil, lengths: 9...9),
        // Côte d'Ivoire: 10 digits since 2021, starting with 0 for most numbers (no trunk prefix).
        NumberingPlan(
            country: "CI", callingCode: "225", trunkPrefix: nil, lengths: 10...10, firstDigits: Set("0123456789"),
            leadingZeroIsPartOfNumber: true),
        // French overseas departments (and Saint-Barthélemy, Saint-Martin): the French plan.
        NumberingPlan(country: "GP", callingCode: "590", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "BL", callingCode: "590", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "MF", callingCode: "590", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "MQ", callingCode: "596", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "GF", callingCode: "594", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "RE", callingCode: "262", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
        NumberingPlan(country: "YT", callingCode: "262", trunkPrefix: "0", lengths: 9...9, sharesFrenchPlan: true),
    ]

    static let byCountry: [String: NumberingPlan] = Dictionary(uniqueKeysWithValues: all.map { ($0.country, $0) })
    static let byCallingCode: [String: [NumberingPlan]] = Dictionary(grouping: all, by: \.callingCode)

    /// The known calling code `digits` starts with (calling codes are prefix-free) and its plans.
    static func callingCode(of digits: String) -> (String, [NumberingPlan])? {
        for length in 1...3 where digits.count > length {
            let code = String(digits.prefix(length))
            if let plans = byCallingCode[code] { return (code, plans) }
        }
        return nil
    }

    /// The calling code of a national significant number of the French plan: the overseas
    /// departments have their own calling codes for their geographic and mobile ranges.
    static func frenchZone(of national: String) -> String {
        switch national.prefix(3) {
        case "590", "690", "691": "590"  // Guadeloupe, Saint-Barthélemy, Saint-Martin
        case "596", "696", "697": "596"  // Martinique
        case "594", "694": "594"  // French Guiana
        case "262", "263", "692", "693": "262"  // Réunion
        case "269", "639": "262"  // Mayotte
        default: "33"
        }
    }
}
