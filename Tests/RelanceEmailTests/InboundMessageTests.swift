import Testing

@testable import RelanceEmail

@Suite("InboundMessage: the tolerant MIME reader")
struct InboundMessageTests {
    static func parse(_ text: String) -> InboundMessage {
        InboundMessage.parse(BounceFixtures.bytes(text)[...])
    }

    @Test("fields are unfolded and found by any case; an mbox From line is skipped")
    func fields() {
        let message = Self.parse(
            "From MAILER-DAEMON Tue Mar 12 10:15:02 2024\nSUBJECT: one\n two\n\tthree\nX-Empty:\nSubject: again\n\nbody"
        )
        #expect(message.value("subject") == "one two\tthree")
        #expect(message.values("Subject") == ["one two\tthree", "again"])
        #expect(message.value("x-empty") == "")
        #expect(message.value("from") == nil)
        #expect(Array(message.body) == Array("body".utf8))
    }

    @Test(
        "Content-Type: type, subtype and parameters",
        arguments: [
            ("multipart/report; report-type=delivery-status; boundary=\"a b\"", "multipart/report", "a b", nil),
            ("Multipart/Mixed (comment); BOUNDARY=----=_Part_1_2.3", "multipart/mixed", "----=_Part_1_2.3", nil),
            ("text/plain; charset=\"utf-8\" (the charset); format=flowed", "text/plain", nil, "utf-8"),
            ("multipart/mixed; boundary*0=\"abc\"; boundary*1=\"def\"", "multipart/mixed", "abcdef", nil),
            ("text/plain; charset*=utf-8''%75tf-8", "text/plain", nil, "utf-8"),
            ("text/plain; charset=\"a\\\"b\"", "text/plain", nil, "a\"b"),
            ("garbage", "text/plain", nil, nil),
            ("/", "text/plain", nil, nil),
        ] as [(String, String, String?, String?)])
    func contentType(_ value: String, _ mimeType: String, _ boundary: String?, _ charset: String?) {
        let type = InboundContentType(value)
        #expect(type.mimeType == mimeType)
        #expect(type.parameters["boundary"] == boundary)
        #expect(type.parameters["charset"] == charset)
    }

    @Test(
        "RFC 2047 encoded-words",
        arguments: [
            ("=?UTF-8?Q?R=C3=A9ponse_automatique?= : Relance", "Réponse automatique : Relance"),
            ("=?iso-8859-1?q?R=E9ponse?= =?iso-8859-1?q?_automatique?=", "Réponse automatique"),
            ("=?utf-8?B?w6l0w6k=?=", "été"),
            ("=?utf-8*fr?Q?caf=C3=A9?=", "café"),
            ("plain =?bogus text", "plain =?bogus text"),
            ("a =?utf-8?x?abc?= b", "a =?utf-8?x?abc?= b"),
        ])
    func encodedWords(_ value: String, _ decoded: String) {
        #expect(InboundDecoding.decodedWords(value) == decoded)
    }

    @Test("transfer encodings: quoted-printable soft breaks and bad escapes, base64 with junk")
    func transferEncodings() {
        let qp = Array("caf=C3=A9 =\r\nsuite =ZZ fin=\n".utf8)[...]
        #expect(
            String(decoding: InboundDecoding.quotedPrintable(qp, underscoreIsSpace: false), as: UTF8.self)
                == "café suite =ZZ fin")
        let base64 = Array("aGVs\r\nbG8g!!d29y bGQ=\r\n".utf8)[...]
        #expect(String(decoding: InboundDecoding.base64(base64), as: UTF8.self) == "hello world")
        #expect(InboundDecoding.string([0x63, 0x61, 0x66, 0xE9], charset: "ISO-8859-1") == "café")
        #expect(InboundDecoding.string([0x93, 0x6F, 0x6B, 0x94], charset: "windows-1252") == "\u{201C}ok\u{201D}")
        #expect(InboundDecoding.string([0x61, 0xFF], charset: "utf-8") == "a\u{FFFD}")
    }

    @Test("multipart: preamble and epilogue dropped, a longer boundary is not the delimiter, parts nest")
    func multipart() throws {
        let message = Self.parse(
            """
            Content-Type: multipart/mixed; boundary="outer"

            preamble
            --outer
            Content-Type: multipart/alternative; boundary="outer-inner"

            --outer-inner
            Content-Type: text/plain

            inner text
            --outer-inner--
            --outer
            Content-Type: message/rfc822

            Message-ID: <a@b>
            Subject: returned

            returned body
            --outer--
            epilogue
            """)
        #expect(message.parts.count == 2)
        let inner = try #require(message.parts.first)
        #expect(inner.contentType.mimeType == "multipart/alternative")
        #expect(inner.parts.count == 1)
        #expect(String(decoding: try #require(inner.parts.first).body, as: UTF8.self) == "inner text")
        let embedded = try #require(message.parts.last?.parts.first)
        #expect(embedded.value("message-id") == "<a@b>")
        #expect(message.entities(intoEmbedded: false).count == 4)
        #expect(message.entities(intoEmbedded: true).count == 5)
    }

    @Test("HTML as text")
    func html() {
        let text = InboundDecoding.htmlText(
            "<p>Delivery has failed to these recipients:</p><style>p{}</style><br>a&#64;b.example &lt;x&gt;&nbsp;&bogus;"
        )
        #expect(text == "\nDelivery has failed to these recipients:\n\na@b.example <x> &bogus;")
    }
}
