import Foundation

/// The lines of a bounce's text, cut where the copy of the returned message starts.
struct BounceTextLines {
    /// Lines before the copy of the returned message (without line ends).
    var before: [Substring]
    /// Lines of the copy, if the text has one.
    var copy: [Substring]

    /// Lines that announce the copy of the returned message (lowercased).
    static let copyMarkers = [
        "this is a copy of the message", "below this line is a copy of the message", "copy of your message",
        "original message headers", "original message follows", "header of the original message",
        "headers of the original message", "----- original message -----", "-----original message-----",
        "------ original message ------",
    ]

    init(_ text: String, limit: Int) {
        var lines: [Substring] = []
        for piece in text.utf8.split(separator: 10, maxSplits: limit, omittingEmptySubsequences: false) {
            guard lines.count < limit else { break }
            var line = Substring(piece)
            if line.utf8.last == 13 { line = Substring(line.utf8.dropLast()) }
            lines.append(line)
        }
        let cut = lines.firstIndex { line in
            line.utf8.count < 200 && Self.copyMarkers.contains { line.lowercased().contains($0) }
        }
        before = Array(lines[..<(cut ?? lines.count)])
        copy = cut.map { Array(lines[($0 + 1)...]) } ?? []
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
        let starts = ["reporting-mta:", "final-recipient:", "original-recipient:"]
        guard
            let first = before.firstIndex(where: { line in
                line.utf8.count < 1_000 && starts.contains { line.lowercased().hasPrefix($0) }
            })
        else { return nil }
        return before[first...].joined(separator: "\n")
    }
}

/// Finds the recipients a bounce's text names, with what it says of each.
enum BounceRecipientScanner {
    static func scan(_ lines: [Substring]) -> [BounceReport.Recipient] {
        var found: [BounceReport.Recipient] = []
        var current: (address: String, lines: [Substring])?
        var listed = false
        func close() {
            guard let block = current else { return }
            current = nil
            let recipient = describe(block.address, block.lines)
            if let index = found.firstIndex(where: { $0.address.lowercased() == recipient.address.lowercased() }) {
                // Named twice (Exchange: once for the reader, once for administrators):
                // the mention with a status wins.
                if found[index].status == nil && recipient.status != nil || found[index].diagnostic == nil {
                    found[index].status = recipient.status ?? found[index].status
                    found[index].diagnostic = recipient.diagnostic ?? found[index].diagnostic
                }
            } else if found.count < DeliveryStatusReader.maximumRecipients {
                found.append(recipient)
            }
        }
        for line in lines {
            let lowered = line.utf8.count < 400 ? line.lowercased() : ""
            if let (address, rest) = opener(line, angleOnly: !listed) {
                close()
                current = (address, rest.isEmpty ? [] : [rest])
                continue
            }
            if let (address, rest) = inlineMention(lowered, line) {
                close()
                listed = true
                current = (address, [rest])
                continue
            }
            if BounceHeuristics.listMarkers.contains(where: { lowered.contains($0) }) {
                close()
                listed = true
                continue
            }
            if current != nil && current!.lines.count < BounceHeuristics.blockLimit { current!.lines.append(line) }
        }
        close()
        return found
    }

    /// A line that starts with an address (`  a@b`, `<a@b>:`, `a@b (a@b)`, `a@b on 1/2/2024`):
    /// the address and the rest of the line. Before a list marker only `<a@b>` counts.
    static func opener(_ line: Substring, angleOnly: Bool) -> (String, Substring)? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let first = trimmed.first, first != "@" else { return nil }
        if angleOnly && first != "<" { return nil }
        let token = trimmed.prefix { $0 != " " && $0 != "\t" }
        guard token.utf8.count <= 400, token.contains("@") else { return nil }
        guard let address = InboundText.addressWords(in: token).first else { return nil }
        var start = Substring(token.lowercased())
        while let head = start.first, "<\"'(".contains(head) { start = start.dropFirst() }
        if start.hasPrefix("mailto:") { start = start.dropFirst(7) }
        guard start.hasPrefix(address.lowercased()) else { return nil }
        return (address, trimmed.dropFirst(token.count))
    }

    /// "Your message wasn't delivered to a@b because…": the address and the rest.
    static func inlineMention(_ lowered: String, _ line: Substring) -> (String, Substring)? {
        guard !lowered.isEmpty, lowered.contains("@") else { return nil }
        for phrase in BounceHeuristics.inlinePhrases {
            guard let range = lowered.range(of: phrase) else { continue }
            let after = lowered[range.upperBound...].drop { $0 == " " || $0 == "<" || $0 == "\"" }
            guard let address = InboundText.addressWords(in: Substring(after.prefix { $0 != " " })).first,
                after.hasPrefix(address.lowercased())
            else { continue }
            // The original casing of the address: the line at the same offset.
            let offset = lowered.distance(from: lowered.startIndex, to: after.startIndex)
            let original = line.count == lowered.count ? line.dropFirst(offset) : Substring(after)
            let exact = InboundText.addressWords(in: Substring(original.prefix { $0 != " " })).first ?? address
            // "…send a message to postmaster@…" names whom to ask, not who failed.
            if ["postmaster@", "mailer-daemon@"].contains(where: { address.hasPrefix($0) }) { continue }
            return (exact, line)
        }
        return nil
    }

    /// What a block of text says of one recipient: the status it gives and the paragraph
    /// that holds the server's reply (or the first paragraph) as diagnostic.
    static func describe(_ address: String, _ lines: [Substring]) -> BounceReport.Recipient {
        var paragraphs: [[Substring]] = [[]]
        for line in lines {
            if InboundText.trimmed(line).isEmpty {
                if !paragraphs[paragraphs.count - 1].isEmpty { paragraphs.append([]) }
            } else {
                paragraphs[paragraphs.count - 1].append(line)
            }
        }
        let texts = paragraphs.filter { !$0.isEmpty }.map { $0.joined(separator: " ") }
        let withCode = texts.first { InboundText.firstStatus(in: $0) != nil || replyCodeClass($0) != nil }
        let diagnostic = (withCode ?? texts.first).flatMap {
            InboundText.cleanOrNil($0, limit: DeliveryStatusReader.diagnosticLimit)
        }
        let status = texts.lazy.compactMap { InboundText.firstStatus(in: $0) }.first
        return BounceReport.Recipient(address: address, status: status, diagnostic: diagnostic)
    }

    /// The class (`5`, `4`) of the first SMTP reply code (`550`, `#550`, `'452`, `550-`)
    /// standing as a word in text.
    static func replyCodeClass(_ text: String) -> Character? {
        let bytes = Array(text.utf8.prefix(4_000))
        var index = 0
        while index + 2 < bytes.count {
            let byte = bytes[index]
            defer { index += 1 }
            guard byte == 52 || byte == 53, InboundText.isDigit(bytes[index + 1]), InboundText.isDigit(bytes[index + 2])
            else { continue }
            if index > 0 && !" #'(\"=:".utf8.contains(bytes[index - 1]) { continue }
            if index + 3 < bytes.count && !" -".utf8.contains(bytes[index + 3]) { continue }
            return byte == 53 ? "5" : "4"
        }
        return nil
    }
}
