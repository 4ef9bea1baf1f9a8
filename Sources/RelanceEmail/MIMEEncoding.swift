import Foundation
import RelanceCore

/// Encodings of RFC 2045 and RFC 2047, as pure functions over bytes and strings.
public enum MIMEEncoding {
    /// RFC 5322 §2.1.1: lines of at most 78 characters (998 at the very most).
    public static let headerLineLimit = 78
    /// RFC 2045 §6.7 and §6.8: encoded body lines of at most 76 characters.
    public static let bodyLineLimit = 76

    /// A header value with every CR, LF and other control character replaced by a
    /// space: whatever a payer name or subject contains, it cannot start a new header.
    public static func sanitizeHeaderValue(_ value: String) -> String {
        // Printable ASCII has nothing to replace (every header of most messages).
        if isPrintableASCII(value) { return value }
        var out = String.UnicodeScalarView()
        var previousWasControl = false
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}"
                || scalar == "\u{85}"
            {
                // A run of control characters (CR LF) becomes one space.
                if !previousWasControl { out.append(" ") }
                previousWasControl = true
            } else {
                out.append(scalar)
                previousWasControl = false
            }
        }
        return String(out)
    }

    /// A header name kept to ASCII letters, digits and "-".
    static func headerName(_ name: String) -> String {
        func allowed(_ byte: UInt8) -> Bool { byte.isASCIILetterOrDigit || byte == UInt8(ascii: "-") }
        if name.utf8.allSatisfy(allowed) { return name }
        return String(decoding: name.utf8.filter(allowed), as: UTF8.self)
    }

    static func isPrintableASCII(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// RFC 2047 encoded-words (`=?UTF-8?B?…?=`) for an unstructured header value,
    /// split on character boundaries so that each word is at most 75 characters.
    /// Plain printable ASCII is left as it is.
    public static func encodeUnstructured(_ value: String) -> [String] {
        // Printable ASCII needs no sanitizing: one scan tells both.
        let ascii = isPrintableASCII(value)
        let clean = ascii ? value : sanitizeHeaderValue(value)
        if (ascii || isPrintableASCII(clean)) && !clean.containsBytes("=?") {
            return clean.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        }
        return encodedWords(clean)
    }

    /// Splits text into base64 encoded-words of at most 75 characters each.
    static func encodedWords(_ text: String) -> [String] {
        // 36 bytes make 48 base64 characters, a 60-character word: it fits on the first
        // line after a header name of up to 16 characters (RFC 2047 allows 75, RFC 5322
        // wants lines under 78).
        let maxBytes = 36
        var words: [String] = []
        var chunk: [UInt8] = []
        // Split on Unicode scalars, not Characters: a word must hold whole UTF-8
        // sequences (RFC 2047 §5), but one grapheme cluster can be longer than a word.
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maxBytes, !chunk.isEmpty {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
        }
        return words
    }

    /// What a display name may hold unquoted, among printable ASCII: RFC 5322 atext
    /// (letters, digits, ``!#$%&'*+-/=?^_`{|}~``) and spaces.
    static func isDisplayNameText(_ byte: UInt8) -> Bool {
        byte.isASCIILetterOrDigit || "!#$%&'*+-/=?^_`{|}~ ".utf8.contains(byte)
    }

    /// Without the spaces and tabs at either end (what `CharacterSet.whitespaces` holds:
    /// Unicode's horizontal spaces).
    static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        func blank(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        guard let first = scalars.firstIndex(where: { !blank($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !blank($0) })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return text }
        return String(scalars[first...last])
    }

    /// A display name as RFC 5322 wants it: an atom sequence, a quoted string, or encoded-words.

    public static func encodeDisplayName(_ name: String) -> String {
        let clean = trimmingWhitespace(sanitizeHeaderValue(name))
        // Text shaped like an encoded word is itself encoded: mail readers decode
        // `"=?utf-8?q?Bcc:_evil@attacker.example?="` even inside quotes (RFC 2047 says they
        // must not), while the base64 of it reads back as the literal text.
        // A word (no space to fold at) longer than a line's worth goes out as encoded words,
        // which fold (found by `make fuzz`: a 1,009-byte header line).
        let foldable = !clean.split(separator: " ").contains { $0.utf8.count > 900 }
        if isPrintableASCII(clean) && !clean.containsBytes("=?") && foldable {
            if clean.utf8.allSatisfy(isDisplayNameText) && !clean.containsBytes("=?") {
                return clean
            }
            let escaped = clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                of: "\"", with: "\\\"")
            return "\"" + escaped + "\""
        }
        return encodedWords(clean).joined(separator: " ")
    }

    /// Folds `Name: word word…` into lines of at most 78 characters, continuing with a space.
    public static func foldHeader(name: String, words: [String]) -> String {
        var out = name + ":"
        var lineLength = out.count
        for word in words {
            if lineLength + 1 + word.count > headerLineLimit && lineLength > name.count + 1 {
                out += "\r\n "
                lineLength = 1
            } else {
                out += " "
                lineLength += 1
            }
            out += word
            lineLength += word.count
        }
        return out + "\r\n"
    }

    /// Quoted-printable (RFC 2045 §6.7) with CRLF line breaks, lines ≤ 76 characters,
    /// trailing white space encoded, and a leading "From " or "." protected.
    /// Works on bytes in one pass over raw buffers: it runs for every part of every
    /// message sent (it was 4 % of the e-mail benchmark's CPU with array appends).
    public static func quotedPrintable(_ text: String) -> String {
        var text = text
        return text.withUTF8 { input in
            // Worst case: every byte encoded (3), a soft break (3) every 25 of them, and
            // every line break a CR or LF alone that becomes CRLF (2).
            let capacity = input.count * 4 + 16
            return String(unsafeUninitializedCapacity: capacity) { out in
                quotedPrintable(input, into: out)
            }
        }
    }

    /// Writes the encoding of `input` into `out`, which has room for it; returns its length.
    static func quotedPrintable(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>)
        -> Int
    {
        let hex: StaticString = "0123456789ABCDEF"
        let digits = hex.utf8Start
        let limit = bodyLineLimit - 1  // keep room for the soft line break "="
        let count = input.count
        var o = 0
        var lineLength = 0
        var lineStart = true
        var i = 0
        // Printable ASCII that is literal wherever it stands: not "=", and not "." or "F",
        // which need protection at a line start.
        func plain(_ byte: UInt8) -> Bool {
            byte &- 0x21 < 0x5E && byte != UInt8(ascii: "=") && byte != UInt8(ascii: ".")
                && byte != UInt8(ascii: "F")
        }
        while i < count {
            let byte = input[i]
            if lineLength < limit && plain(byte) {
                // A run of plain bytes that fits on the line is copied as it is (most of
                // an HTML part): the byte-by-byte path below gives the same output.
                let end = min(count, i + (limit - lineLength))
                var j = i + 1
                while j < end && plain(input[j]) { j += 1 }
                let run = j - i
                UnsafeMutableRawPointer(out.baseAddress! + o).copyMemory(from: input.baseAddress! + i, byteCount: run)
                o += run
                lineLength += run
                lineStart = false
                i = j
                continue
            }
            if byte == 0x0D || byte == 0x0A {
                // CR, LF and CRLF are all one hard line break.
                if byte == 0x0D, i + 1 < count, input[i + 1] == 0x0A { i += 1 }
                out[o] = 0x0D
                out[o + 1] = 0x0A
                o += 2
                lineLength = 0
                lineStart = true
                i += 1
                continue
            }
            let next = i + 1 < count ? input[i + 1] : 0x0A
            let atLineEnd = next == 0x0A || next == 0x0D
            // A literal byte that would not fit starts a new line after a soft break:
            // it needs the same protection as one after a hard break.
            let startsLine = lineStart || lineLength + 1 > limit
            let encode: Bool
            switch byte {
            case UInt8(ascii: "="): encode = true
            case UInt8(ascii: " "), UInt8(ascii: "\t"): encode = atLineEnd
            // A lone "." line ends SMTP DATA on servers that skip dot-stuffing.
            case UInt8(ascii: "."): encode = startsLine
            // "From " at a line start gets mangled by mbox tools.
            case UInt8(ascii: "F"):
                encode =
                    startsLine && i + 4 < count && input[i + 1] == UInt8(ascii: "r")
                    && input[i + 2] == UInt8(ascii: "o") && input[i + 3] == UInt8(ascii: "m")
                    && input[i + 4] == UInt8(ascii: " ")
            case 0x21...0x7E: encode = false
            default: encode = true
            }
            let width = encode ? 3 : 1
            if lineLength + width > limit {
                out[o] = UInt8(ascii: "=")
                out[o + 1] = 0x0D
                out[o + 2] = 0x0A
                o += 3
                lineLength = 0
            }
            lineLength += width
            if encode {
                out[o] = UInt8(ascii: "=")
                out[o + 1] = digits[Int(byte >> 4)]
                out[o + 2] = digits[Int(byte & 0x0F)]
                o += 3
            } else {
                out[o] = byte
                o += 1
            }
            lineStart = false
            i += 1
        }
        return o
    }

    /// Base64 in lines of 76 characters with CRLF (RFC 2045 §6.8).
    public static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Data(bytes).base64EncodedString()
        var out = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: bodyLineLimit, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += encoded[index..<end] + "\r\n"
            index = end
        }
        return out
    }

    /// RFC 5322 date: `Mon, 23 Nov 2026 12:00:00 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        // gmtime_r and fixed tables: a Calendar and String(format:) for every message showed in profiles.
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
