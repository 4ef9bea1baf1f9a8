import Foundation
import RelanceTestSupport
import Testing

@testable import RelanceEmail

@Suite("Header encoding (RFC 2047)")
struct HeaderEncodingTests {
    @Test(
        "plain ASCII stays readable, one word per space-separated token",
        arguments: [
            ("Relance facture F-2026-0142", ["Relance", "facture", "F-2026-0142"]),
            ("Reminder: invoice #42 (2 days left)", ["Reminder:", "invoice", "#42", "(2", "days", "left)"]),
            ("one", ["one"]),
        ])
    func asciiReadable(_ value: String, _ words: [String]) {
        #expect(MIMEEncoding.encodeUnstructured(value) == words)
    }

    static let nonASCII: [String] = [
        "Relance : facture échue",
        "Mise en demeure – facture F-2026-0142 (1 250,00 €)",
        String(repeating: "é", count: 100),
        String(repeating: "€", count: 50),
        String(repeating: "🙂", count: 30),
        "Merci 🙏🏽 👨‍👩‍👧‍👦 🇫🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
        "请尽快付款。发票编号 F-2026-0142，金额 1250.00 欧元。谢谢您的合作与支持！",
        "Müller & Söhne GmbH — Zahlungserinnerung für die Rechnung vom 15. Oktober 2026",
        // ASCII that looks like an encoded-word must not be taken for one.
        "Offre =?UTF-8?B?SGk=?= spéciale",
        "Offer =?UTF-8?B?SGk=?= special",
    ]

    @Test(
        "non-ASCII becomes UTF-8 encoded-words of at most 75 characters, each valid UTF-8 on its own",
        arguments: nonASCII)
    func encodedWords(_ value: String) throws {
        let words = MIMEEncoding.encodeUnstructured(value)
        #expect(!words.isEmpty)
        var decoded: [UInt8] = []
        for word in words {
            #expect(word.count <= 75, "word of \(word.count) characters")
            let bytes = try #require(MIMETestSupport.encodedWordBytes(word), "not an encoded-word: \(word)")
            // A word must hold whole characters: a reader decodes each one separately.
            #expect(String(validating: bytes, as: UTF8.self) != nil, "word \(word) splits a character")
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == value)
        #expect(MIMETestSupport.decodeUnstructured(words.joined(separator: " ")) == value)
    }

    @Test("a single character too big for one word still gives words of at most 75 characters")
    func hugeGraphemeCluster() throws {
        // One user-perceived character: "e" and 40 combining accents (81 bytes).
        let value = "Zalgo e" + String(repeating: "\u{301}", count: 40)
        #expect(value.count == 7)
        let words = MIMEEncoding.encodeUnstructured(value)
        #expect(words.allSatisfy { $0.count <= 75 }, "\(words.map(\.count))")
        var decoded: [UInt8] = []
        for word in words { decoded += try #require(MIMETestSupport.encodedWordBytes(word)) }
        #expect(String(decoding: decoded, as: UTF8.self) == value)
    }

    @Test(
        "line breaks and control characters never survive in a header value",
        arguments: [
            ("Facture\r\nBcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("Facture\nBcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("Facture\rBcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("Facture\u{2028}Bcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("Facture\u{2029}Bcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("Facture\u{85}Bcc: evil@x.y", "Facture Bcc: evil@x.y"),
            ("a\tb", "a b"),
            ("a\u{0}b\u{7F}c", "a b c"),
            ("a\r\n\r\n\r\nb", "a b"),
            ("Échéance\r\nBcc: evil@x.y", "Échéance Bcc: evil@x.y"),
        ])
    func sanitize(_ value: String, _ expected: String) throws {
        #expect(MIMEEncoding.sanitizeHeaderValue(value) == expected)
        let words = MIMEEncoding.encodeUnstructured(value)
        let joined = words.joined(separator: " ")
        for forbidden in ["\r", "\n", "\u{2028}", "\u{2029}", "\u{85}"] {
            #expect(!joined.contains(forbidden))
        }
        let decoded = try #require(MIMETestSupport.decodeUnstructured(joined))
        #expect(decoded == expected)
        #expect(!decoded.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{85}" })
    }

    @Test("display names: atoms stay bare, specials are quoted, non-ASCII is encoded")
    func displayNames() throws {
        #expect(MIMEEncoding.encodeDisplayName("Lumen Conseil") == "Lumen Conseil")
        #expect(MIMEEncoding.encodeDisplayName("Dupont, Fils & Cie") == "\"Dupont, Fils & Cie\"")
        #expect(MIMEEncoding.encodeDisplayName("Say \"hi\" \\ bye") == #""Say \"hi\" \\ bye""#)
        #expect(MIMEEncoding.encodeDisplayName("Evil\r\nBcc: evil@x.y") == "\"Evil Bcc: evil@x.y\"")
        let encoded = MIMEEncoding.encodeDisplayName("Société Générale")
        #expect(encoded.hasPrefix("=?UTF-8?B?"))
        #expect(MIMETestSupport.decodeUnstructured(encoded) == "Société Générale")
        // Shaped like an encoded word: encoded, so that a reader shows the text, never "Bcc: …".
        let trap = "=?utf-8?q?Bcc:_evil@attacker.example?="
        let safe = MIMEEncoding.encodeDisplayName(trap)
        #expect(safe.hasPrefix("=?UTF-8?B?") && !safe.contains("?q?"))
        #expect(MIMETestSupport.decodeUnstructured(safe) == trap)
        // make fuzz: a word longer than a line (no space to fold at) goes out as encoded
        // words, and the header's lines stay within 998 bytes.
        let long = String(repeating: "x", count: 1_009)
        let words = MIMEEncoding.encodeDisplayName(long).split(separator: " ").map(String.init)
        let header = MIMEEncoding.foldHeader(name: "To", words: words + ["<a@b.example>"])
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        #expect(MIMETestSupport.decodeUnstructured(words.joined(separator: " ")) == long)
    }
}

@Suite("RFC 5322 dates")
struct RFC5322DateTests {
    @Test(
        "Date headers in UTC with the English day and month",
        arguments: [
            (1_795_435_200.0, "Mon, 23 Nov 2026 12:00:00 +0000"), (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
            (951_868_799.9, "Tue, 29 Feb 2000 23:59:59 +0000"), (1_780_563_909.0, "Thu, 04 Jun 2026 09:05:09 +0000"),
        ])
    func dates(seconds: Double, expected: String) {
        #expect(MIMEEncoding.rfc5322Date(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
