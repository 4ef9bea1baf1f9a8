import RelanceEmail
import Testing

@Suite("SMTPReply")
struct SMTPReplyTests {
    @Test("the last line of a multi-line reply is the reply")
    func multiLine() throws {
        let dialogue =
            "250-mail.example.com Hello relance\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 HELP\r\n"
        let reply = try #require(SMTPReply.last(in: dialogue))
        #expect(reply.code == 250)
        #expect(reply.text == "250 HELP")
        #expect(reply.enhancedCode == nil)
    }

    @Test("the last complete reply of a whole dialogue is taken")
    func dialogue() throws {
        let dialogue = """
            220 mx.example.com ESMTP Postfix\r
            250-mx.example.com\r
            250 PIPELINING\r
            250 2.1.0 Ok\r
            250 2.1.5 Ok\r
            354 End data with <CR><LF>.<CR><LF>\r
            250 2.0.0 Ok: queued as 4F2A1C\r
            250-continuation without end\r

            """
        let reply = try #require(SMTPReply.last(in: dialogue))
        #expect(reply.code == 250)
        #expect(reply.text == "250 2.0.0 Ok: queued as 4F2A1C")
        #expect(reply.enhancedCode == "2.0.0")
        #expect(reply.queueID == "4F2A1C")
    }

    @Test(
        "enhanced status codes (RFC 3463)",
        arguments: [
            ("550 5.1.1 <x@y.example>: Recipient address rejected: User unknown", 550, "5.1.1"),
            ("451 Try later", 451, nil),
            ("451 4.7.1 Greylisted, try again in 5 minutes", 451, "4.7.1"),
            ("552 5.3.4 Message size exceeds fixed limit", 552, "5.3.4"),
            ("250 2.0.0 Ok: queued as 4F2A1C", 250, "2.0.0"),
            ("554 3.1.1 not a class", 554, nil),
            ("550 5.1 incomplete", 550, nil),
            ("550 5.1.1a letters", 550, nil),
            ("421", 421, nil),
        ] as [(String, Int, String?)])
    func enhanced(_ line: String, _ code: Int, _ enhanced: String?) throws {
        let reply = try #require(SMTPReply.last(in: line + "\r\n"))
        #expect(reply.code == code)
        #expect(reply.enhancedCode == enhanced)
        #expect(reply.text == line)
    }

    @Test(
        "queue id",
        arguments: [
            ("250 2.0.0 Ok: queued as 4F2A1C", "4F2A1C"),
            ("250 OK (queued as 1A2B3C)", "1A2B3C"),
            ("250 2.0.0 Ok: queued as 4F2A1C; thanks", "4F2A1C"),
            ("250 OK id=1qXyz-0004Ab-Cd", nil),
            ("250 2.0.0 Ok: queued as ", nil),
        ] as [(String, String?)])
    func queueID(_ line: String, _ id: String?) throws {
        #expect(try #require(SMTPReply.last(in: line)).queueID == id)
    }

    @Test("bare LF line endings are understood too")
    func bareLF() throws {
        let reply = try #require(SMTPReply.last(in: "250-a\n250-b\n550 5.7.1 Relaying denied\n"))
        #expect(reply.code == 550)
        #expect(reply.enhancedCode == "5.7.1")
    }

    @Test(
        "no reply in text without a status line",
        arguments: ["", "\r\n", "hello\r\n", "25 short\r\n", "abc def\r\n", "250-only continuation\r\n"])
    func none(_ text: String) {
        #expect(SMTPReply.last(in: text) == nil)
    }
}
