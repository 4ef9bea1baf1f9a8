import Foundation

/// The rules every door (CLI, HTTP API, `enqueue --stdin`, rows written by SQL) applies to
/// the texts that identify things: payer and case references, idempotency keys, template
/// and channel names. One rule behind every door, so that a text the API refuses is not
/// taken by the CLI or a SQL row.
public enum TextRules {
    /// Longest reference, key or name of a template, in characters.
    public static let maximumReferenceLength = 200

    /// Why `text` cannot identify something, or nil:
    /// - 1 to `maximumReferenceLength` characters;
    /// - no NUL, line break, tab or other control character (C0, DEL, C1): a NUL would cut
    ///   the text where SQLite's C interface reads it (`VICTIM\0attacker` is `VICTIM`);
    /// - Unicode NFC: `café` written with U+00E9 or with `e` + U+0301 looks the same but
    ///   would be two payers, two cases, two idempotency keys. Not normalised silently:
    ///   refused, so that the caller's system and Relance's agree on one spelling.
    public static func referenceProblem(_ text: String, maxLength: Int = maximumReferenceLength) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > maxLength, text.count > maxLength { return "longer than \(maxLength) characters" }
        if hasControl(text) { return "must not contain a NUL, line break, tab or other control character" }
        if !isNFC(text) {
            return "is not in Unicode NFC (write each accented letter as one character, e.g. é as U+00E9)"
        }
        return nil
    }

    /// A C0 control (NUL, tab, line breaks…), DEL, a C1 control (NEL among them) or the
    /// Unicode line and paragraph separators (U+2028, U+2029).
    public static func hasControl(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }
            && text.unicodeScalars.contains {
                $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029
            }
    }

    /// A control character (C0, DEL, C1), a line or paragraph separator, or a bidi
    /// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069): shown in a letter's
    /// window or a message, it would hide or reorder what the reader sees.
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v)
    }

    /// `U+0000`.
    public static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Whether `text` is in Unicode Normalization Form C. ASCII always is.
    public static func isNFC(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return true }
        return text.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(text.unicodeScalars)
    }

    /// The bytes as a string, or nil when they are not valid UTF-8 (never repaired with
    /// U+FFFD: `k\xe0\x80\xaf` and `k\xed\xa0\x80` must not both read as `k\u{FFFD}…`).
    public static func strictUTF8<Bytes: Collection>(_ bytes: Bytes) -> String? where Bytes.Element == UInt8 {
        String(validating: bytes, as: UTF8.self)
    }

    /// Where the first byte that is not UTF-8 stands (line from 1, byte column from 1 in
    /// it), or nil when every byte is: for errors that point at it.
    public static func firstInvalidUTF8<Bytes: Collection>(_ bytes: Bytes) -> (line: Int, column: Int)?
    where Bytes.Element == UInt8 {
        var line = 1
        var column = 1
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 10 {
                    line += 1
                    column = 1
                } else {
                    column += encoded.count
                }
            case .emptyInput: return nil
            case .error: return (line, column)
            }
        }
    }
}
