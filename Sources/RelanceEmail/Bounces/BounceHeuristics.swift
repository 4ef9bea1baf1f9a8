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

    /// Text read from a message, at most: a bounce's notice is short, and what follows
    /// is at most the returned message.
    static let textLimit = 256 << 10
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
        "non remis", "non distribué", "unzustellbar", "nondeliverable", "non-delivery", "warning: message",
        "delayed mail", "message delayed", "delivery delayed", "mail delivery failure", "delivery warning",
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
        "permanent error", "failed permanently", "permanent failure", "permanent fatal", "i've given up",
        "permanently rejected", "this is a permanent", "not going to try again", "giving up",
    ]
    /// Wording of a delay notice.
    static let delayWording = [
        "has not yet been delivered", "have not yet been delivered", "not been delivered yet", "has been delayed",
        "delivery delayed", "delayed mail", "will retry", "will be retried", "will continue to try",
        "will keep trying", "still trying", "delivery attempts will continue", "temporarily deferred",
        "this is a warning", "no action is required on your part", "transient non-fatal errors",
        "has been postponed", "(delay)", "delivery warning",
    ]
    /// Wording of a failure that, in a message from a mail system, is a bounce.
    static let failureWording = [
        "delivery has failed", "could not be delivered", "couldn't be delivered", "wasn't delivered",
        "not delivered", "not able to deliver", "unable to deliver", "could not deliver", "did not reach",
        "cannot be reached", "could not be reached", "address not found", "undeliverable", "user unknown",
        "unknown user", "no such user", "does not exist", "mailbox unavailable", "delivery failed",
        "delivery failure", "failed to deliver", "rejected", "was aborted", "recipients failed", "recipient failed",
        "failed addresses", "(failure)", "returned mail", "unknown host", "no longer valid",
        "n'a pas pu être", "n'a pas pu etre", "non remis", "échec de la remise", "unzustellbar",
    ]
    /// Lines that announce a list of recipients (lowercased, anywhere in the line).
    static let listMarkers = [
        "the following address", "the following recipient", "following addresses", "these recipients",
        "the address to which", "the addresses to which", "fatal errors", "to the following",
        "diagnostic information for administrators", "the mail system", "could not be delivered to",
        "not delivered to", "delivered to:", "message to:", "addressed to", "failed addresses",
        "pu être délivré", "pu etre delivre", "pu être remis", "pu etre remis", "pu être distribué",
    ]
    /// Phrases followed by the failed address on the same line.
    static let inlinePhrases = [
        "wasn't delivered to ", "was not delivered to ", "could not be delivered to ", "couldn't be delivered to ",
        "undeliverable to ", "delivery to ", "message to ", "deliver your message to ", "addressed to ",
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
        let body = lines.foldedBefore
        let subject = InboundText.clean(
            InboundDecoding.decodedWords(String((message.value("subject") ?? "").prefix(2_000))), limit: 300
        ).lowercased()
        let system = signatures.first { body.contains($0.0) }?.1
        // A multipart/report is a mail system's, even when its report part says nothing.
        let fromSystem = isFromMailSystem(message) || message.contentType.mimeType == "multipart/report"
        let bounceSubject = bounceSubjects.contains { subject.contains($0) }
        let nullReturnPath = message.values("return-path").contains { InboundText.clean($0, limit: 10) == "<>" }
        guard fromSystem || bounceSubject || system != nil || nullReturnPath else { return nil }

        var recipients = BounceRecipientScanner.scan(lines)
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

        // The subject's words count too ("Delivery Status Notification (Failure)").
        let wording = FoldedText(bytes: body.bytes + [10] + Array(subject.utf8))
        let permanent = wording.containsAny(permanentWording)
        let delay = !permanent && wording.containsAny(delayWording)
        let kind: BounceReport.Kind
        if permanent || (!delay && recipients.contains { classOf($0) == "5" }) {
            kind = .failed
        } else if delay || recipients.contains(where: { classOf($0) == "4" }) {
            kind = .delayed
        } else if wording.containsAny(failureWording) {
            kind = .failed
        } else {
            return nil
        }
        for index in recipients.indices where recipients[index].action == nil {
            // The wording speaks for every recipient; without it, each one's own code.
            let own = classOf(recipients[index])
            recipients[index].action =
                permanent
                ? "failed" : delay ? "delayed" : own == "5" ? "failed" : own == "4" ? "delayed" : kind.rawValue
        }
        return Finding(
            kind: kind, recipients: recipients, reason: source + (kind == .failed ? "" : " (delay wording)"),
            inlineOriginal: lines.inlineOriginal())
    }

    /// Whether the From field names a mail system (MAILER-DAEMON, postmaster…).
    static func isFromMailSystem(_ message: InboundMessage) -> Bool {
        let from = (message.value("from") ?? "").prefix(1_000).lowercased()
        let returnPath = (message.value("return-path") ?? "").prefix(1_000).lowercased()
        return daemonSenders.contains { from.contains($0) } || returnPath.contains("mailer-daemon")
    }

    /// The class of a recipient's status, or of the SMTP reply code its diagnostic starts
    /// a sentence with.
    static func classOf(_ recipient: BounceReport.Recipient) -> Character? {
        if let status = recipient.status { return status.first }
        return recipient.diagnostic.flatMap(BounceRecipientScanner.replyCodeClass)
    }
}
