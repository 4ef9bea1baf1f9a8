import RelanceEmail
import Testing

/// One message of the corpus and what the parser must say of it.
struct BounceCase: Sendable, CustomTestStringConvertible {
    var name: String
    var message: String
    var lineEnd = "\r\n"
    var kind: BounceReport.Kind
    /// "address action status" of each recipient ("-" for nil).
    var recipients: [String] = []
    var messageID: String?
    var job: String?
    var feedbackType: String?
    /// A phrase of the reason.
    var reason: String

    var testDescription: String { name }
}

@Suite("BounceParser: the corpus")
struct BounceParserTests {
    static let cases: [BounceCase] = [
        BounceCase(
            name: "Postfix DSN 5.1.1 with the message returned", message: BounceFixtures.postfixDSN, kind: .failed,
            recipients: ["jean.dupont@client.example.fr failed 5.1.1"], messageID: "relance.job-42.1@example.com",
            job: "42", reason: "RFC 3464 delivery-status"),
        BounceCase(
            name: "Postfix DSN, LF line ends", message: BounceFixtures.postfixDSN, lineEnd: "\n", kind: .failed,
            recipients: ["jean.dupont@client.example.fr failed 5.1.1"], messageID: "relance.job-42.1@example.com",
            job: "42", reason: "RFC 3464 delivery-status"),
        BounceCase(
            name: "Postfix DSN with text/rfc822-headers, Status 5.0.0 made precise by the reply",
            message: BounceFixtures.postfixHeadersOnly, kind: .failed,
            recipients: ["anne.moreau@client.example.fr failed 5.7.1"], messageID: "relance.job-51.1@example.com",
            job: "51", reason: "RFC 3464"),
        BounceCase(
            name: "Postfix delay notice, 4.4.1 and 4.2.2", message: BounceFixtures.postfixDelayed, kind: .delayed,
            recipients: ["luc.fabre@lent.example.fr delayed 4.4.1", "lea.garnier@plein.example.fr delayed 4.2.2"],
            messageID: "relance.job-52.1@example.com", job: "52", reason: "RFC 3464"),
        BounceCase(
            name: "success DSN (Action: delivered) is not a bounce", message: BounceFixtures.successDSN,
            kind: .other, reason: "success"),
        BounceCase(
            name: "Exim DSN", message: BounceFixtures.eximDSN, kind: .failed,
            recipients: ["hugo.lambert@client.example.fr failed 5.1.1"], messageID: "relance.job-54.1@example.com",
            job: "54", reason: "RFC 3464"),
        BounceCase(
            name: "Exchange Online DSN (5.1.10)", message: BounceFixtures.exchangeDSN, kind: .failed,
            recipients: ["claire.petit@client.example.fr failed 5.1.10"], messageID: "relance.job-55.1@example.com",
            job: "55", reason: "RFC 3464"),
        BounceCase(
            name: "Exim text bounce", message: BounceFixtures.eximText, kind: .failed,
            recipients: ["Marc.Dubois@client.example.fr failed 5.1.1"], messageID: "relance.job-43.1@example.com",
            job: "43", reason: "Exim bounce text (heuristic)"),
        BounceCase(
            name: "Exim text bounce, LF line ends", message: BounceFixtures.eximText, lineEnd: "\n", kind: .failed,
            recipients: ["Marc.Dubois@client.example.fr failed 5.1.1"], messageID: "relance.job-43.1@example.com",
            job: "43", reason: "Exim bounce text (heuristic)"),
        BounceCase(
            name: "Exim delay text", message: BounceFixtures.eximDelayText, kind: .delayed,
            recipients: ["emma.blanc@lent.example.fr delayed 4.7.1"], reason: "Exim"),
        BounceCase(
            name: "qmail", message: BounceFixtures.qmail, kind: .failed,
            recipients: ["paul.martin@client.example.fr failed 5.1.1"], messageID: "relance.job-44.1@example.com",
            job: "44", reason: "qmail bounce text (heuristic)"),
        BounceCase(
            name: "Exchange NDR text (#550 5.1.1 RESOLVER)", message: BounceFixtures.exchangeText, kind: .failed,
            recipients: ["claire.petit@client.example.fr failed 5.1.1"], messageID: "relance.job-45.1@example.com",
            job: "45", reason: "Exchange bounce text (heuristic)"),
        BounceCase(
            name: "Exchange 2010 text (Remote Server returned)", message: BounceFixtures.exchange2010Text,
            kind: .failed, recipients: ["thomas.girard@client.example.fr failed 5.1.1"],
            messageID: "relance.job-57.1@example.com", job: "57", reason: "Exchange"),
        BounceCase(
            name: "Gmail text bounce", message: BounceFixtures.gmailText, kind: .failed,
            recipients: ["lucas.bernard@client.example.fr failed 5.1.1"], messageID: "relance.job-46.1@example.com",
            job: "46", reason: "Gmail bounce text (heuristic)"),
        BounceCase(
            name: "Gmail newer text, no status", message: BounceFixtures.gmailNewText, kind: .failed,
            recipients: ["ines.roche@client.example.fr failed -"], reason: "Gmail"),
        BounceCase(
            name: "Postfix notice without its report part", message: BounceFixtures.postfixText, kind: .failed,
            recipients: ["julie.noel@client.example.fr failed 5.2.1", "remi.faure@client.example.fr failed 5.2.2"],
            reason: "Postfix bounce text (heuristic)"),
        BounceCase(
            name: "ARF abuse complaint", message: BounceFixtures.arfAbuse, kind: .complaint,
            recipients: ["Sophie.Leroy@yahoo.example - -"], messageID: "relance.job-47.1@example.com", job: "47",
            feedbackType: "abuse", reason: "RFC 5965 feedback report, Feedback-Type: abuse"),
        BounceCase(
            name: "ARF complaint without Original-Rcpt-To", message: BounceFixtures.arfWithoutRecipient,
            kind: .complaint, recipients: ["alice.durand@hotmail.example - -"],
            messageID: "relance.job-60.1@example.com", job: "60", feedbackType: "abuse", reason: "RFC 5965"),
        BounceCase(
            name: "ARF not-spam", message: BounceFixtures.arfNotSpam, kind: .other,
            messageID: "relance.job-47.1@example.com", job: "47", feedbackType: "not-spam",
            reason: "not a complaint"),
        BounceCase(
            name: "RFC 3834 auto-reply", message: BounceFixtures.autoReply, kind: .autoReply,
            messageID: "relance.job-48.1@example.com", reason: "RFC 3834 Auto-Submitted: auto-replied"),
        BounceCase(
            name: "French out-of-office, subject only", message: BounceFixtures.outOfOfficeFrench,
            kind: .autoReply, messageID: "relance.job-49.1@example.com", reason: "réponse automatique"),
        BounceCase(
            name: "a person's reply", message: BounceFixtures.humanReply, kind: .other,
            messageID: "relance.job-50.1@example.com", reason: "no automatic-reply marker"),
        BounceCase(
            name: "base64 delivery-status part", message: BounceFixtures.base64DeliveryStatus, kind: .failed,
            recipients: ["nicolas.roux@client.example.fr failed 5.2.1"], reason: "RFC 3464"),
        BounceCase(
            name: "folded fields and comments", message: BounceFixtures.foldedFields, kind: .failed,
            recipients: ["Olivier.Gauthier@client.example.fr failed 5.1.1"], reason: "RFC 3464"),
        BounceCase(
            name: "one recipient failed, one delayed", message: BounceFixtures.multiRecipient, kind: .failed,
            recipients: ["victor.henry@client.example.fr failed 5.2.1", "zoe.masson@plein.example.fr delayed 4.2.2"],
            reason: "RFC 3464"),
    ]

    @Test("the corpus", arguments: cases)
    func corpus(_ item: BounceCase) {
        let report = BounceParser.parse(BounceFixtures.bytes(item.message, lineEnd: item.lineEnd))
        #expect(report.kind == item.kind, "\(report.reason)")
        #expect(report.recipients.map { "\($0.address) \($0.action ?? "-") \($0.status ?? "-")" } == item.recipients)
        #expect(report.originalMessageID == item.messageID)
        #expect(report.originalHeaders["x-relance-job"] == item.job)
        #expect(report.feedbackType == item.feedbackType)
        #expect(report.reason.contains(item.reason), "\(report.reason)")
        BounceInvariants.check(report)
    }

    @Test("a Postfix bounce in full: diagnostic, remote MTA, the returned message's header, VERP address")
    func postfixInFull() throws {
        let report = BounceParser.parse(BounceFixtures.bytes(BounceFixtures.postfixDSN))
        let recipient = try #require(report.recipients.first)
        #expect(
            recipient
                == BounceReport.Recipient(
                    address: "jean.dupont@client.example.fr", action: "failed", status: "5.1.1",
                    diagnostic:
                        "550 5.1.1 <jean.dupont@client.example.fr>: Recipient address rejected: User unknown in virtual mailbox table",
                    remoteMTA: "mx1.client.example.fr"))
        #expect(report.reason == "RFC 3464 delivery-status")
        #expect(report.deliveredTo == ["bounces+job-42@relance.example.com"])
        #expect(
            report.originalHeaders == [
                "x-relance-job": "42", "message-id": "<relance.job-42.1@example.com>",
                "subject": "Rappel : facture F-2024-001 à régler",
                "from": "Acme Facturation <facturation@acme.example.fr>",
                "to": "Jean Dupont <jean.dupont@client.example.fr>",
            ])
    }

    @Test("a text bounce's diagnostic is the paragraph with the server's reply")
    func textDiagnostics() throws {
        let exim = BounceParser.parse(BounceFixtures.bytes(BounceFixtures.eximText))
        #expect(
            try #require(exim.recipients.first).diagnostic
                == "host mx.client.example.fr [192.0.2.27] SMTP error from remote mail server after RCPT TO:<Marc.Dubois@client.example.fr>: 550 5.1.1 <Marc.Dubois@client.example.fr>: Recipient address rejected: User unknown"
        )
        let exchange = BounceParser.parse(BounceFixtures.bytes(BounceFixtures.exchangeText))
        #expect(
            try #require(exchange.recipients.first).diagnostic == "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##")
        let gmail = BounceParser.parse(BounceFixtures.bytes(BounceFixtures.gmailText))
        let text = try #require(gmail.recipients.first?.diagnostic)
        #expect(text.hasPrefix("The error that the other server returned was: 550-5.1.1 The email account"))
    }

    @Test("delivered-to addresses: To, Delivered-To, X-Original-To, Envelope-To, X-Envelope-To, once each")
    func deliveredTo() {
        let message = """
            X-Envelope-To: <bounces+job-9@relance.example.com>
            Envelope-To: bounces+job-9@RELANCE.example.com
            X-Original-To: bounces+job-9@relance.example.com
            Delivered-To: bounces+job-9@relance.example.com
            Delivered-To: catchall@relance.example.com
            To: "Relance, bounces" <bounces+job-9@relance.example.com>, undisclosed-recipients:;
            Subject: hello

            body
            """
        let report = BounceParser.parse(BounceFixtures.bytes(message))
        #expect(report.deliveredTo == ["bounces+job-9@relance.example.com", "catchall@relance.example.com"])
    }

    @Test("a report wins over the Auto-Submitted field it carries")
    func reportWinsOverAutoSubmitted() {
        for fixture in [BounceFixtures.postfixDSN, BounceFixtures.eximText, BounceFixtures.exchangeDSN] {
            #expect(fixture.contains("Auto-Submitted: auto-replied"))
            #expect(BounceParser.parse(BounceFixtures.bytes(fixture)).kind == .failed)
        }
    }
}
