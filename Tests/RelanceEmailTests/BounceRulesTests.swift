import RelanceEmail
import Testing

/// What every report promises, whatever the input.
enum BounceInvariants {
    static func check(_ report: BounceReport, sourceLocation: SourceLocation = #_sourceLocation) {
        var strings = [report.reason] + report.deliveredTo + Array(report.originalHeaders.values)
        strings += [report.feedbackType, report.originalMessageID].compactMap { $0 }
        for recipient in report.recipients {
            strings += [recipient.address]
            strings += [recipient.action, recipient.status, recipient.diagnostic, recipient.remoteMTA].compactMap { $0 }
        }
        for string in strings {
            let controls = string.unicodeScalars.filter { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }
            #expect(
                controls.isEmpty, "control characters in \(string.debugDescription)", sourceLocation: sourceLocation)
        }
        for recipient in report.recipients {
            #expect((recipient.diagnostic?.count ?? 0) <= 500, sourceLocation: sourceLocation)
        }
        #expect(!report.reason.isEmpty, sourceLocation: sourceLocation)
        if report.kind == .other || report.kind == .autoReply {
            #expect(report.recipients.isEmpty, sourceLocation: sourceLocation)
        }
        #expect(
            Set(report.originalHeaders.keys).isSubset(of: ["x-relance-job", "to", "from", "subject", "message-id"]),
            sourceLocation: sourceLocation)
    }
}

@Suite("BounceParser: rules")
struct BounceRulesTests {
    /// A minimal report with one recipient block.
    static func report(_ recipientFields: String) -> [UInt8] {
        BounceFixtures.bytes(
            """
            From: MAILER-DAEMON@mx.example.net
            Content-Type: multipart/report; report-type=delivery-status; boundary="r"

            --r
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.net

            \(recipientFields)

            --r--
            """)
    }

    @Test(
        "RFC 3463 status: validated, normalized, made precise by the diagnostic's code of the same class",
        arguments: [
            ("5.1.1", nil, "5.1.1"),
            ("5.1.1 (bad destination mailbox address)", nil, "5.1.1"),
            ("5.0.0", "smtp; 550 5.1.1 <a@client.example>: User unknown", "5.1.1"),
            ("5.0.0", "smtp; 550-5.1.1 The email account that you tried to reach does not exist", "5.1.1"),
            ("5.0.0", "smtp; 451 4.7.1 try later", "5.0.0"),
            ("5.2.2", "smtp; 550 5.1.1 other code", "5.2.2"),
            (nil, "smtp; 552 5.2.2 Mailbox full", "5.2.2"),
            (nil, "X-Postfix; host 192.5.1.1 said: 550 unknown", nil),
            ("550", nil, "5.0.0"),
            ("5.01.001", nil, "5.1.1"),
            ("5.1.10", nil, "5.1.10"),
            ("6.1.1", nil, nil),
            ("5.1000.1", nil, nil),
            ("5.1", nil, nil),
            ("4.4.1", "smtp; 4.4.1.2 not a code", "4.4.1"),
        ] as [(String?, String?, String?)])
    func status(_ status: String?, _ diagnostic: String?, _ expected: String?) throws {
        var fields = "Final-Recipient: rfc822; a@client.example\nAction: failed"
        if let status { fields += "\nStatus: \(status)" }
        if let diagnostic { fields += "\nDiagnostic-Code: \(diagnostic)" }
        let report = BounceParser.parse(Self.report(fields))
        #expect(try #require(report.recipients.first).status == expected)
    }

    @Test(
        "the kind of a report follows its recipients' actions, or their status class when there is none",
        arguments: [
            ("Action: failed\nStatus: 4.4.7", BounceReport.Kind.failed, "failed"),
            ("Action: failure\nStatus: 5.3.4", .failed, "failed"),
            ("Status: 5.1.1", .failed, "failed"),
            ("Action: error\nStatus: 5.0.0", .failed, "failed"),
            ("Status: 4.2.2", .delayed, "delayed"),
            ("Action: delayed", .delayed, "delayed"),
            ("Action: relayed\nStatus: 2.0.0", .other, nil),
            ("Action: expanded", .other, nil),
        ] as [(String, BounceReport.Kind, String?)])
    func kind(_ fields: String, _ kind: BounceReport.Kind, _ action: String?) {
        let report = BounceParser.parse(Self.report("Final-Recipient: rfc822; a@client.example\n" + fields))
        #expect(report.kind == kind)
        #expect(report.recipients.first?.action == action)
    }

    @Test("Original-Recipient (the address as sent) comes before a rewritten Final-Recipient")
    func originalRecipient() {
        let report = BounceParser.parse(
            Self.report(
                "Original-Recipient: rfc822;client@example.com\nFinal-Recipient: rfc822;u1234@mailstore.internal\n"
                    + "Action: failed\nStatus: 5.2.2"))
        #expect(report.recipients.map(\.address) == ["client@example.com"])
    }

    @Test("a UTF-8 address of RFC 6533 and the diagnostic's limits")
    func globalAndLimits() throws {
        let long = String(repeating: "blah ", count: 400)
        let message = """
            From: MAILER-DAEMON@mx.example.net
            Content-Type: multipart/report; report-type=global-delivery-status; boundary="g"

            --g
            Content-Type: message/global-delivery-status

            Reporting-MTA: dns; mx.example.net

            Final-Recipient: utf-8; h\\x{E9}l\\x{E8}ne@client.example
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 \(long)

            --g--
            """
        let report = BounceParser.parse(BounceFixtures.bytes(message))
        let recipient = try #require(report.recipients.first)
        #expect(recipient.address == "hélène@client.example")
        #expect((490...500).contains(recipient.diagnostic?.count ?? 0))
        #expect(report.reason == "RFC 6533 global delivery-status")
    }

    @Test(
        "automatic replies: RFC 3834 and the common fields and subjects; X-Auto-Response-Suppress is not one",
        arguments: [
            ("Auto-Submitted: auto-replied", BounceReport.Kind.autoReply),
            ("Auto-Submitted: auto-generated", .autoReply),
            ("Auto-Submitted: no", .other),
            ("X-Autoreply: yes", .autoReply),
            ("X-Autorespond: Out of office", .autoReply),
            ("Precedence: auto_reply", .autoReply),
            ("Precedence: bulk", .other),
            ("X-Auto-Response-Suppress: All", .other),
            ("Subject: Automatic reply: Relance", .autoReply),
            ("Subject: Auto: Marie Curie is out of the office", .autoReply),
            ("Subject: Out of Office: Relance", .autoReply),
            ("Subject: =?utf-8?q?R=C3=A9ponse_automatique_:_Relance?=", .autoReply),
            ("Subject: Abwesenheitsnotiz: Relance", .autoReply),
            ("Subject: =?utf-8?B?UmVzcHVlc3RhIGF1dG9tw6F0aWNhOiBSZWxhbmNl?=", .autoReply),
            ("Subject: Risposta automatica: Relance", .autoReply),
            ("Subject: Automatisch antwoord: Relance", .autoReply),
            ("Subject: Re: Relance", .other),
            ("Subject: Automobile insurance", .other),
        ] as [(String, BounceReport.Kind)])
    func autoReplies(_ field: String, _ kind: BounceReport.Kind) {
        let message = "From: someone@client.example\nTo: billing@acme.example\n\(field)\n\nHello.\n"
        let report = BounceParser.parse(BounceFixtures.bytes(message))
        #expect(report.kind == kind, "\(report.reason)")
        BounceInvariants.check(report)
    }

    @Test("a message from a mail system without bounce wording is not a bounce")
    func mailSystemWithoutWording() {
        let message = "From: MAILER-DAEMON@mx.example.net\nSubject: Postmaster notice\n\nYour quota report is ready.\n"
        let report = BounceParser.parse(BounceFixtures.bytes(message))
        #expect(report.kind == .other)
    }

    @Test("a null return path alone does not make an auto-reply's words a bounce")
    func nullReturnPathAlone() {
        let message = """
            Return-Path: <>
            From: Paul <paul@client.example>
            Subject: Absent
            Auto-Submitted: auto-replied

            I am away, your message could not be delivered to me in person.
            """
        #expect(BounceParser.parse(BounceFixtures.bytes(message)).kind == .autoReply)
    }
}
