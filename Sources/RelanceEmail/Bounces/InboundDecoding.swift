import Foundation

/// The decodings an inbound message needs, tolerant of malformed input: transfer
/// encodings (RFC 2045 §6), charsets, encoded-words (RFC 2047) and HTML reduced to text.
enum InboundDecoding {
    /// A body with its Content-Transfer-Encoding undone (7bit, 8bit, binary and unknown
    /// encodings are left as they are).
    static func transferDecoded(_ body: ArraySlice<UInt8>, encoding: String) -> ArraySlice<UInt8> {
        switch encoding {
        case "base64": return base64(body)[...]
        case "quoted-printable": return quotedPrintable(body, underscoreIsSpace: false)[...]
        default: return body
        }
    }

    /// The text of a `text/*` entity, decoded from its transfer encoding and its charset.
    static func text(of entity: InboundMessage) -> String {
        let bytes = transferDecoded(entity.body, encoding: entity.transferEncoding)
        return string(bytes, charset: entity.contentType.parameters["charset"])
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    /// Base64, skipping every character outside the alphabet (line breaks, padding, junk).
    static func base64(_ text: ArraySlice<UInt8>) -> [UInt8] {
        let table = base64Values
        return text.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: input.count * 3 / 4 + 3) { output, written in
                var accumulator: UInt32 = 0
                var bits: UInt32 = 0
                var count = 0
                var index = 0
                while index < input.count {
                    let value = table[Int(input[index])]
                    index += 1
                    if value >= 64 { continue }
                    accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFFFF
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        output[count] = UInt8(truncatingIfNeeded: accumulator >> bits)
                        count += 1
                    }
                }
                written = count
            }
        }
    }

    /// Each byte's base64 value (URL-safe letters too), 255 outside the alphabet.
    static let base64Values: [UInt8] = (0...255).map { byte in
        switch byte {
        case 65...90: return UInt8(byte - 65)
        case 97...122: return UInt8(byte - 71)
        case 48...57: return UInt8(byte + 4)
        case 43, 45: return 62
        case 47, 95: return 63
        default: return 255
        }
    }

    /// Quoted-printable (RFC 2045 §6.7); in an encoded-word (RFC 2047 §4.2) "_" is a space.
    /// A malformed escape is kept as it is.
    static func quotedPrintable(_ text: ArraySlice<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        let bytes = Array(text)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
                // A soft line break: "=" then optional white space and the line end.
                var next = index + 1
                while next < bytes.count && (bytes[next] == 32 || bytes[next] == 9) { next += 1 }
                if next < bytes.count && bytes[next] == 13 { next += 1 }
                if next < bytes.count && bytes[next] == 10 {
                    index = next + 1
                    continue
                }
                if next == bytes.count {
                    index = next
                    continue
                }
            }
            out.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 32 : byte)
            index += 1
        }
        return out
    }

    /// Bytes in a charset, as text. UTF-8, ASCII and unknown charsets are read as UTF-8
    /// (invalid sequences become U+FFFD); the ISO 8859 and Windows single-byte charsets as
    /// Latin-1 (Windows-1252 for its 0x80–0x9F), close enough for what a bounce says.
    static func string(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        let name = (charset ?? "").lowercased()
        let singleByte =
            name.hasPrefix("iso-8859") || name.hasPrefix("iso8859") || name.hasPrefix("windows-125")
            || name.hasPrefix("cp125") || name.hasPrefix("latin") || name == "l1" || name == "ansi_x3.4-1968"
        guard singleByte, bytes.contains(where: { $0 >= 0x80 }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            if byte >= 0x80 && byte < 0xA0, let mapped = windows1252[Int(byte) - 0x80] {
                scalars.append(mapped)
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    /// Windows-1252 at 0x80–0x9F (undefined positions left to Latin-1, which the cleaning
    /// of every result then removes as C1 controls).
    static let windows1252: [Unicode.Scalar?] = [
        "\u{20AC}", nil, "\u{201A}", "\u{0192}", "\u{201E}", "\u{2026}", "\u{2020}", "\u{2021}",
        "\u{02C6}", "\u{2030}", "\u{0160}", "\u{2039}", "\u{0152}", nil, "\u{017D}", nil,
        nil, "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2022}", "\u{2013}", "\u{2014}",
        "\u{02DC}", "\u{2122}", "\u{0161}", "\u{203A}", "\u{0153}", nil, "\u{017E}", "\u{0178}",
    ]

    /// A header value with its RFC 2047 encoded-words (`=?utf-8?q?R=C3=A9ponse?=`)
    /// decoded; white space between two adjacent encoded-words is dropped (§6.2).
    static func decodedWords(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        let bytes = Array(value.utf8)
        var out = ""
        var literal: [UInt8] = []
        var afterWord = false
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?"),
                let (text, end) = encodedWord(bytes, at: index)
            {
                // Only white space since the last word: it goes.
                if !(afterWord && literal.allSatisfy({ $0 == 32 || $0 == 9 })) {
                    out += String(decoding: literal, as: UTF8.self)
                }
                literal.removeAll()
                out += text
                afterWord = true
                index = end
                continue
            }
            literal.append(bytes[index])
            if bytes[index] != 32 && bytes[index] != 9 { afterWord = false }
            index += 1
        }
        return out + String(decoding: literal, as: UTF8.self)
    }

    /// One encoded-word at `start`: `=?charset[*lang]?B|Q?text?=`, its text and where it ends.
    static func encodedWord(_ bytes: [UInt8], at start: Int) -> (String, Int)? {
        let question = UInt8(ascii: "?")
        var index = start + 2
        let charsetStart = index
        while index < bytes.count && bytes[index] != question && bytes[index] > 32 && index - start < 80 { index += 1 }
        guard index + 2 < bytes.count, bytes[index] == question, bytes[index + 2] == question else { return nil }
        var charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        let textStart = index + 3
        index = textStart
        while index + 1 < bytes.count && !(bytes[index] == question && bytes[index + 1] == UInt8(ascii: "=")) {
            guard bytes[index] > 32, index - textStart < 1_000 else { return nil }
            index += 1
        }
        guard index + 1 < bytes.count else { return nil }
        let encoded = bytes[textStart..<index]
        let decoded =
            encoding == UInt8(ascii: "b") ? base64(encoded) : quotedPrintable(encoded, underscoreIsSpace: true)
        return (string(decoded, charset: charset), index + 2)
    }

    /// HTML reduced to its text, for a bounce that has no text/plain part: tags removed
    /// (those that break lines become line breaks), the common entities decoded.
    static func htmlText(_ html: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = html.unicodeScalars.makeIterator()
        let breaking: Set<String> = [
            "br", "p", "/p", "div", "/div", "tr", "/tr", "li", "/li", "h1", "h2", "h3", "table",
        ]
        var skipping = false
        while let scalar = scalars.next() {
            if scalar == "<" {
                var tag = ""
                while let inner = scalars.next(), inner != ">" {
                    if tag.unicodeScalars.count < 10 { tag.unicodeScalars.append(inner) }
                }
                let name = tag.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first ?? ""
                if name == "style" || name == "script" { skipping = true }
                if name == "/style" || name == "/script" { skipping = false }
                if breaking.contains(String(name).replacingOccurrences(of: "/>", with: "")) { out.append("\n") }
            } else if skipping {
                continue
            } else if scalar == "&" {
                var entity = ""
                var ended = false
                while let inner = scalars.next() {
                    if inner == ";" {
                        ended = true
                        break
                    }
                    entity.unicodeScalars.append(inner)
                    if entity.unicodeScalars.count > 8 || inner == " " || inner == "<" { break }
                }
                if ended, let decoded = entityValue(entity) {
                    out.append(decoded)
                } else {
                    out.append("&")
                    out.append(contentsOf: entity.unicodeScalars)
                    if ended { out.append(";") }
                }
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func entityValue(_ name: String) -> Unicode.Scalar? {
        switch name.lowercased() {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return " "
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value =
                digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return value.flatMap(Unicode.Scalar.init)
        }
    }
}
