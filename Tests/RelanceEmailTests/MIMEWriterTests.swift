import Foundation
import RelanceCore
import RelanceTestSupport
import Testing

@testable import RelanceEmail

@Suite("MIMEWriter.render")
struct MIMEWriterTests {
    static let date = Date(timeIntervalSince1970: 1_795_435_200)  // Mon 23 Nov 2026 12:00:00 UTC
    static let pdf: [UInt8] = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    static let text = """
        Madame, Monsieur,

        Sauf erreur de notre part, la facture F-2026-0142 de 1 250,00 € reste impayée.
        From now on, please use the link below.
        .
        Cordialement,\u{0020}\u{0020}
        """
    static let html =
        "<!DOCTYPE html>\n<html lang=\"fr\"><body><p>Facture échue : <b>1 250,00 €</b> — merci !</p>"
        + String(repeating: "<p>ligne de tableau avec un contenu assez long pour dépasser la limite</p>", count: 5)
        + "</body></html>"

    static func message(
        subject: String = "Relance : facture F-2026-0142 échue", toName: String? = "Dupont & Fils",
        html: String? = html, attachments: [RelanceEmail.Attachment]? = nil
    ) throws -> EmailMessage {
        EmailMessage(
            from: Mailbox(name: "Lumen Conseil – Comptabilité", address: try EmailAddress("billing@lumen.example")),
            to: [Mailbox(name: toName, address: try EmailAddress("compta@dupont.example"))],
            replyTo: Mailbox(address: try EmailAddress("ar@lumen.example")),
            subject: subject, text: text, html: html,
            attachments: attachments ?? [
                RelanceEmail.Attachment(filename: "facture F-2026-0142.pdf", contentType: "application/pdf", data: pdf)
            ],
            messageID: "relance.job-42.1@lumen.example", date: date, headers: [("X-Relance-Job", "42")])
    }

    static func occurrences(of line: String, in lines: [String]) -> Int {
        lines.filter { $0 == line }.count
    }

    static func fields(_ rendered: String) throws -> [(name: String, value: String)] {
        let (headers, _) = try #require(MIMETestSupport.split(rendered))
        return MIMETestSupport.headerFields(headers)
    }

    static func value(_ name: String, in fields: [(name: String, value: String)]) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    @Test("one header block with each header once, and the fixed headers of an automatic message")
    func headerBlock() throws {
        let rendered = MIMEWriter.render(try Self.message())
        let fields = try Self.fields(rendered)
        let names = fields.map { $0.name.lowercased() }
        #expect(
            Set(names)
                == [
                    "from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "auto-submitted",
                    "x-relance-job", "content-type",
                ])
        #expect(names.count == Set(names).count, "a header appears twice: \(names)")
        #expect(Self.value("MIME-Version", in: fields) == "1.0")
        #expect(Self.value("Auto-Submitted", in: fields) == "auto-generated")
        #expect(Self.value("Message-ID", in: fields) == "<relance.job-42.1@lumen.example>")
        #expect(Self.value("Date", in: fields) == "Mon, 23 Nov 2026 12:00:00 +0000")
        #expect(Self.value("X-Relance-Job", in: fields) == "42")
        #expect(Self.value("Reply-To", in: fields) == "ar@lumen.example")
        let subject = try #require(Self.value("Subject", in: fields))
        #expect(MIMETestSupport.decodeUnstructured(subject) == "Relance : facture F-2026-0142 échue")
        let from = try #require(Self.value("From", in: fields))
        #expect(from.hasSuffix("<billing@lumen.example>"))
        #expect(
            MIMETestSupport.decodeUnstructured(String(from.dropLast(" <billing@lumen.example>".count)))
                == "Lumen Conseil – Comptabilité")
        // '&' is atext (RFC 5322 §3.2.3): no quotes needed.
        #expect(Self.value("To", in: fields) == "Dupont & Fils <compta@dupont.example>")
    }

    @Test("header lines are at most 78 characters, continuation lines start with white space")
    func headerLines() throws {
        let rendered = MIMEWriter.render(
            try Self.message(
                subject:
                    "Mise en demeure de payer – factures F-2026-0087, F-2026-0118 et F-2026-0142 – dossier C-00412 – Lumen Conseil"
            ))
        let (headers, _) = try #require(MIMETestSupport.split(rendered))
        for line in MIMETestSupport.lines(headers) {
            #expect(line.count <= 78, "\(line)")
        }
    }

    @Test(
        "a subject or display name cannot add a header",
        arguments: [
            ("Facture\r\nBcc: evil@x.y", "Dupont"),
            ("Facture", "Evil\r\nBcc: evil@x.y"),
            ("Échéance\r\nBcc: evil@x.y", "Évil\nBcc: evil@x.y"),
            ("Facture\u{2028}Bcc: evil@x.y", "Evil\rBcc: evil@x.y"),
            ("Facture\r\n\r\nInjected body", "Dupont"),
        ])
    func noInjection(subject: String, name: String) throws {
        let rendered = MIMEWriter.render(try Self.message(subject: subject, toName: name))
        let fields = try Self.fields(rendered)
        #expect(!fields.contains { $0.name.lowercased() == "bcc" })
        #expect(fields.filter { $0.name.lowercased() == "subject" }.count == 1)
        #expect(fields.filter { $0.name.lowercased() == "to" }.count == 1)
        for line in MIMETestSupport.lines(rendered) {
            #expect(!line.lowercased().hasPrefix("bcc:"))
        }
        #expect(!rendered.contains("\r\n\r\nInjected body"))
        #expect(MIMETestSupport.hasOnlyCRLF(rendered))
        // The envelope recipient is still the only address in To.
        #expect(Self.value("To", in: fields)?.hasSuffix("<compta@dupont.example>") == true)
    }

    @Test("multipart/mixed with a nested multipart/alternative: boundaries declared, used and closed")
    func structure() throws {
        let rendered = MIMEWriter.render(try Self.message())
        let fields = try Self.fields(rendered)
        let contentType = try #require(Self.value("Content-Type", in: fields))
        #expect(contentType.hasPrefix("multipart/mixed;"))
        let mixed = try #require(MIMETestSupport.boundary(in: contentType))
        let (_, body) = try #require(MIMETestSupport.split(rendered))
        let lines = MIMETestSupport.lines(body)
        #expect(Self.occurrences(of: "--" + mixed, in: lines) == 2)
        #expect(Self.occurrences(of: "--" + mixed + "--", in: lines) == 1)
        #expect(lines.last == "--" + mixed + "--")

        // First part: the alternative.
        let parts = body.components(separatedBy: "--" + mixed + "\r\n")
        #expect(parts.count == 3)
        let (altHeaders, altBody) = try #require(MIMETestSupport.split(parts[1]))
        let altType = try #require(Self.value("Content-Type", in: MIMETestSupport.headerFields(altHeaders)))
        #expect(altType.hasPrefix("multipart/alternative;"))
        let alternative = try #require(MIMETestSupport.boundary(in: altType))
        #expect(alternative != mixed)
        let altLines = MIMETestSupport.lines(altBody)
        #expect(Self.occurrences(of: "--" + alternative, in: altLines) == 2)
        #expect(Self.occurrences(of: "--" + alternative + "--", in: altLines) == 1)

        // Text then HTML, each decoding back to what was given.
        let alternatives = altBody.components(separatedBy: "--" + alternative + "\r\n")
        #expect(alternatives.count == 3)
        for (part, (subtype, expected)) in zip(alternatives.dropFirst(), [("plain", Self.text), ("html", Self.html)]) {
            let (h, b) = try #require(MIMETestSupport.split(part))
            let f = MIMETestSupport.headerFields(h)
            #expect(Self.value("Content-Type", in: f) == "text/\(subtype); charset=utf-8")
            #expect(Self.value("Content-Transfer-Encoding", in: f) == "quoted-printable")
            var encoded = b
            if let end = encoded.range(of: "\r\n--" + alternative) { encoded = String(encoded[..<end.lowerBound]) }
            encoded = MIMETestSupport.droppingFinalCRLF(encoded)
            let decoded = try #require(MIMETestSupport.decodeQuotedPrintable(encoded))
            #expect(String(decoding: decoded, as: UTF8.self) == expected)
        }

        // The attachment, base64 in lines of at most 76.
        let (attHeaders, attBody) = try #require(MIMETestSupport.split(parts[2]))
        let attFields = MIMETestSupport.headerFields(attHeaders)
        #expect(Self.value("Content-Type", in: attFields) == "application/pdf")
        #expect(Self.value("Content-Transfer-Encoding", in: attFields) == "base64")
        #expect(Self.value("Content-Disposition", in: attFields) == "attachment; filename=\"facture F-2026-0142.pdf\"")
        let base64Lines = MIMETestSupport.lines(attBody).prefix { !$0.hasPrefix("--") }
        #expect(base64Lines.allSatisfy { $0.count <= 76 && !$0.isEmpty })
        let data = try #require(Data(base64Encoded: base64Lines.joined()))
        #expect(Array(data) == Self.pdf)

        // Boundaries never occur inside the content.
        #expect(rendered.components(separatedBy: mixed).count - 1 == 1 + 3)
        #expect(rendered.components(separatedBy: alternative).count - 1 == 1 + 3)
    }

    @Test("every line ends with CRLF and none is longer than 998 characters")
    func lineEndings() throws {
        let rendered = MIMEWriter.render(try Self.message())
        #expect(MIMETestSupport.hasOnlyCRLF(rendered))
        #expect(rendered.hasSuffix("\r\n"))
        #expect(MIMETestSupport.lines(rendered).allSatisfy { $0.utf8.count <= 998 })
        // The whole body is 7-bit: no 8BITMIME needed from the server.
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
    }

    @Test("a text-only message is a single text/plain part")
    func textOnly() throws {
        let rendered = MIMEWriter.render(try Self.message(html: nil, attachments: []))
        let fields = try Self.fields(rendered)
        #expect(Self.value("Content-Type", in: fields) == "text/plain; charset=utf-8")
        #expect(Self.value("Content-Transfer-Encoding", in: fields) == "quoted-printable")
        #expect(!rendered.contains("multipart"))
        let (_, body) = try #require(MIMETestSupport.split(rendered))
        let decoded = try #require(MIMETestSupport.decodeQuotedPrintable(MIMETestSupport.droppingFinalCRLF(body)))
        #expect(String(decoding: decoded, as: UTF8.self) == Self.text)
    }

    @Test("text and HTML without attachment: multipart/alternative at the top")
    func alternativeOnly() throws {
        let rendered = MIMEWriter.render(try Self.message(attachments: []))
        let fields = try Self.fields(rendered)
        let contentType = try #require(Self.value("Content-Type", in: fields))
        #expect(contentType.hasPrefix("multipart/alternative;"))
        let boundary = try #require(MIMETestSupport.boundary(in: contentType))
        #expect(MIMETestSupport.lines(rendered).last == "--" + boundary + "--")
        #expect(!rendered.contains("multipart/mixed"))
    }

    @Test("a non-ASCII attachment name is encoded (RFC 2231), never raw")
    func attachmentName() throws {
        let rendered = MIMEWriter.render(
            try Self.message(attachments: [
                RelanceEmail.Attachment(
                    filename: "relevé\r\nBcc: x@y.z.pdf", contentType: "application/pdf", data: [1, 2, 3])
            ]))
        #expect(rendered.contains("filename*=UTF-8''relev%C3%A9%20Bcc%3A%20x%40y%2Ez%2Epdf"))
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
        #expect(!MIMETestSupport.lines(rendered).contains { $0.lowercased().hasPrefix("bcc:") })
    }
}
