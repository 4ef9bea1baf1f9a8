import Foundation

/// Finds the recipients a bounce's text names, with what it says of each.
enum BounceRecipientScanner {
    /// Labels before an address that name the original message's fields, not a recipient.
    static let headerLabels: Set<String> = [
        "to", "from", "cc", "bcc", "subject", "sent", "date", "reply-to", "sender", "return-path", "received",
        "message-id", "delivered-to", "x-original-to", "envelope-to", "in-reply-to", "references", "errors-to",
        "mail from", "mail from:", "sender address",
    ]

    static func scan(_ text: BounceTextLines) -> [BounceReport.Recipient] {
        let markers = text.lineFlags(BounceHeuristics.listMarkers)
        let mentions = text.lineFlags(BounceHeuristics.inlinePhrases)
        let generated = text.lineFlags(["(generated from ", "(expanded from"])
        var found: [BounceReport.Recipient] = []
        var index: [String: Int] = [:]
        var current: (address: String, lines: [Substring])?
        var listed = false
        func close() {
            guard let block = current else { return }
            current = nil
            let recipient = describe(block.address, block.lines)
            let key = recipient.address.lowercased()
            if let at = index[key] {
                // Named twice (Exchange: once for the reader, once for administrators):
                // the mention with a status wins.
                if found[at].status == nil && recipient.status != nil || found[at].diagnostic == nil {
                    found[at].status = recipient.status ?? found[at].status
                    found[at].diagnostic = recipient.diagnostic ?? found[at].diagnostic
                }
            } else if found.count < DeliveryStatusReader.maximumRecipients {
                index[key] = found.count
                found.append(recipient)
            }
        }
        var blocks = 0
        for (number, line) in text.before.enumerated() {
            if let (address, rest) = opener(line, listed: listed) {
                // Each block costs a little: no more than a report can hold.
                blocks += 1
                if blocks > 2 * DeliveryStatusReader.maximumRecipients { break }
                close()
                current = (address, rest.isEmpty ? [] : [rest])
                continue
            }
            if mentions[number], let (address, rest) = inlineMention(FoldedText(line), line) {
                close()
                listed = true
                current = (address, [rest])
                continue
            }
            if generated[number] {
                // Exim and Sendmail name the address that was sent to after the one it became.
                if let address = InboundText.addressWords(in: line).first {
                    if current == nil { current = (address, []) } else { current!.address = address }
                    continue
                }
            }
            if markers[number] {
                close()
                listed = true
                continue
            }
            if current != nil && current!.lines.count < BounceHeuristics.blockLimit { current!.lines.append(line) }
        }
        close()
        return found
    }

    /// A line that starts with an address, and the rest of the line: `  a@b`, `<a@b>:`,
    /// `a@b (a@b)`, `* [a@b]: 550 …`, `Failed Recipient: a@b`, `[SMTP:a@b]`. Before a
    /// list marker, only an address in brackets, after a label, or followed by `:`, `-`
    /// or `...` counts.
    static func opener(_ line: Substring, listed: Bool) -> (String, Substring)? {
        guard line.utf8.count <= 2_000,
            line.utf8.withContiguousStorageIfAvailable({
                $0.isEmpty ? false : memchr($0.baseAddress!, 64, $0.count) != nil
            })
                ?? true
        else { return nil }
        var rest = line.drop { $0 == " " || $0 == "\t" }
        while let first = rest.first, "*>•-".contains(first) {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        }
        var labeled = false
        if let colon = rest.prefix(60).firstIndex(of: ":") {
            let label = rest[..<colon]
            let words = label.split(separator: " ")
            let name = InboundText.trimmed(label).lowercased()
            if !words.isEmpty, words.count <= 4, !label.contains(where: { "@<[\"'".contains($0) }),
                !headerLabels.contains(name), name != "smtp", name != "mailto"
            {
                rest = rest[rest.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
                labeled = true
            }
        }
        guard let first = rest.first, first != "@" else { return nil }
        let bracketed = first == "<" || first == "["
        let token = rest.prefix { $0 != " " && $0 != "\t" }
        guard token.utf8.count <= 400, let address = InboundText.addressWords(in: token).first else { return nil }
        var start = Substring(token.lowercased())
        while let head = start.first, "<[\"'(".contains(head) { start = start.dropFirst() }
        for scheme in ["mailto:", "smtp:"] where start.hasPrefix(scheme) { start = start.dropFirst(scheme.count) }
        guard start.hasPrefix(address.lowercased()), !isMailSystemAddress(address) else { return nil }
        let after = rest.dropFirst(token.count)
        if !listed && !bracketed && !labeled {
            let trailing = String(decoding: start.utf8.dropFirst(address.utf8.count), as: UTF8.self)
            let next = after.drop { $0 == " " || $0 == "\t" }
            guard trailing.contains(":") || next.hasPrefix("-") || next.hasPrefix("...") else { return nil }
        }
        return (address, after)
    }

    /// "Your message wasn't delivered to a@b because…": the address and the rest.
    static func inlineMention(_ folded: FoldedText, _ line: Substring) -> (String, Substring)? {
        guard folded.contains("@") else { return nil }
        let bytes = Array(line.utf8)
        for phrase in BounceHeuristics.inlinePhrases {
            guard let at = folded.offset(of: phrase) else { continue }
            var start = at + phrase.utf8.count
            while start < bytes.count && [32, 9, 60, 34, 39].contains(bytes[start]) { start += 1 }
            var end = start
            while end < bytes.count && bytes[end] != 32 && bytes[end] != 9 { end += 1 }
            let word = String(decoding: bytes[start..<end], as: UTF8.self)
            guard let address = InboundText.addressWords(in: Substring(word)).first,
                word.lowercased().hasPrefix(address.lowercased())
            else { continue }
            if isMailSystemAddress(address) { continue }
            return (address, line)
        }
        return nil
    }

    /// "…send a message to postmaster@…", "System Contact: postmaster@…": whom to ask,
    /// not who failed.
    static func isMailSystemAddress(_ address: String) -> Bool {
        let lowered = address.lowercased()
        return lowered.hasPrefix("postmaster@") || lowered.hasPrefix("mailer-daemon@")
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
