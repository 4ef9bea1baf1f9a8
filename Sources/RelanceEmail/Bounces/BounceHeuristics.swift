import Foundation

/// Bounces that are not RFC 3464 reports, read from their wording: the texts of Exim,
/// qmail, Postfix, Exchange, Gmail and Sendmail, for a message that comes from a mail
/// system (its sender, its subject or its text says so). Every phrase below was seen in
/// such bounces; the tests hold one example of each.
enum BounceHeuristics {
    struct Finding {
        var kind: BounceReport.Kind
        var recipients: [BounceReport.Recipient]
        var reason: String
        var inlineOriginal: InboundMessage?
    }

    /// Text read from a message, at most.
    static let textLimit = 1 << 20
    static let lineLimit = 20_000
    /// Lines of one recipient's block kept, at most.
    static let blockLimit = 40

    /// Senders of bounces (From, lowercased).
    static let daemonSenders = [
        "mailer-daemon", "mailer daemon", "maildaemon", "mail-daemon", "postmaster", "mail delivery system",
        "mail delivery subsystem", "microsoftexchange", "mail administrator",
    ]
    /// Subjects of bounces (lowercased).
    static let bounceSubjects = [
        "undeliverable", "undelivered mail", "delivery status notification", "mail delivery failed",
        "returned mail", "failure notice", "delivery failure", "delivery failed", "could not be delivered",
        "non remis", "unzustellbar", "nondeliverable", "warning: message", "delayed mail", "message delayed",
        "delivery delayed", "mail delivery failure",
    ]
    /// Texts that only mail systems write, and whose: (phrase, system).
    static let signatures: [(String, String)] = [
        ("this message was created automatically by mail delivery software", "Exim"),
        ("this is the qmail-send program", "qmail"),
        ("this is the mail system at host", "Postfix"),
        ("i'm sorry to have to inform you that your message could not", "Postfix"),
        ("delivery has failed to these recipients or groups", "Exchange"),
        ("your message did not reach some or all of the intended recipients", "Exchange"),
        ("diagnostic information for administrators", "Exchange"),
        ("remote server returned '", "Exchange"),
        ("delivery to the following recipient failed permanently", "Gmail"),
        ("delivery to the following recipient has been delayed", "Gmail"),
        ("google tried to deliver your message", "Gmail"),
        ("the email account that you tried to reach does not exist", "Gmail"),
        ("your message wasn't delivered to", "Gmail"),
        ("the following addresses had permanent fatal errors", "Sendmail"),
        ("transcript of session follows", "Sendmail"),
    ]
    /// Wording that says the failure is final.
    static let permanentWording = [
        "permanent error", "failed permanently", "permanent failure", "permanent fatal error", "i've given up",
        "permanently rejected", "this is a permanent",
    ]
    /// Wording of a delay notice.
    static let delayWording = [
        "has not yet been delivered", "have not yet been delivered", "not been delivered yet", "has been delayed",
        "delivery delayed", "delayed mail", "will retry", "will be retried", "will continue to try",
        "will keep trying", "still trying", "delivery attempts will continue", "temporarily deferred",
        "this is a warning", "no action is required on your part", "transient non-fatal errors",
    ]
    /// Wording of a failure that, in a message from a mail system, is a bounce.
    static let failureWording = [
        "delivery has failed", "could not be delivered to", "couldn't be delivered to", "wasn't delivered to",
        "was not delivered to", "wasn't able to deliver", "was not able to deliver", "unable to deliver",
        "did not reach some or all", "cannot be reached", "could not be reached", "address not found",
        "undeliverable", "user unknown", "unknown user", "no such user", "does not exist", "mailbox unavailable",
        "delivery failed", "failed to deliver", "message rejected", "recipient address rejected",
    ]
    /// Lines that announce a list of recipients (lowercased, anywhere in the line).
    static let listMarkers = [
        "the following address", "the following recipient", "following addresses", "these recipients",
        "the address to which", "the addresses to which", "fatal errors", "to the following",
        "diagnostic information for administrators", "the mail system", "could not be delivered to one or more",
    ]
    /// Phrases followed by the failed address on the same line.
    static let inlinePhrases = [
        "wasn't delivered to ", "was not delivered to ", "could not be delivered to ", "couldn't be delivered to ",
        "undeliverable to ", "delivery to ", "message to ",
    ]

    /// The text of a message's own text parts (not of the message it returns): its
    /// text/plain parts, or if it has none, its HTML as text.
    static func bodyText(_ entities: [InboundMessage]) -> String {
        var plain = ""
        var html = ""
        for entity in entities where entity.contentType.type == "text" && !entity.isEmbeddedMessage {
            if entity.contentType.subtype == "html" {
                if html.utf8.count < textLimit { html += InboundDecoding.text(of: entity) + "\n" }
            } else if entity.contentType.subtype == "plain" && plain.utf8.count < textLimit {
                plain += InboundDecoding.text(of: entity) + "\n"
            }
        }
        let text = plain.contains(where: { !$0.isWhitespace }) ? plain : InboundDecoding.htmlText(html)
        return String(text.utf8.prefix(textLimit)) ?? String(text.prefix(textLimit / 4))
    }

    /// A bounce or delay notice recognised from its wording, or nil.
    static func classify(_ message: InboundMessage, text: String) -> Finding? {
        let lines = BounceTextLines(text, limit: lineLimit)
        let lowered = lines.before.map { $0.lowercased() }.joined(separator: "\n")
        let from = (message.value("from") ?? "").prefix(1_000).lowercased()
        let subject = InboundText.clean(
            InboundDecoding.decodedWords(String((message.value("subject") ?? "").prefix(2_000))), limit: 300
        ).lowercased()
        let system = signatures.first { lowered.contains($0.0) }?.1
        let fromSystem = daemonSenders.contains { from.contains($0) }
        let bounceSubject = bounceSubjects.contains { subject.contains($0) }
        let nullReturnPath = message.values("return-path").contains { InboundText.clean($0, limit: 10) == "<>" }
        guard fromSystem || bounceSubject || system != nil || nullReturnPath else { return nil }

        var recipients = BounceRecipientScanner.scan(lines.before)
        var source = "\(system ?? "mail system") bounce text (heuristic)"
        if let fields = lines.deliveryStatusFields() {
            let found = DeliveryStatusReader.recipients(Array(fields.utf8)[...])
            if !found.isEmpty {
                recipients = found
                source = "delivery-status fields in the text (heuristic)"
            }
        }
        // A null return path alone is also what auto-replies carry: then a list of
        // recipients must be found, not only words.
        if !(fromSystem || bounceSubject || system != nil) && recipients.isEmpty { return nil }

        let kind: BounceReport.Kind
        if permanentWording.contains(where: { lowered.contains($0) }) {
            kind = .failed
        } else if delayWording.contains(where: { lowered.contains($0) }) {
            kind = .delayed
        } else if recipients.contains(where: { classOf($0) == "5" }) {
            kind = .failed
        } else if recipients.contains(where: { classOf($0) == "4" }) {
            kind = .delayed
        } else if failureWording.contains(where: { lowered.contains($0) }) {
            kind = .failed
        } else {
            return nil
        }
        for index in recipients.indices where recipients[index].action == nil {
            let own = classOf(recipients[index])
            recipients[index].action = own == "5" ? "failed" : own == "4" ? "delayed" : kind.rawValue
        }
        let wording = kind == .failed ? "" : " (delay wording)"
        return Finding(
            kind: kind, recipients: recipients, reason: source + wording, inlineOriginal: lines.inlineOriginal())
    }

    /// The class of a recipient's status, or of the SMTP reply code its diagnostic starts
    /// a sentence with.
    static func classOf(_ recipient: BounceReport.Recipient) -> Character? {
        if let status = recipient.status { return status.first }
        return recipient.diagnostic.flatMap(BounceRecipientScanner.replyCodeClass)
    }
}
