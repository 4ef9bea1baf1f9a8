import Foundation

/// One header field of an inbound message: the name lowercased, the value unfolded
/// (RFC 5322 §2.2.3) and decoded as UTF-8 (invalid bytes become U+FFFD).
struct InboundField: Sendable, Equatable {
    var name: String
    var value: String
}

/// One MIME entity of an inbound e-mail, read tolerantly (RFC 5322, RFC 2045/2046): its
/// header, its raw body and, for a multipart, its parts, for `message/rfc822` and
/// `text/rfc822-headers`, the embedded message. Bytes in, value out; the work is linear in
/// the input for each of at most `maximumDepth` levels, whatever the bytes.
struct InboundMessage: Sendable {
    /// Levels of nesting read (multiparts and embedded messages); deeper entities are left unread.
    static let maximumDepth = 8
    /// Entities read in one message, all levels together.
    static let maximumEntities = 2_000
    /// Header fields kept per header block.
    static let maximumFields = 1_000

    var fields: [InboundField]
    /// The body as it was sent (before any Content-Transfer-Encoding is undone).
    var body: ArraySlice<UInt8>
    var contentType: InboundContentType
    /// The parts of a multipart, or the one embedded message of a `message/rfc822`,
    /// `message/global`, `text/rfc822-headers` or `message/global-headers` entity.
    var parts: [InboundMessage]

    /// The first value of a field, by case-insensitive name.
    func value(_ name: String) -> String? {
        let name = name.lowercased()
        return fields.first { $0.name == name }?.value
    }

    /// Every value of a field, in order, by case-insensitive name.
    func values(_ name: String) -> [String] {
        let name = name.lowercased()
        return fields.filter { $0.name == name }.map(\.value)
    }

    /// `content-transfer-encoding`, lowercased, without comments or parameters.
    var transferEncoding: String {
        guard let value = value("content-transfer-encoding") else { return "7bit" }
        let token = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" || $0 == "(" }).first
        return token.map { $0.lowercased() } ?? "7bit"
    }

    /// Whether this entity holds another message (or only its header) as its one part.
    var isEmbeddedMessage: Bool {
        Self.embeddedTypes.contains(contentType.mimeType)
    }

    static let embeddedTypes: Set<String> = [
        "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers",
    ]

    /// Reads a whole message.
    static func parse(_ bytes: ArraySlice<UInt8>) -> InboundMessage {
        var budget = maximumEntities
        var start = bytes.startIndex
        // An mbox "From " line (a pipe transport may pass one) is not a header.
        if BounceByteSearch.hasPrefix(bytes, at: start, end: bytes.endIndex, Array("From ".utf8)) {
            start = lineEnd(in: bytes, from: start).next
        }
        return parse(bytes[start...], depth: 0, budget: &budget)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, budget: inout Int) -> InboundMessage {
        budget -= 1
        let (fields, bodyStart) = readFields(bytes, from: bytes.startIndex)
        var message = InboundMessage(
            fields: fields, body: bytes[bodyStart...], contentType: InboundContentType(nil), parts: [])
        message.contentType = InboundContentType(message.value("content-type"))
        guard depth < maximumDepth, budget > 0 else { return message }
        if message.contentType.type == "multipart" {
            guard let boundary = message.contentType.parameters["boundary"], !boundary.isEmpty else { return message }
            for part in splitMultipart(message.body, boundary: Array(boundary.utf8)) {
                guard budget > 0 else { break }
                message.parts.append(parse(part, depth: depth + 1, budget: &budget))
            }
        } else if message.isEmbeddedMessage {
            let content = InboundDecoding.transferDecoded(message.body, encoding: message.transferEncoding)
            message.parts = [parse(content, depth: depth + 1, budget: &budget)]
        }
        return message
    }

    /// The entities of this message in depth-first order, this one first. Embedded
    /// messages are entered only if `intoEmbedded`, so that a report's own parts are not
    /// confused with those of the message it returns.
    func entities(intoEmbedded: Bool) -> [InboundMessage] {
        var found: [InboundMessage] = []
        collect(into: &found, intoEmbedded: intoEmbedded)
        return found
    }

    private func collect(into found: inout [InboundMessage], intoEmbedded: Bool) {
        found.append(self)
        if isEmbeddedMessage && !intoEmbedded { return }
        for part in parts { part.collect(into: &found, intoEmbedded: intoEmbedded) }
    }

    static func lineEnd(in bytes: ArraySlice<UInt8>, from start: Int) -> (content: Int, next: Int) {
        BounceByteSearch.lineEnd(in: bytes, from: start)
    }

    /// Whether a line holds only white space.
    static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.withUnsafeBufferPointer { buffer in
            for byte in buffer where byte != 32 && byte != 9 && byte != 13 { return false }
            return true
        }
    }

    /// A header block from `start`: its fields, and where the body starts (after the blank
    /// line, or at the first line that is neither a field nor a continuation).
    static func readFields(_ bytes: ArraySlice<UInt8>, from start: Int) -> (fields: [InboundField], bodyStart: Int) {
        var fields: [InboundField] = []
        var name: ArraySlice<UInt8>?
        var value: [UInt8] = []
        func flush() {
            if let current = name, fields.count < maximumFields {
                let lowered = String(decoding: current.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
                fields.append(InboundField(name: lowered, value: trimmedText(value)))
            }
            name = nil
            value.removeAll(keepingCapacity: true)
        }
        var position = start
        while position < bytes.endIndex {
            let (contentEnd, next) = lineEnd(in: bytes, from: position)
            let line = bytes[position..<contentEnd]
            if isBlank(line) {
                flush()
                return (fields, next)
            }
            let first = bytes[position]
            if first == 32 || first == 9 {
                // A continuation line: unfolding keeps its leading white space.
                if name != nil { value.append(contentsOf: line) }
            } else if let colon = fieldNameEnd(line) {
                flush()
                var end = colon
                while end > line.startIndex && (bytes[end - 1] == 32 || bytes[end - 1] == 9) { end -= 1 }
                name = line[line.startIndex..<end]
                value.append(contentsOf: line[(colon + 1)...])
            } else {
                // Not a header line: the body starts here (a part without a blank line).
                flush()
                return (fields, position)
            }
            position = next
        }
        flush()
        return (fields, bytes.endIndex)
    }

    /// Bytes as text without the white space around them.
    static func trimmedText(_ bytes: [UInt8]) -> String {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 32 || bytes[start] == 9 || bytes[start] == 13) { start += 1 }
        while end > start && (bytes[end - 1] == 32 || bytes[end - 1] == 9 || bytes[end - 1] == 13) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// Where the colon of a field line is, if the line starts with a field name (RFC 5322
    /// §3.6.8: printable ASCII but ":"; obsolete syntax allows white space before the colon).
    static func fieldNameEnd(_ line: ArraySlice<UInt8>) -> Int? {
        line.withUnsafeBufferPointer { buffer -> Int? in
            var sawName = false
            var sawSpace = false
            var offset = 0
            while offset < buffer.count {
                let byte = buffer[offset]
                offset += 1
                if byte == UInt8(ascii: ":") { return sawName ? line.startIndex + offset - 1 : nil }
                if byte == 32 || byte == 9 {
                    sawSpace = true
                } else if byte > 32 && byte < 127 && !sawSpace {
                    sawName = true
                } else {
                    return nil
                }
            }
            return nil
        }
    }

    /// The parts of a multipart body (RFC 2046 §5.1.1): preamble and epilogue dropped, a
    /// delimiter recognised at the start of a line followed only by white space (so that a
    /// longer boundary of a nested part is not taken for it); an unterminated last part
    /// runs to the end.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var position = body.startIndex
        // The line break before a delimiter belongs to the delimiter.
        var previousContentEnd = body.startIndex
        while position < body.endIndex {
            let (contentEnd, next) = lineEnd(in: body, from: position)
            if body[position] == UInt8(ascii: "-"),
                BounceByteSearch.hasPrefix(body, at: position, end: contentEnd, delimiter)
            {
                let rest = body[(position + delimiter.count)..<contentEnd]
                let closing = BounceByteSearch.hasPrefix(body, at: rest.startIndex, end: contentEnd, [45, 45])
                if closing || isBlank(rest) {
                    if let begun = partStart {
                        parts.append(body[begun..<max(begun, previousContentEnd)])
                    }
                    if closing { return parts }
                    partStart = next
                }
            }
            previousContentEnd = contentEnd
            position = next
        }
        if let begun = partStart, begun < body.endIndex { parts.append(body[begun...]) }
        return parts
    }
}
