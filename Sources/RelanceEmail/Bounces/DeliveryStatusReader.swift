import Foundation

/// The machine-readable parts of standard reports: RFC 3464 `message/delivery-status`
/// (and RFC 6533 `message/global-delivery-status`), RFC 5965 `message/feedback-report`.
enum DeliveryStatusReader {
    /// Recipients read from one report, at most.
    static let maximumRecipients = 1_000
    static let diagnosticLimit = 500
    static let addressLimit = 320

    /// The field blocks of a delivery-status body, separated by blank lines: the
    /// per-message block first, then one per recipient.
    static func blocks(_ bytes: ArraySlice<UInt8>) -> [[InboundField]] {
        var blocks: [[InboundField]] = []
        var position = bytes.startIndex
        while position < bytes.endIndex && blocks.count <= maximumRecipients {
            // Blank lines between blocks, however many.
            let (contentEnd, next) = InboundMessage.lineEnd(in: bytes, from: position)
            if InboundMessage.isBlank(bytes[position..<contentEnd]) {
                position = next
                continue
            }
            let (fields, end) = InboundMessage.readFields(bytes, from: position)
            if fields.isEmpty {
                // A line that is not a field: skip it rather than stop.
                position = next
                continue
            }
            blocks.append(fields)
            position = end
        }
        return blocks
    }

    /// The recipients of a delivery-status body: each block that names a recipient.
    static func recipients(_ bytes: ArraySlice<UInt8>) -> [BounceReport.Recipient] {
        blocks(bytes).compactMap(recipient(from:))
    }

    static func field(_ fields: [InboundField], _ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// The actions of RFC 3464 §2.3.3, by their first letters (some servers write
    /// `failure` or `delivery`).
    static let actions = [
        ("fail", "failed"), ("delay", "delayed"), ("deliver", "delivered"), ("relay", "relayed"),
        ("expand", "expanded"),
    ]

    /// One per-recipient block; nil if it names no recipient. The address is the
    /// Original-Recipient if there is one (the address as the sender gave it, RFC 3464
    /// §2.3.1), else the Final-Recipient (which may be a rewritten internal mailbox).
    static func recipient(from fields: [InboundField]) -> BounceReport.Recipient? {
        let named = [field(fields, "original-recipient"), field(fields, "final-recipient")].compactMap {
            $0.flatMap(typedAddress)
        }
        guard let address = named.first(where: { $0.contains("@") }) ?? named.first else { return nil }
        let diagnostic = field(fields, "diagnostic-code").map(withoutType).flatMap {
            InboundText.cleanOrNil($0, limit: diagnosticLimit)
        }
        let status = status(field: field(fields, "status"), diagnostic: diagnostic)
        return BounceReport.Recipient(
            address: address, action: action(field(fields, "action"), status: status), status: status,
            diagnostic: diagnostic,
            remoteMTA: field(fields, "remote-mta").map(withoutType).flatMap {
                InboundText.cleanOrNil($0, limit: addressLimit)
            })
    }

    /// The action, lowercased and normalized; an action outside RFC 3464 (`error`) or a
    /// missing one is told by the status class when there is one.
    static func action(_ value: String?, status: String?) -> String? {
        let word = value.flatMap {
            $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" || $0 == ";" }).first
        }.map { InboundText.clean($0.lowercased(), limit: 40) }
        if let word, let known = actions.first(where: { word.hasPrefix($0.0) }) { return known.1 }
        switch InboundText.statusClass(status) {
        case "5": return "failed"
        case "4": return "delayed"
        case "2": return "delivered"
        default: return word.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// The recipient's status: the Status field, unless it is missing or only says the
    /// class (`x.0.0`) and the diagnostic gives a code of the same class (RFC 3463 §3.1
    /// lets servers put a more specific one in their reply).
    static func status(field: String?, diagnostic: String?) -> String? {
        let stated = field.flatMap(InboundText.normalizedStatus)
        guard let found = diagnostic.flatMap(InboundText.firstStatus) else { return stated }
        guard let stated else { return found }
        if stated.hasSuffix(".0.0") && found.first == stated.first { return found }
        return stated
    }

    /// A value after its type (`rfc822; a@b`, `smtp; 550 …`, `dns; mx.example`): RFC 3464
    /// §2.1.2 puts an atom and a semicolon first.
    static func withoutType(_ value: String) -> Substring {
        let text = Substring(value)
        // The type is short: only its first 40 characters are searched for the semicolon.
        guard let semicolon = text.prefix(41).firstIndex(of: ";") else { return text }
        let type = text[..<semicolon]
        guard !type.isEmpty, !type.contains(where: { $0 == " " || $0 == "<" || $0 == "@" }) else { return text }
        return text[text.index(after: semicolon)...]
    }

    /// A typed address (`rfc822; a@b`, `utf-8; a\x{E9}@b` in RFC 6533), normalized.
    static func typedAddress(_ value: String) -> String? {
        var text = String(withoutType(value).prefix(4_096))
        if text.contains("\\x{") { text = unescapedUTF8Address(text) }
        return InboundText.normalizedAddress(InboundText.trimmed(text))
    }

    /// RFC 6533 §3: `\x{HEX}` stands for a Unicode scalar in a utf-8 address.
    static func unescapedUTF8Address(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: "\\x{") {
            out += rest[..<range.lowerBound]
            let after = rest[range.upperBound...]
            if let close = after.firstIndex(of: "}"), after.distance(from: after.startIndex, to: close) <= 6,
                let value = UInt32(after[..<close], radix: 16), let scalar = Unicode.Scalar(value)
            {
                out.unicodeScalars.append(scalar)
                rest = after[after.index(after: close)...]
            } else {
                out += "\\x{"
                rest = after
            }
        }
        return out + rest
    }

    /// The kind of a delivery-status report from its recipients' actions (a missing one
    /// told by the status class): failed if one failed, else delayed if one is delayed,
    /// else other (delivered, relayed, expanded: not a bounce).
    static func kind(of recipients: [BounceReport.Recipient]) -> BounceReport.Kind {
        if recipients.contains(where: { $0.action == "failed" }) { return .failed }
        if recipients.contains(where: { $0.action == "delayed" }) { return .delayed }
        return .other
    }

    /// An ARF report (RFC 5965 §3.1): its fields, all blocks together.
    struct Feedback {
        var type: String?
        var originalRecipients: [String]
        var originalSender: String?
    }

    static func feedback(_ bytes: ArraySlice<UInt8>) -> Feedback {
        let fields = blocks(bytes).flatMap { $0 }
        let type = field(fields, "feedback-type").flatMap {
            $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" || $0 == "(" }).first
        }.map { InboundText.clean($0.lowercased(), limit: 40) }
        let recipients = fields.filter { $0.name == "original-rcpt-to" }.compactMap {
            InboundText.normalizedAddress(InboundText.trimmed($0.value))
        }
        return Feedback(
            type: type.flatMap { $0.isEmpty ? nil : $0 },
            originalRecipients: Array(recipients.prefix(maximumRecipients)),
            originalSender: field(fields, "original-mail-from").flatMap {
                InboundText.normalizedAddress(InboundText.trimmed($0))
            })
    }
}
