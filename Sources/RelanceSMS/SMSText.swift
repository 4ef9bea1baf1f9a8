// SMS text rules: the GSM 03.38 alphabet, segment counting and sanitising.
//
// Sanitising (`sms.sanitizing`), applied to the rendered text before it is measured and sent:
//
// - `off`: the text is sent exactly as rendered.
// - `typography` (the default) replaces typographic characters that would force the whole message
//   into UCS-2 (70 characters per SMS instead of 160) with their plain equivalents:
//   - every Unicode space separator (no-break space U+00A0, narrow no-break space U+202F as produced
//     by French amount formatting such as "1 250,00 €", thin space U+2009, figure space U+2007,
//     U+2000–U+200A, ideographic space U+3000, ...) becomes an ordinary space;
//   - zero-width characters (U+200B, U+200C, U+2060, U+FEFF) and the soft hyphen (U+00AD) are
//     removed; the zero-width joiner U+200D too, except between two emoji, where it is part of
//     the emoji (👨‍👩‍👧);
//   - ‘ ’ ‚ ‛ ′ become ' and “ ” „ ‟ ″ « » become "; the spaces that French typography puts inside
//     guillemets are removed, so « Bonjour » becomes "Bonjour" (German »Hallo« is left readable:
//     only spaces inside the quotes are removed);
//   - the dashes ‐ ‑ ‒ – — ― and the minus sign − become -, the bullet • becomes -, and the
//     ellipsis … becomes three dots.
//   Everything else is left as it is.
// - `transliterate`: `typography`, then characters outside the GSM-7 alphabet that have a close
//   GSM-7 equivalent are replaced: accented Latin letters that the alphabet lacks lose their accent
//   (â ê î ô û ë ï ÿ ç á í ó ú ã õ → a e i o u e i y c a i o u a o; À Â È Ê Ë Î Ï Ô Ù Û → A A E E E
//   I I O U U), œ Œ become oe OE, ł Ł đ Đ ı become l L d D i, and a combining accent after a GSM-7
//   letter is dropped. Letters the alphabet has are kept (é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü Å å Ø ø
//   Æ æ ß). Characters with no equivalent (emoji, Cyrillic, Arabic, CJK, ...) are left as they are
//   and the message is then sent in UCS-2.
//
// Counting: a GSM-7 message of up to 160 septets is one SMS; longer, it is split into segments of
// 153 septets (the rest of each segment holds the concatenation header). The extension characters
// (form feed ^ { } \ [ ~ ] | €) take 2 septets each and are never split across two segments. A
// UCS-2 message of up to 70 UTF-16 units is one SMS, longer ones are split into segments of 67
// units, never splitting a surrogate pair (emoji outside the BMP take 2 units). Empty text is
// 0 segments, and `SMSText.prepare` refuses it.

import Foundation

/// The data coding of an SMS: the GSM 03.38 7-bit default alphabet, or UCS-2 (UTF-16 in practice).
public enum SMSEncoding: String, Sendable, Equatable, CaseIterable {
    case gsm7
    case ucs2
}

/// The GSM 03.38 default alphabet and its extension table (3GPP TS 23.038 §6.2.1).
public enum GSM7 {
    /// The basic character set, indexed by its 7-bit code. Entry 0x1B is the escape to the
    /// extension table, not a character.
    public static let basicTable: [Unicode.Scalar] = Array(
        [
            "@£$¥èéùìòÇ\nØø\rÅå",
            "Δ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ",
            " !\"#¤%&'()*+,-./",
            "0123456789:;<=>?",
            "¡ABCDEFGHIJKLMNO",
            "PQRSTUVWXYZÄÖÑÜ§",
            "¿abcdefghijklmno",
            "pqrstuvwxyzäöñüà",
        ].joined().unicodeScalars)

    /// The extension table: code after the escape, and character. Each takes 2 septets.
    public static let extensionTable: [UInt8: Unicode.Scalar] = [
        0x0A: "\u{0C}", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|",
        0x65: "€",
    ]

    static let escape: Unicode.Scalar = "\u{1B}"
    static let basic: Set<Unicode.Scalar> = Set(basicTable).subtracting([escape])
    static let extended: Set<Unicode.Scalar> = Set(extensionTable.values)

    /// The number of septets `scalar` takes in GSM-7 (1, or 2 for the extension table), or nil when
    /// the alphabet does not have it.
    public static func septets(_ scalar: Unicode.Scalar) -> Int? {
        if basic.contains(scalar) { return 1 }
        if extended.contains(scalar) { return 2 }
        return nil
    }

    /// Whether the whole text can be sent in GSM-7.
    public static func canEncode(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { septets($0) != nil }
    }
}

/// The size of an SMS text: how it is encoded and how many segments it takes.
public struct SMSMeasure: Sendable, Hashable, CustomStringConvertible {
    public var encoding: SMSEncoding
    /// Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
    public var units: Int
    /// The number of SMS the text is sent as; 0 for empty text.
    public var segments: Int
    /// The capacity of each segment: 160 or 153 (GSM-7), 70 or 67 (UCS-2) for one or several segments.
    public var perSegment: Int
    /// User-perceived characters (Swift `Character`s; "\r\n" and a flag emoji count one).
    public var characters: Int

    public init(encoding: SMSEncoding, units: Int, segments: Int, perSegment: Int, characters: Int) {
        self.encoding = encoding
        self.units = units
        self.segments = segments
        self.perSegment = perSegment
        self.characters = characters
    }

    /// The name of the units in messages: "GSM-7 characters" or "UCS-2 units".
    public var unitName: String { encoding == .gsm7 ? "GSM-7 characters" : "UCS-2 units" }

    public var description: String {
        "\(segments) segment\(segments == 1 ? "" : "s") (\(SMSText.grouped(units)) \(unitName), "
            + "\(perSegment) per segment)"
    }
}

/// How the text is cleaned before it is measured and sent (see the rules at the top of this file).
public enum SMSSanitizing: String, Sendable, Equatable, CaseIterable {
    case off
    case typography
    case transliterate
}

/// A text ready to send: trimmed, sanitised, and within the segment limit.
public struct PreparedSMS: Sendable, Equatable {
    public var text: String
    public var measure: SMSMeasure

    public init(text: String, measure: SMSMeasure) {
        self.text = text
        self.measure = measure
    }
}

/// Why a text cannot be sent as an SMS.
public struct SMSTextError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The SMS text rules: measuring, sanitising and preparing a text.
public enum SMSText {
    public static let gsm7SingleSegment = 160
    public static let gsm7MultiSegment = 153
    public static let ucs2SingleSegment = 70
    public static let ucs2MultiSegment = 67

    // MARK: Measuring

    /// Measures `text` as it would be sent: GSM-7 when every character is in the alphabet, UCS-2
    /// otherwise.
    public static func measure(_ text: String) -> SMSMeasure {
        var costs: [Int] = []
        var gsm7 = true
        for scalar in text.unicodeScalars {
            guard let septets = GSM7.septets(scalar) else {
                gsm7 = false
                break
            }
            costs.append(septets)
        }
        let single: Int
        let multi: Int
        if gsm7 {
            (single, multi) = (gsm7SingleSegment, gsm7MultiSegment)
        } else {
            costs = text.unicodeScalars.map { UTF16.width($0) }
            (single, multi) = (ucs2SingleSegment, ucs2MultiSegment)
        }
        let units = costs.reduce(0, +)
        let segments = units == 0 ? 0 : units <= single ? 1 : packed(costs, capacity: multi)
        return SMSMeasure(
            encoding: gsm7 ? .gsm7 : .ucs2, units: units, segments: segments,
            perSegment: segments > 1 ? multi : single, characters: text.count)
    }

    /// The number of segments of `capacity` units needed when no item (an escape pair, a surrogate
    /// pair) may straddle two segments.
    static func packed(_ costs: [Int], capacity: Int) -> Int {
        var segments = 1
        var fill = 0
        for cost in costs {
            if fill + cost > capacity {
                segments += 1
                fill = 0
            }
            fill += cost
        }
        return segments
    }

    /// The first character that keeps the text out of GSM-7, if any.
    public static func firstNonGSM7(_ text: String) -> Character? {
        text.first { ch in ch.unicodeScalars.contains { GSM7.septets($0) == nil } }
    }

    // MARK: Sanitising

    /// Applies the sanitising rules of `mode` (see the top of this file).
    public static func sanitize(_ text: String, _ mode: SMSSanitizing) -> String {
        switch mode {
        case .off: text
        case .typography: typography(text)
        case .transliterate: transliterate(typography(text))
        }
    }

    static func typography(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            switch scalar.value {
            case 0x00AD, 0x200B, 0x200C, 0x2060, 0xFEFF:
                break
            case 0x200D:
                if i > 0, i + 1 < scalars.count, isEmojiPart(scalars[i - 1]), isEmojiPart(scalars[i + 1]) {
                    out.append(scalar)
                }
            case 0x2018, 0x2019, 0x201A, 0x201B, 0x2032:
                out.append("'")
            case 0x201C, 0x201D, 0x201E, 0x201F, 0x2033:
                out.append("\"")
            case 0x00AB:  // «
                out.append("\"")
                // Opening French guillemet (not after a letter or digit): drop the spaces inside.
                if i == 0 || !isWordScalar(scalars[i - 1]) {
                    while i + 1 < scalars.count, isInlineSpace(scalars[i + 1]) { i += 1 }
                }
            case 0x00BB:  // »
                // Closing French guillemet (not before a letter or digit): drop the spaces inside.
                if i + 1 == scalars.count || !isWordScalar(scalars[i + 1]) {
                    while out.last == " " { out.removeLast() }
                }
                out.append("\"")
            case 0x2010...0x2015, 0x2212, 0x2022:
                out.append("-")
            case 0x2026:
                out.append(contentsOf: "...".unicodeScalars)
            default:
                out.append(scalar.properties.generalCategory == .spaceSeparator ? " " : scalar)
            }
            i += 1
        }
        return String(out)
    }

    /// A space separator or a zero-width character, which typography turns into " " or removes.
    private static func isInlineSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .spaceSeparator
            || [0x00AD, 0x200B, 0x200C, 0x2060, 0xFEFF].contains(scalar.value)
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// A scalar that can sit on either side of a zero-width joiner in an emoji sequence.
    private static func isEmojiPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0xFE0F || scalar.value >= 0x2000 && scalar.properties.isEmoji
    }

    /// Replacements that Unicode decomposition does not provide.
    static let latinReplacements: [Unicode.Scalar: String] = [
        "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i",
    ]

    static func transliterate(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var afterGSM7 = false
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            if GSM7.septets(scalar) != nil {
                out.append(scalar)
                afterGSM7 = true
            } else if let replacement = latinReplacements[scalar] {
                out.append(contentsOf: replacement.unicodeScalars)
                afterGSM7 = true
            } else if scalar.properties.generalCategory == .nonspacingMark && afterGSM7 {
                continue
            } else if let base = unaccented(scalar) {
                out.append(base)
                afterGSM7 = true
            } else {
                out.append(scalar)
                afterGSM7 = false
            }
        }
        return String(out)
    }

    /// The base letter of an accented letter when the base is in the GSM-7 alphabet (ê → e).
    private static func unaccented(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let parts = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
        guard let base = parts.first, parts.count > 1, GSM7.basic.contains(base),
            parts.dropFirst().allSatisfy({ $0.properties.generalCategory == .nonspacingMark })
        else { return nil }
        return base
    }

    // MARK: Preparing

    /// Trims surrounding whitespace and line breaks, sanitises and measures `text`.
    ///
    /// - Throws: `SMSTextError` when the text is empty or takes more than `maxSegments` segments.
    public static func prepare(
        _ text: String, sanitizing: SMSSanitizing = .typography, maxSegments: Int
    ) throws -> PreparedSMS {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let sanitized = sanitize(trimmed, sanitizing).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !sanitized.isEmpty else { throw SMSTextError("the SMS text is empty") }
        let measure = measure(sanitized)
        if measure.segments > maxSegments {
            var detail = "\(grouped(measure.units)) \(measure.unitName), \(measure.perSegment) per segment"
            if measure.encoding == .ucs2, let ch = firstNonGSM7(sanitized) {
                detail += "; \(visible(ch)) is not in the GSM-7 alphabet"
            }
            throw SMSTextError(
                "the SMS is \(measure.segments) segments (\(detail)), over the limit of \(maxSegments)")
        }
        return PreparedSMS(text: sanitized, measure: measure)
    }

    /// A character quoted for a message, or its code point when it is invisible (U+200E).
    static func visible(_ ch: Character) -> String {
        let invisible = ch.unicodeScalars.allSatisfy {
            $0.properties.isWhitespace || [.control, .format].contains($0.properties.generalCategory)
        }
        guard invisible, let first = ch.unicodeScalars.first else { return "'\(ch)'" }
        let hex = String(first.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `n` with a comma every three digits, as in "1,012" (fixed, whatever the locale).
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (n < 0 ? "-" : "") + out
    }
}
