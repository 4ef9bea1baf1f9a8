import Foundation

/// What an inbound e-mail says about a message Relance sent: a bounce, a delay notice, a
/// complaint, an automatic reply, or none of these.
public struct BounceReport: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case failed, delayed, complaint
        case autoReply = "auto_reply"
        case other
    }

    /// One recipient a report speaks of.
    public struct Recipient: Sendable, Equatable {
        /// Final-Recipient (or Original-Recipient) address, without its `rfc822;` type, the
        /// domain lowercased.
        public var address: String
        /// `failed`, `delayed`, `delivered`, `relayed`, `expanded` (lowercased).
        public var action: String?
        /// The RFC 3463 status (`5.1.1`), normalized.
        public var status: String?
        /// Diagnostic-Code text without its type (`smtp;`): one line, no control
        /// characters, at most 500 characters.
        public var diagnostic: String?
        /// Remote-MTA without its type (`dns;`).
        public var remoteMTA: String?

        public init(
            address: String, action: String? = nil, status: String? = nil, diagnostic: String? = nil,
            remoteMTA: String? = nil
        ) {
            self.address = address
            self.action = action
            self.status = status
            self.diagnostic = diagnostic
            self.remoteMTA = remoteMTA
        }
    }

    public var kind: Kind
    /// For a failed or delayed report, every recipient it names, each with its own action
    /// (a report may say that one failed and another is delayed); for a complaint, the
    /// complaining address if known. Empty for `other` and `autoReply`.
    public var recipients: [Recipient]
    /// ARF Feedback-Type (`abuse`, `fraud`, `not-spam`…) of a feedback report.
    public var feedbackType: String?
    /// Message-ID of the original message, without angle brackets: from the returned
    /// message or its header, else from this message's In-Reply-To.
    public var originalMessageID: String?
    /// Some header fields of the original message, if it came back: `x-relance-job`,
    /// `to`, `from`, `subject`, `message-id` (lowercased names).
    public var originalHeaders: [String: String]
    /// The addresses this message was delivered to, from its To, Delivered-To,
    /// X-Original-To, Envelope-To and X-Envelope-To fields in that order, without
    /// duplicates (a VERP return address is among them).
    public var deliveredTo: [String]
    /// A short English explanation of the classification.
    public var reason: String

    public init(
        kind: Kind, recipients: [Recipient] = [], feedbackType: String? = nil, originalMessageID: String? = nil,
        originalHeaders: [String: String] = [:], deliveredTo: [String] = [], reason: String
    ) {
        self.kind = kind
        self.recipients = recipients
        self.feedbackType = feedbackType
        self.originalMessageID = originalMessageID
        self.originalHeaders = originalHeaders
        self.deliveredTo = deliveredTo
        self.reason = reason
    }
}

extension BounceReport {
    /// Takes the classification of `other`, keeping what this report knows of the message.
    mutating func merge(_ other: BounceReport) {
        kind = other.kind
        recipients = other.recipients
        feedbackType = other.feedbackType
        reason = other.reason
    }
}

/// Reads one inbound e-mail (raw RFC 5322 bytes, as an MTA hands a bounce to a pipe or
/// over LMTP) into a `BounceReport`. Standard reports come first (RFC 3464 delivery
/// status, RFC 5965 feedback), then the wording of known mail systems, then automatic
/// replies (RFC 3834). Never fails: any bytes give a report.
public enum BounceParser {
    /// Only the first 10 MiB of a message are read.
    public static let maximumInput = 10 * 1024 * 1024
    static let headerLimit = 998
    static let originalFieldNames = ["x-relance-job", "to", "from", "subject", "message-id"]
    static let deliveredToFields = ["to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to"]
    static let statusTypes: [String: String] = [
        "message/delivery-status": "RFC 3464 delivery-status",
        "message/global-delivery-status": "RFC 6533 global delivery-status",
    ]

    public static func parse(_ bytes: [UInt8]) -> BounceReport {
        let input = bytes.prefix(maximumInput)
        let message = InboundMessage.parse(input)
        guard !message.fields.isEmpty else {
            return BounceReport(kind: .other, reason: input.isEmpty ? "empty input" : "no header: not an e-mail")
        }
        var report = BounceReport(kind: .other, deliveredTo: deliveredTo(message), reason: "")
        let entities = message.entities(intoEmbedded: false)
        var original = entities.first(where: \.isEmbeddedMessage)?.parts.first
        var note = ""
        if let found = standardReport(entities, note: &note) {
            report.merge(found.report)
            return finished(report, original: found.original ?? original, message: message)
        }
        // A report that a gateway wrapped as an attachment of its own message.
        if note.isEmpty && BounceHeuristics.isFromMailSystem(message) {
            for wrapped in entities where wrapped.isEmbeddedMessage {
                guard let inner = wrapped.parts.first else { continue }
                var ignored = ""
                if let found = standardReport(inner.entities(intoEmbedded: false), note: &ignored) {
                    report.merge(found.report)
                    report.reason += " (wrapped in a message from a mail system)"
                    return finished(report, original: found.original, message: message)
                }
            }
        }
        let text = BounceHeuristics.bodyText(entities)
        if let found = BounceHeuristics.classify(message, text: text) {
            report.kind = found.kind
            report.recipients = found.recipients
            report.reason = found.reason + note
            if original == nil { original = found.inlineOriginal }
            return finished(report, original: original, message: message)
        }
        if let marker = AutoReplyMarkers.reason(message) {
            report.kind = .autoReply
            report.reason = marker
            return finished(report, original: original, message: message)
        }
        report.reason =
            note.isEmpty
            ? "no delivery-status or feedback report, no bounce wording, no automatic-reply marker"
            : "not classified" + note
        return finished(report, original: original, message: message)
    }

    /// An RFC 3464 or RFC 5965 report among these entities (a message's own, not those of
    /// the message it returns), and the original message it holds. A delivery-status part
    /// that names no recipient gives no report but a note for the reason.
    static func standardReport(_ entities: [InboundMessage], note: inout String) -> (
        report: BounceReport, original: InboundMessage?
    )? {
        let original = entities.first(where: \.isEmbeddedMessage)?.parts.first
        if let part = entities.first(where: { statusTypes[$0.contentType.mimeType] != nil }) {
            let kindName = statusTypes[part.contentType.mimeType]!
            let body = InboundDecoding.transferDecoded(part.body, encoding: part.transferEncoding)
            let recipients = DeliveryStatusReader.recipients(body)
            if !recipients.isEmpty {
                let kind = DeliveryStatusReader.kind(of: recipients)
                if kind == .other {
                    let reason = "\(kindName): no recipient failed or was delayed (a success notice)"
                    return (BounceReport(kind: .other, reason: reason), original)
                }
                return (BounceReport(kind: kind, recipients: recipients, reason: kindName), original)
            }
            note = "; its \(part.contentType.mimeType) part names no recipient"
        }
        guard let part = entities.first(where: { $0.contentType.mimeType == "message/feedback-report" }) else {
            return nil
        }
        let body = InboundDecoding.transferDecoded(part.body, encoding: part.transferEncoding)
        let feedback = DeliveryStatusReader.feedback(body)
        let complaint = ["abuse", "fraud", "virus", "other"].contains(feedback.type ?? "")
        var report = BounceReport(
            kind: complaint ? .complaint : .other, feedbackType: feedback.type,
            reason: "RFC 5965 feedback report, Feedback-Type: \(feedback.type ?? "none")"
                + (complaint ? "" : " (not a complaint)"))
        if complaint {
            var addresses = feedback.originalRecipients
            if addresses.isEmpty, let to = original?.value("to") { addresses = InboundText.addresses(inList: to) }
            report.recipients = addresses.prefix(DeliveryStatusReader.maximumRecipients).map {
                BounceReport.Recipient(address: $0)
            }
        }
        return (report, original)
    }

    /// The report with what is known of the original message, every string cleaned.
    static func finished(_ report: BounceReport, original: InboundMessage?, message: InboundMessage) -> BounceReport {
        var report = report
        if let original {
            for name in originalFieldNames {
                guard let value = original.value(name) else { continue }
                let text = name == "message-id" ? value : InboundDecoding.decodedWords(value)
                if let clean = InboundText.cleanOrNil(text, limit: headerLimit) { report.originalHeaders[name] = clean }
            }
            report.originalMessageID = original.value("message-id").flatMap(messageID)
        }
        if report.originalMessageID == nil {
            report.originalMessageID = message.value("in-reply-to").flatMap(messageID)
        }
        report.reason = InboundText.clean(report.reason, limit: 300)
        if report.kind == .other || report.kind == .autoReply { report.recipients = [] }
        return report
    }

    /// The first message id of a field (`<a@b>` → `a@b`).
    static func messageID(_ value: String) -> String? {
        let text = value.prefix(4_096)
        if let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            return InboundText.cleanOrNil(text[text.index(after: open)..<close], limit: headerLimit)
        }
        let word = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first
        return word.flatMap { InboundText.cleanOrNil($0, limit: headerLimit) }
    }

    /// The addresses of this message's own delivery fields, without duplicates.
    static func deliveredTo(_ message: InboundMessage) -> [String] {
        var found: [String] = []
        var seen: Set<String> = []
        for name in deliveredToFields {
            for value in message.values(name) {
                for address in InboundText.addresses(inList: value) where found.count < 100 {
                    if seen.insert(address.lowercased()).inserted { found.append(address) }
                }
            }
        }
        return found
    }
}
