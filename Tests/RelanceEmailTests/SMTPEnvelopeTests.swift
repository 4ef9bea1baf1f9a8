import RelanceCore
import RelanceEmail
import Testing

@Suite("SMTP envelope, data and replies")
struct SMTPEnvelopeTests {
    @Test(
        "Punycode of the RFC 3492 samples and of common European labels",
        arguments: [
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("café", "caf-dma"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"),
            ("세계의모든사람들이한국어를이해한다면얼마나좋을까", "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c"),
        ])
    func punycode(label: String, encoded: String) {
        #expect(Punycode.encode(label) == encoded)
    }

    @Test(
        "domains go out as A-labels, lower-cased and composed; ASCII ones unchanged",
        arguments: [
            ("example.fr", "example.fr"),
            ("café.fr", "xn--caf-dma.fr"),
            ("CAFÉ.fr", "xn--caf-dma.fr"),
            ("cafe\u{301}.fr", "xn--caf-dma.fr"),
            // Compatibility forms fold as UTS 46 maps them: full-width letters, ligatures.
            ("ｅｘａｍｐｌｅ.fr", "example.fr"),
            ("ﬁnance.fr", "finance.fr"),
            ("straße.de", "xn--strae-oqa.de"),
            ("bücher.example.de", "xn--bcher-kva.example.de"),
        ])
    func asciiDomain(domain: String, expected: String) {
        #expect(Punycode.asciiDomain(domain) == expected)
    }

    @Test("an A-label over 63 bytes is refused")
    func longLabel() {
        #expect(Punycode.asciiDomain(String(repeating: "é", count: 60) + ".fr") == nil)
    }

    @Test(
        "capabilities come from the last EHLO reply of the opening dialogue",
        arguments: [
            (
                "220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                SMTPCapabilities(pipelining: true, size: true)
            ),
            // After STARTTLS the second EHLO reply counts, not the first.
            (
                "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 Ready\r\n250-mx\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n235 2.7.0 ok\r\n",
                SMTPCapabilities(smtpUTF8: true)
            ),
            ("220 mx\r\n250-mx\r\n250-pipelining\r\n250 size\r\n", SMTPCapabilities(pipelining: true, size: true)),
            // What was offered in clear does not survive a bare EHLO reply after STARTTLS.
            (
                "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 Ready\r\n250 mx\r\n",
                SMTPCapabilities()
            ),
            // HELO only: a one-line 250 offers nothing.
            ("220 old\r\n250 old.example\r\n", SMTPCapabilities()),
            ("", SMTPCapabilities()),
        ])
    func capabilities(dialogue: String, expected: SMTPCapabilities) {
        #expect(SMTPCapabilities(dialogue: dialogue) == expected)
    }

    @Test("the envelope: SIZE when offered, A-label domains, one RCPT per recipient, DATA last")
    func commands() throws {
        let from = try EmailAddress("relances@lumen.example")
        let to = [try EmailAddress("compta@café.fr"), try EmailAddress("b@example.de")]
        let plain = try SMTPEnvelope.commands(from: from, to: to, size: 1234, capabilities: SMTPCapabilities())
        #expect(
            plain.map { String(decoding: $0, as: UTF8.self) } == [
                "MAIL FROM:<relances@lumen.example>\r\n", "RCPT TO:<compta@xn--caf-dma.fr>\r\n",
                "RCPT TO:<b@example.de>\r\n", "DATA\r\n",
            ])
        let sized = try SMTPEnvelope.commands(
            from: from, to: to, size: 1234, capabilities: SMTPCapabilities(pipelining: true, size: true))
        #expect(String(decoding: sized[0], as: UTF8.self) == "MAIL FROM:<relances@lumen.example> SIZE=1234\r\n")
    }

    @Test("a non-ASCII local part needs SMTPUTF8: announced when offered, refused when not")
    func internationalLocalPart() throws {
        let from = try EmailAddress("relances@lumen.example")
        let to = [try EmailAddress("josé@café.fr")]
        let commands = try SMTPEnvelope.commands(
            from: from, to: to, size: 10, capabilities: SMTPCapabilities(smtpUTF8: true))
        #expect(String(decoding: commands[0], as: UTF8.self) == "MAIL FROM:<relances@lumen.example> SMTPUTF8\r\n")
        #expect(String(decoding: commands[1], as: UTF8.self) == "RCPT TO:<josé@xn--caf-dma.fr>\r\n")
        #expect(throws: SMTPEnvelope.Refusal.self) {
            try SMTPEnvelope.commands(from: from, to: to, size: 10, capabilities: SMTPCapabilities())
        }
        do {
            _ = try SMTPEnvelope.commands(from: from, to: to, size: 10, capabilities: SMTPCapabilities())
        } catch {
            #expect(error.description.contains("SMTPUTF8"))
            #expect(error.description.contains("josé@café.fr"))
        }
    }

    @Test("a sender the server cannot take is the configuration's fault, not the recipient's")
    func senderRefusal() throws {
        let plain = try EmailAddress("relances@lumen.example"), accented = try EmailAddress("relancés@lumen.example")
        let recipient = try EmailAddress("a@example.fr"), accentedRecipient = try EmailAddress("rené@example.fr")
        for (from, to, senderAtFault) in [(accented, recipient, true), (plain, accentedRecipient, false)] {
            do {
                _ = try SMTPEnvelope.commands(from: from, to: [to], size: 1, capabilities: SMTPCapabilities())
                Issue.record("expected a refusal")
            } catch {
                #expect(error.concernsSender == senderAtFault)
            }
        }
    }

    @Test("no recipient is refused")
    func noRecipient() throws {
        #expect(throws: SMTPEnvelope.Refusal.self) {
            try SMTPEnvelope.commands(
                from: try EmailAddress("a@example.fr"), to: [], size: 1, capabilities: SMTPCapabilities())
        }
    }

    @Test(
        "data: a line starting with a dot gets another, the end is CRLF . CRLF",
        arguments: [
            ("Subject: x\r\n\r\nhello\r\n", "Subject: x\r\n\r\nhello\r\n.\r\n"),
            (".first\r\n..two\r\nmid.dle\r\n.\r\n", "..first\r\n...two\r\nmid.dle\r\n..\r\n.\r\n"),
            ("no final line break", "no final line break\r\n.\r\n"),
            ("a\r\n.", "a\r\n..\r\n.\r\n"),
            ("", ".\r\n"),
        ])
    func data(message: String, sent: String) {
        #expect(String(decoding: SMTPEnvelope.data(Array(message.utf8)), as: UTF8.self) == sent)
    }

    @Test("replies: multi-line, pipelined, and split anywhere across reads")
    func replies() throws {
        let stream =
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n250-first\r\n250-second\r\n250 2.0.0 Ok: queued as 4F2A1C\r\n"
        let bytes = Array(stream.utf8)
        for cut in [1, 2, 7, 13, 14, 15, 40, bytes.count] {
            var reader = SMTPReplyReader()
            var replies: [SMTPReply] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + cut, bytes.count)
                bytes[offset..<end].withUnsafeBytes { reader.append($0) }
                offset = end
                while let reply = try reader.next() { replies.append(reply) }
            }
            #expect(replies.map(\.code) == [250, 250, 354, 250], "cut every \(cut) bytes")
            #expect(replies.last?.text == "250-first 250-second 250 2.0.0 Ok: queued as 4F2A1C")
            #expect(replies.last?.enhancedCode == "2.0.0")
            #expect(replies[2].text == "354 End data")
            #expect(replies.last?.queueID == "4F2A1C")
            #expect(replies.first?.enhancedCode == "2.1.0")
            #expect(reader.isEmpty)
        }
    }

    @Test("a line that is not a reply, or a reply without end, is a protocol error")
    func badReplies() throws {
        var garbage = SMTPReplyReader()
        Array("HTTP/1.1 400 Bad Request\r\n".utf8).withUnsafeBytes { garbage.append($0) }
        #expect(throws: SMTPReplyReader.ProtocolError.self) { try garbage.next() }

        var endless = SMTPReplyReader()
        let line = Array("250-going on and on\r\n".utf8)
        var thrown = false
        for _ in 0..<(SMTPReplyReader.maximumReplyBytes / line.count + 2) {
            line.withUnsafeBytes { endless.append($0) }
            do { _ = try endless.next() } catch {
                thrown = true
                break
            }
        }
        #expect(thrown)
    }

    @Test("a multi-line reply whose code changes is a protocol error, never the last line's code")
    func mixedCodes() throws {
        var mixed = SMTPReplyReader()
        Array("550-no such user\r\n250 but fine\r\n".utf8).withUnsafeBytes { mixed.append($0) }
        #expect(throws: SMTPReplyReader.ProtocolError.self) { try mixed.next() }
        var same = SMTPReplyReader()
        Array("250-first\r\n250 second\r\n".utf8).withUnsafeBytes { same.append($0) }
        #expect(try same.next()?.code == 250)
    }
}
