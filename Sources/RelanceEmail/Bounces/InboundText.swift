import Foundation

/// Text rules of the bounce parser's results: one line, no control characters, a bounded
/// length; e-mail addresses and RFC 3463 status codes found in text.
enum InboundText {
    static func trimmed(_ text: some StringProtocol) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
    }

    /// Whether a scalar is a control character or a line separator (C0, DEL, C1, U+2028,
    /// U+2029): none of them is left in a result.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) || scalar == "\u{2028}"
            || scalar == "\u{2029}"
    }

    /// One line of at most `limit` scalars: controls and line breaks become spaces, runs of
    /// spaces one space, no space at either end. Only the first `limit * 4 + 1024` scalars
    /// are looked at, so that a huge value costs no more than a short one.
    static func clean(_ text: some StringProtocol, limit: Int) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        var pendingSpace = false
        var looked = 0
        for scalar in text.unicodeScalars {
            looked += 1
            if looked > limit * 4 + 1_024 || count >= limit { break }
            if isControl(scalar) || scalar == " " || scalar == "\u{FEFF}" {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace {
                if count + 1 >= limit { break }
                out.append(" ")
                count += 1
                pendingSpace = false
            }
            out.append(scalar)
            count += 1
        }
        return String(out)
    }

    /// A cleaned value, or nil if nothing is left.
    static func cleanOrNil(_ text: (some StringProtocol)?, limit: Int) -> String? {
        guard let text else { return nil }
        let value = clean(text, limit: limit)
        return value.isEmpty ? nil : value
    }

    /// An address as the parser returns it: cleaned, without angle brackets or a
    /// `mailto:`, the domain lowercased.
    static func normalizedAddress(_ text: some StringProtocol) -> String? {
        var value = Substring(clean(text, limit: 320))
        while let first = value.first, "<\"'([".contains(first) { value = value.dropFirst() }
        while let last = value.last, ">\"')].,;:".contains(last) { value = value.dropLast() }
        if value.lowercased().hasPrefix("mailto:") { value = value.dropFirst(7) }
        // An X.400 form (Exchange's "dda:SMTP=a@b").
        if value.lowercased().hasPrefix("smtp=") { value = value.dropFirst(5) }
        guard !value.isEmpty, !value.contains(" ") else { return nil }
        guard let at = value.lastIndex(of: "@") else { return String(value) }
        return String(value[..<at]) + "@" + value[value.index(after: at)...].lowercased()
    }

    /// The addresses of an address-list header (`"Doe, J." <j@x.fr>, k@y.fr (K)`, groups):
    /// one per element that holds an `@`.
    static func addresses(inList value: String) -> [String] {
        var found: [String] = []
        var element = ""
        var quoted = false
        var angle = false
        var comment = 0
        func finish() {
            defer { element = "" }
            let text: Substring
            if let open = element.lastIndex(of: "<"), let close = element[open...].firstIndex(of: ">") {
                text = element[element.index(after: open)..<close]
            } else {
                // A group's name ("team: a@b") and white space around the address go.
                let words = element.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" || $0 == ";" })
                guard let word = words.last(where: { $0.contains("@") }) else { return }
                text = word
            }
            if text.contains("@"), let address = normalizedAddress(text) { found.append(address) }
        }
        for character in value.prefix(100_000) {
            if quoted {
                if character == "\"" { quoted = false }
                continue
            }
            if comment > 0 {
                if character == "(" { comment += 1 }
                if character == ")" { comment -= 1 }
                continue
            }
            switch character {
            case "\"": quoted = true
            case "(": comment = 1
            case "<":
                angle = true
                element.append(character)
            case ">":
                angle = false
                element.append(character)
            case "," where !angle, ";" where !angle: finish()
            default: element.append(character)
            }
        }
        finish()
        return found
    }

    static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122, 128...255: return true
        default: return "!#$%&'*+-/=?^_`{|}~.".utf8.contains(byte)
        }
    }

    /// The address-like words (`local@domain.tld`) of a line, in order.
    static func addressWords(in line: Substring) -> [String] {
        let bytes = Array(line.utf8)
        var found: [String] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "@") else {
                index += 1
                continue
            }
            var start = index
            while start > 0 && isAddressByte(bytes[start - 1]) && bytes[start - 1] != UInt8(ascii: "'") { start -= 1 }
            var end = index + 1
            while end < bytes.count && (isDomainByte(bytes[end])) { end += 1 }
            while start < index && bytes[start] == UInt8(ascii: ".") { start += 1 }
            while end > index + 1 && (bytes[end - 1] == UInt8(ascii: ".") || bytes[end - 1] == UInt8(ascii: "-")) {
                end -= 1
            }
            if start < index && end > index + 1,
                let address = normalizedAddress(String(decoding: bytes[start..<end], as: UTF8.self))
            {
                found.append(address)
            }
            index = max(end, index + 1)
        }
        return found
    }

    static func isDomainByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122, 128...255, UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }

    /// An RFC 3463 status (`class.subject.detail`, class 2, 4 or 5, subject and detail
    /// 0–999), normalized (`5.01.001` → `5.1.1`).
    static func status(_ class: Int, _ subject: Int, _ detail: Int) -> String? {
        guard [2, 4, 5].contains(`class`), (0...999).contains(subject), (0...999).contains(detail) else { return nil }
        return "\(`class`).\(subject).\(detail)"
    }

    /// The first RFC 3463 status code in text, standing alone (not part of an IP address
    /// or a version number: no digit, letter or dot right before, no digit or `.digit`
    /// right after).
    static func firstStatus(in text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8.prefix(100_000))
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            defer { index += 1 }
            guard byte == 50 || byte == 52 || byte == 53 else { continue }
            if index > 0 {
                let before = bytes[index - 1]
                if before == UInt8(ascii: ".") || isAlphanumeric(before) { continue }
            }
            guard let (subject, afterSubject) = number(bytes, from: index + 2), index + 1 < bytes.count,
                bytes[index + 1] == UInt8(ascii: "."), afterSubject < bytes.count,
                bytes[afterSubject] == UInt8(ascii: "."), let (detail, end) = number(bytes, from: afterSubject + 1)
            else { continue }
            if end < bytes.count {
                if isAlphanumeric(bytes[end]) { continue }
                if bytes[end] == UInt8(ascii: "."), end + 1 < bytes.count, isDigit(bytes[end + 1]) { continue }
            }
            if let found = status(Int(byte) - 48, subject, detail) { return found }
        }
        return nil
    }

    /// 1 to 3 digits from `start`: their value and where they end.
    static func number(_ bytes: [UInt8], from start: Int) -> (Int, Int)? {
        var end = start
        var value = 0
        while end < bytes.count && isDigit(bytes[end]) && end - start < 3 {
            value = value * 10 + Int(bytes[end]) - 48
            end += 1
        }
        guard end > start, end >= bytes.count || !isDigit(bytes[end]) else { return nil }
        return (value, end)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= 97 && byte | 0x20 <= 122)
    }

    /// A `Status:` field's value normalized: its status code, or from a bare reply code
    /// (`550`) the class alone (`5.0.0`); nil if there is neither.
    static func normalizedStatus(_ value: String) -> String? {
        let text = trimmed(value)
        if let found = firstStatus(in: text) { return found }
        let bytes = Array(text.utf8.prefix(4))
        if bytes.count >= 3, [50, 52, 53].contains(bytes[0]), isDigit(bytes[1]), isDigit(bytes[2]),
            bytes.count == 3 || !isDigit(bytes[3])
        {
            return "\(bytes[0] - 48).0.0"
        }
        return nil
    }

    /// The class digit of a status code (`5` of `5.1.1`).
    static func statusClass(_ status: String?) -> Character? { status?.first }
}
