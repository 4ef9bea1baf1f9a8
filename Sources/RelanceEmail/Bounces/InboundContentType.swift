import Foundation

/// A Content-Type value (RFC 2045 §5.1): type and subtype lowercased, parameters by
/// lowercased name. Quoted strings and comments are understood, and RFC 2231 sections
/// (`boundary*0=`, `name*=utf-8''…`) are joined. A missing or unreadable value is
/// `text/plain` (RFC 2045 §5.2).
struct InboundContentType: Sendable, Equatable {
    var type: String
    var subtype: String
    var parameters: [String: String]

    var mimeType: String { "\(type)/\(subtype)" }

    init(_ value: String?) {
        type = "text"
        subtype = "plain"
        parameters = [:]
        guard let value else { return }
        let pieces = Self.pieces(Array(value.utf8.prefix(16_384)))
        guard let first = pieces.first, let slash = first.firstIndex(of: UInt8(ascii: "/")) else { return }
        let major = Self.token(first[..<slash]), minor = Self.token(first[(slash + 1)...])
        guard !major.isEmpty, !minor.isEmpty else { return }
        type = major.lowercased()
        subtype = minor.lowercased()
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = Self.token(piece[..<equals]).lowercased()
            guard !name.isEmpty else { continue }
            let text = Self.parameterValue(piece[(equals + 1)...])
            // RFC 2231: "name*", "name*0", "name*1*"… are sections of one parameter.
            guard let star = name.firstIndex(of: "*") else {
                if parameters[name] == nil { parameters[name] = text }
                continue
            }
            let base = String(name[..<star])
            var section = text
            if name.hasSuffix("*") {
                if name == base + "*" || name.hasSuffix("*0*"), let quote = section.lastIndex(of: "'") {
                    section = String(section[section.index(after: quote)...])
                }
                section = Self.percentDecoded(section)
            }
            parameters[base, default: ""] += section
        }
    }

    /// The value split at the semicolons that are outside quoted strings and comments,
    /// with the comments removed.
    static func pieces(_ bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        var comment = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") && (quoted || comment > 0) {
                if !quoted || index + 1 >= bytes.count {
                    index += 2
                    continue
                }
                current.append(byte)
                current.append(bytes[index + 1])
                index += 2
                continue
            }
            if quoted {
                if byte == UInt8(ascii: "\"") { quoted = false }
                current.append(byte)
            } else if byte == UInt8(ascii: "(") {
                comment += 1
            } else if comment > 0 {
                if byte == UInt8(ascii: ")") { comment -= 1 }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
                current.append(byte)
            } else if byte == UInt8(ascii: ";") {
                pieces.append(current)
                current = []
            } else {
                current.append(byte)
            }
            index += 1
        }
        pieces.append(current)
        return pieces
    }

    /// A token: the bytes without white space or controls around them.
    static func token(_ bytes: ArraySlice<UInt8>) -> String {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end && bytes[start] <= 32 { start += 1 }
        while end > start && bytes[end - 1] <= 32 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// A parameter value: a quoted string unquoted, or the token (tolerating the
    /// specials that senders leave unquoted, as in `boundary=----=_Part_1`).
    static func parameterValue(_ bytes: ArraySlice<UInt8>) -> String {
        let trimmed = Array(bytes.drop { $0 <= 32 })
        guard trimmed.first == UInt8(ascii: "\"") else {
            let end = trimmed.firstIndex { $0 <= 32 } ?? trimmed.count
            return String(decoding: trimmed[..<end], as: UTF8.self)
        }
        var out: [UInt8] = []
        var index = 1
        while index < trimmed.count && trimmed[index] != UInt8(ascii: "\"") {
            if trimmed[index] == UInt8(ascii: "\\") && index + 1 < trimmed.count { index += 1 }
            out.append(trimmed[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `%XX` escapes of an RFC 2231 extended value; a malformed escape is kept as it is.
    static func percentDecoded(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return text }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = InboundDecoding.hexValue(bytes[index + 1]),
                let low = InboundDecoding.hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
