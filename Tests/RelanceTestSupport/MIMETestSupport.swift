import Foundation

/// Small independent decoders, so that the tests check what a mail reader would see.
public enum MIMETestSupport {
    /// Quoted-printable (RFC 2045 §6.7) back to bytes; hard line breaks become "\n".
    /// Returns nil on a malformed escape.
    public static func decodeQuotedPrintable(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        let lines = text.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            var bytes = Array(line.utf8)
            var soft = false
            if bytes.last == UInt8(ascii: "=") {
                soft = true
                bytes.removeLast()
            }
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "=") {
                    guard i + 2 < bytes.count else { return nil }
                    let hex = String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self)
                    guard hex.uppercased() == hex, let value = UInt8(hex, radix: 16) else { return nil }
                    out.append(value)
                    i += 3
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            if !soft && index < lines.count - 1 { out.append(UInt8(ascii: "\n")) }
        }
        return out
    }

    /// One RFC 2047 `=?UTF-8?B?…?=` word to its bytes, or nil if it is not one.
    public static func encodedWordBytes(_ word: String) -> [UInt8]? {
        guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="), word.count >= 12 else { return nil }
        let payload = String(word.dropFirst(10).dropLast(2))
        return Data(base64Encoded: payload).map { Array($0) }
    }

    /// An unstructured header value as a mail reader shows it: adjacent encoded-words
    /// joined without the white space between them (RFC 2047 §6.2).
    public static func decodeUnstructured(_ value: String) -> String? {
        let words = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var out = ""
        var previousWasEncoded = false
        for (i, word) in words.enumerated() {
            if let bytes = encodedWordBytes(word) {
                guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
                if i > 0 && !previousWasEncoded { out += " " }
                out += text
                previousWasEncoded = true
            } else {
                if i > 0 { out += " " }
                out += word
                previousWasEncoded = false
            }
        }
        return out
    }

    /// Header block and body of a message: split at the first empty line.
    public static func split(_ message: String) -> (headers: String, body: String)? {
        guard let range = message.range(of: "\r\n\r\n") else { return nil }
        return (String(message[..<range.lowerBound]) + "\r\n", String(message[range.upperBound...]))
    }

    /// Unfolded header fields, in order: (name, value).
    public static func headerFields(_ block: String) -> [(name: String, value: String)] {
        let unfolded = block.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: "\t")
        return unfolded.components(separatedBy: "\r\n").filter { !$0.isEmpty }.map { line in
            guard let colon = line.firstIndex(of: ":") else { return (line, "") }
            var value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
            return (String(line[..<colon]), String(value))
        }
    }

    /// The text without one final CRLF (which belongs to the next boundary delimiter).
    /// Careful: "\r\n" is a single Character in Swift, so work on the UTF-8 view.
    public static func droppingFinalCRLF(_ text: String) -> String {
        text.hasSuffix("\r\n") ? String(decoding: text.utf8.dropLast(2), as: UTF8.self) : text
    }

    /// Physical lines of a CRLF text (without the terminators).
    public static func lines(_ text: String) -> [String] {
        var lines = text.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// True when every line break is CRLF: no bare CR, no bare LF.
    public static func hasOnlyCRLF(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        for (i, b) in bytes.enumerated() {
            if b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A) { return false }
            if b == 0x0A && (i == 0 || bytes[i - 1] != 0x0D) { return false }
        }
        return true
    }

    /// The `boundary` parameter of a Content-Type value.
    public static func boundary(in contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=\"") else { return nil }
        let rest = contentType[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
