import Foundation

/// The lines of a bounce's text, cut where the copy of the returned message starts, with
/// the text folded to lowercase once for the phrase searches.
struct BounceTextLines {
    /// Every line (without its line end), at most `limit`.
    var lines: [Substring]
    /// The text of those lines, folded; `starts[i]` is where line `i` starts in it.
    var folded: FoldedText
    var starts: [Int]
    /// The index of the line that announces the copy of the returned message, or
    /// `lines.count`.
    var cut: Int

    /// Lines before the copy of the returned message.
    var before: ArraySlice<Substring> { lines[..<cut] }
    /// Lines of the copy, if the text has one.
    var copy: ArraySlice<Substring> { cut < lines.count ? lines[(cut + 1)...] : [] }
    /// The folded text before the copy.
    var foldedBefore: FoldedText {
        FoldedText(bytes: Array(folded.bytes[..<(cut < starts.count ? starts[cut] : folded.bytes.count)]))
    }

    /// Lines that announce the copy of the returned message (lowercased).
    static let copyMarkers = [
        "this is a copy of the message", "below this line is a copy of the message", "is a copy of your message",
        "original message headers", "original message follows", "header of the original message",
        "headers of the original message", "----- original message -----", "-----original message-----",
        "------ original message ------", "start of returned message", "returned mail follows",
        "message header follows", "original message as received", "- returned mail -", "undelivered message follows",
    ]

    init(_ text: String, limit: Int) {
        var folded = FoldedText(text)
        var starts = [0]
        folded.bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count && starts.count < limit,
                let found = memchr(base + offset, 10, buffer.count - offset)
            {
                offset = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found)) + 1
                starts.append(offset)
            }
        }
        if starts.count == limit, let last = starts.last {
            folded.bytes.removeSubrange(last...)
        }
        var lines: [Substring] = []
        lines.reserveCapacity(starts.count)
        var index = text.utf8.startIndex
        var previous = 0
        for (number, start) in starts.enumerated() {
            let end = number + 1 < starts.count ? starts[number + 1] - 1 : folded.bytes.count
            index = text.utf8.index(index, offsetBy: start - previous)
            var stop = text.utf8.index(index, offsetBy: end - start)
            if end > start && folded.bytes[end - 1] == 13 { stop = text.utf8.index(before: stop) }
            lines.append(text[index..<stop])
            previous = start
        }
        self.lines = lines
        self.folded = folded
        self.starts = starts
        cut = lines.count
        let marked = lineFlags(Self.copyMarkers, maximumLength: 200)
        cut = marked.firstIndex(of: true) ?? lines.count
    }

    /// For each line before the cut, whether it holds one of the phrases (lines longer
    /// than `maximumLength` bytes never do: markers are short lines).
    func lineFlags(_ phrases: [String], maximumLength: Int = 400) -> [Bool] {
        var flags = [Bool](repeating: false, count: cut)
        let limit = cut < starts.count ? starts[cut] : folded.bytes.count
        for phrase in phrases {
            var from = 0
            while from < limit, let at = folded.offset(of: phrase, from: from), at < limit {
                let line = lineIndex(at)
                let length = (line + 1 < starts.count ? starts[line + 1] : folded.bytes.count) - starts[line]
                if line < cut && length <= maximumLength { flags[line] = true }
                from = at + 1
            }
        }
        return flags
    }

    /// The line that holds a byte offset.
    func lineIndex(_ offset: Int) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The header of the returned message when the text quotes it after its marker.
    func inlineOriginal() -> InboundMessage? {
        guard let first = copy.firstIndex(where: { !InboundText.trimmed($0).isEmpty }) else { return nil }
        let bytes = Array(copy[first...].prefix(2_000).joined(separator: "\n").utf8)
        let (fields, _) = InboundMessage.readFields(bytes[...], from: 0)
        guard !fields.isEmpty else { return nil }
        return InboundMessage(fields: fields, body: [], contentType: InboundContentType(nil), parts: [])
    }

    /// RFC 3464 fields written in the text itself (a report sent as text/plain), from the
    /// first Reporting-MTA, Final-Recipient or Original-Recipient line.
    func deliveryStatusFields() -> String? {
        let flags = lineFlags(["reporting-mta:", "final-recipient:", "original-recipient:"], maximumLength: 1_000)
        guard
            let first = flags.indices.first(where: { index in
                flags[index]
                    && ["reporting-mta:", "final-recipient:", "original-recipient:"].contains {
                        FoldedText(lines[index].prefix(40)).hasPrefix($0)
                    }
            })
        else { return nil }
        return before[first...].joined(separator: "\n")
    }
}
