import RelanceCore
import RelanceEmail
import Testing

@Suite("SMTPClassification")
struct SMTPClassificationTests {
    static func reply(_ line: String) -> SMTPReply {
        SMTPReply.last(in: line)!
    }

    @Test("250 is accepted, with the queue id as provider reference")
    func accepted() {
        let outcome = SMTPClassification.classify(
            reply: Self.reply("250 2.0.0 Ok: queued as 4F2A1C"), transportError: nil)
        #expect(
            outcome
                == .accepted(ProviderResponse(code: 250, text: "250 2.0.0 Ok: queued as 4F2A1C", providerRef: "4F2A1C"))
        )
    }

    @Test(
        "4xx replies are transient, with the code kept",
        arguments: [
            "421 4.3.2 Service shutting down", "450 4.2.0 Mailbox busy", "451 Try later",
            "452 4.3.1 Insufficient system storage",
        ])
    func transient(_ line: String) throws {
        let reply = Self.reply(line)
        guard case .transient(let failure) = SMTPClassification.classify(reply: reply, transportError: nil) else {
            Issue.record("\(line) should be transient")
            return
        }
        #expect(failure.reason == .smtpReply)
        #expect(failure.code == reply.code)
        #expect(failure.enhancedCode == reply.enhancedCode)
        #expect(failure.message.contains(line))
    }

    @Test(
        "5xx replies are permanent, with code and enhanced code kept for the operator",
        arguments: [
            ("550 5.1.1 <x@y.example>: Recipient address rejected: User unknown", 550, "5.1.1"),
            ("552 5.3.4 Message size exceeds fixed limit", 552, "5.3.4"),
            ("553 5.1.3 Bad recipient address syntax", 553, "5.1.3"),
            ("554 Transaction failed", 554, nil),
        ] as [(String, Int, String?)])
    func permanent(_ line: String, _ code: Int, _ enhanced: String?) {
        let outcome = SMTPClassification.classify(reply: Self.reply(line), transportError: nil)
        #expect(
            outcome
                == .permanent(
                    DispatchFailure(
                        reason: .smtpReply, message: "SMTP server answered: \(line)", code: code,
                        enhancedCode: enhanced)))
    }

    @Test(
        "authentication failures are transient: the operator's configuration, not the job",
        arguments: [
            "535 5.7.8 Authentication credentials invalid", "530 5.7.0 Authentication required",
            "534 5.7.9 Mechanism too weak",
        ])
    func auth(_ line: String) {
        let reply = Self.reply(line)
        guard case .transient(let failure) = SMTPClassification.classify(reply: reply, transportError: nil) else {
            Issue.record("\(line) should be transient")
            return
        }
        #expect(failure.reason == .smtpAuth)
        #expect(failure.code == reply.code)
        #expect(failure.enhancedCode == reply.enhancedCode)
    }

    @Test("no reply and a transport error: transient network failure with the error text")
    func network() {
        let error = "Couldn't connect to server (libcurl 7) talking to mx.example.com:25"
        #expect(
            SMTPClassification.classify(reply: nil, transportError: error)
                == .transient(DispatchFailure(reason: .network, message: error)))
        guard case .transient(let failure) = SMTPClassification.classify(reply: nil, transportError: nil) else {
            Issue.record("should be transient")
            return
        }
        #expect(failure.reason == .network)
        #expect(!failure.message.isEmpty)
    }

    @Test("a success reply followed by a transport error is not counted as accepted")
    func successThenError() {
        let outcome = SMTPClassification.classify(
            reply: Self.reply("250 2.1.5 Ok"), transportError: "Timeout was reached")
        #expect(outcome == .transient(DispatchFailure(reason: .network, message: "Timeout was reached")))
    }
}
