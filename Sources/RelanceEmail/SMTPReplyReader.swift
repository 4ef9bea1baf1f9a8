/// Cuts the bytes a server sends into replies (RFC 5321 4.2): lines of a three-digit
/// code and `-` for a line to be continued, or a space (or nothing) for the last one.
public struct SMTPReplyReader: Sendable {
    /// Upper bound on one reply: a server cannot make the client buffer without limit.
    public static let maximumReplyBytes = 65_536
    /// Upper bound on the characters kept of one reply (what a trace event and `last_error` quote).
    public static let maximumTextCharacters = 2_000

    public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    private var buffer: [UInt8] = []
    /// Where the next reply starts in `buffer`.
    private var start = 0
    /// Where the first line not yet read starts (after the continuation lines of the
    /// reply being read).
    private var lineStart = 0

    public init() {}

    /// Whether bytes of a reply not yet complete are waiting.
    public var isEmpty: Bool { start == buffer.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            lineStart = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, nil if more bytes are needed.
    public mutating func next() throws(ProtocolError) -> SMTPReply? {
        while let newline = buffer[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
            var lineEnd = newline
            if lineEnd > lineStart && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = buffer[lineStart..<lineEnd]
            let separator = line.count > 3 ? line[line.startIndex + 3] : UInt8(ascii: " ")
            guard line.count >= 3, line.prefix(3).allSatisfy({ (0x30...0x39).contains($0) }),
                separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-")
            else {
                throw ProtocolError(
                    description: "the server sent a line that is not an SMTP reply: \(Self.quote(line))")
            }
            // Every line of a reply carries the same code (RFC 5321 4.2.1): `550-…` then
            // `250 …` is no answer at all, never an acceptance.
            if line.startIndex > start, !buffer[start..<start + 3].elementsEqual(line.prefix(3)) {
                throw ProtocolError(
                    description:
                        "the server changed the code within one reply: \(Self.quote(buffer[start..<start + 3])) then \(Self.quote(line))"
                )
            }
            lineStart = newline + 1
            if separator == UInt8(ascii: "-") { continue }
            let code = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
            let last = String(decoding: line, as: UTF8.self)
            // A multi-line reply keeps every line (a refusal's explanation is often in the
            // first ones), joined by spaces, within `maximumTextCharacters`.
            var text = last
            if line.startIndex > start {
                let lines = buffer[start..<lineEnd].split(separator: UInt8(ascii: "\n")).map { line in
                    String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
                }
                text = String(lines.joined(separator: " ").prefix(Self.maximumTextCharacters))
            }
            start = lineStart
            return SMTPReply(code: code, enhancedCode: SMTPReply.enhancedCode(in: last), text: text)
        }
        guard buffer.count - start <= Self.maximumReplyBytes else {
            throw ProtocolError(description: "the server sent a reply longer than \(Self.maximumReplyBytes) bytes")
        }
        return nil
    }

    private static func quote(_ line: ArraySlice<UInt8>) -> String {
        let text = String(decoding: line.prefix(80), as: UTF8.self)
        return "\"" + String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
            + "\""
    }
}
