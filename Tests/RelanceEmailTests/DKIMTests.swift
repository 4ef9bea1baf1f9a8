import Foundation
import RelanceCore
import Testing

@testable import RelanceEmail

@Suite("DKIM")
struct DKIMTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test(
        "relaxed header canonicalization (RFC 6376 §3.4.2)",
        arguments: [
            ("A: X\r\n", "a:X\r\n"),
            ("B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n"),
            ("Subject:  two   spaces\t\there \r\n", "subject:two spaces here\r\n"),
            ("X-Empty:\r\n", "x-empty:\r\n"),
            ("From: \"A  B\" <a@b.example>\r\n", "from:\"A B\" <a@b.example>\r\n"),
        ])
    func relaxedHeader(raw: String, canonical: String) {
        #expect(Self.text(DKIMCanonical.relaxedHeader(Array(raw.utf8))) == canonical)
    }

    @Test(
        "relaxed body canonicalization (RFC 6376 §3.4.4, the §3.4.5 example)",
        arguments: [
            (" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"),
            ("", ""),
            ("\r\n\r\n", ""),
            ("no final line end", "no final line end\r\n"),
            ("a\r\n\r\nb\r\n \t \r\n", "a\r\n\r\nb\r\n"),
            ("tab\there  \r\n", "tab here\r\n"),
        ])
    func relaxedBody(raw: String, canonical: String) {
        #expect(Self.text(DKIMCanonical.relaxedBody(Array(raw.utf8)[...])) == canonical)
    }

    /// RFC 6376 §3.4.4 written the obvious way, line by line: the one-pass version must agree.
    static func referenceBody(_ body: [UInt8]) -> [UInt8] {
        var text = String(decoding: body, as: UTF8.self).components(separatedBy: "\r\n")
        if text.last == "" { text.removeLast() }
        var lines = text.map { line -> String in
            var out = ""
            var space = false
            for character in line {
                if character == " " || character == "\t" {
                    space = true
                } else {
                    if space { out += " " }
                    space = false
                    out.append(character)
                }
            }
            return out
        }
        while lines.last == "" { lines.removeLast() }
        return lines.isEmpty ? [] : Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }

    @Test("the one-pass body canonicalization agrees with the line-by-line one on random bodies")
    func relaxedBodyAgrees() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x20, 0x09, 0x0D, 0x0A, 0x41, 0x62, 0x3D, 0x2E]
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<60, using: &generator)
            // Bare CR and LF too: they are ordinary bytes, not line ends.
            var body = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            for _ in 0..<Int.random(in: 0..<6, using: &generator) {
                body.insert(contentsOf: [0x0D, 0x0A], at: Int.random(in: 0...body.count, using: &generator))
            }
            #expect(DKIMCanonical.relaxedBody(body[...]) == Self.referenceBody(body), "\(body)")
        }
    }

    @Test("fields keep their continuation lines")
    func fields() {
        let header = Array("From: a@b.example\r\nSubject: one\r\n two\r\nTo: c@d.example\r\n".utf8)
        let fields = DKIMCanonical.fields(header[...])
        #expect(fields.map(\.name) == ["from", "subject", "to"])
        #expect(Self.text(Array(fields[1].raw)) == "Subject: one\r\n two\r\n")
    }

    static func message() -> [UInt8] {
        Array(
            ("From: Lumen <billing@lumen.example>\r\nTo: payer@client.example\r\nSubject: Rappel\r\n"
                + "Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <relance.job-1.1@lumen.example>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\n")
                .utf8)
    }

    @Test("one signature per key, on top; the tags verifiers need; From and Reply-To over-signed")
    func signatureHeaders() throws {
        let signer = DKIMSigner(
            domain: "lumen.example",
            signings: [
                .init(selector: "ed", key: try DKIMKey.generate(.ed25519)),
                .init(selector: "rs", key: try DKIMKey.generate(.rsa)),
            ])
        let signed = Self.text(try signer.sign(Self.message(), at: Date(timeIntervalSince1970: 1_795_435_200)))
        #expect(signed.hasSuffix(Self.text(Self.message())))
        let signatures = signed.components(separatedBy: "DKIM-Signature: ").dropFirst()
        #expect(signatures.count == 2)
        let first = try #require(signatures.first)
        // The RSA signature was added last, so it is on top.
        #expect(first.hasPrefix("v=1; a=rsa-sha256; c=relaxed/relaxed;"))
        #expect(first.contains(" d=lumen.example; s=rs; t=1795435200;"))
        let names = first.replacingOccurrences(of: "\r\n ", with: "")
        #expect(
            names.contains(
                "h=from:from:to:to:cc:subject:subject:date:date:message-id:message-id:mime-version:mime-version:content-type:content-type:content-transfer-encoding:reply-to:sender;"
            ))
        // The body hash of "Bonjour,\r\n" (the trailing empty line ignored).
        let bodyHash = Data(SHA256.digest(Array("Bonjour,\r\n".utf8))).base64EncodedString()
        #expect(first.contains("bh=\(bodyHash);"))
        #expect(!first.contains("l="))
        #expect(signatures.dropFirst().first?.hasPrefix("v=1; a=ed25519-sha256;") == true)
        // No line longer than RFC 5322's 78 characters of advice.
        for line in signed.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
    }

    @Test("a message without a header/body separator is left as it is")
    func noSeparator() throws {
        let signer = DKIMSigner(
            domain: "lumen.example", signings: [.init(selector: "ed", key: try .generate(.ed25519))])
        let bytes = Array("From: a@b.example\r\n".utf8)
        #expect(try signer.sign(bytes, at: Date()) == bytes)
    }

    @Test("keys: PEM round trip, the DNS record, and what is refused")
    func keys() throws {
        let ed = try DKIMKey.generate(.ed25519)
        let again = try DKIMKey(pem: try ed.privatePEM())
        #expect(again.algorithm == .ed25519)
        #expect(again.publicKeyBase64() == ed.publicKeyBase64())
        #expect(Data(base64Encoded: ed.publicKeyBase64())?.count == 32)
        #expect(ed.dnsRecord().hasPrefix("v=DKIM1; k=ed25519; p="))
        let rsa = try DKIMKey.generate(.rsa, bits: 2048)
        #expect(try DKIMKey(pem: rsa.privatePEM()).bits == 2048)
        #expect(rsa.dnsRecord().hasPrefix("v=DKIM1; k=rsa; p=MII"))
        #expect(throws: DKIMKey.Problem.self) { try DKIMKey.generate(.rsa, bits: 1024) }
        #expect(throws: DKIMKey.Problem.self) { try DKIMKey(pem: "") }
        #expect(throws: DKIMKey.Problem.self) {
            try DKIMKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
        // An EC key is a key, but not one DKIM signs with.
        let ec = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnmL/SLKjbNv3eKTk
            T5ReoyxRuT5Wq1d7jxYJ6wGcZRGhRANCAAS1A/lvjnjzdHRvyBq/ibyOKB8pxv+b
            dWN0aJUYDMOmcJFvjOUPVBP8PvY4ahuBLnw58ajDlXoaPq3XYHk1tNZm
            -----END PRIVATE KEY-----
            """
        #expect(throws: DKIMKey.Problem.self) { try DKIMKey(pem: ec) }
    }

    @Test(
        "the signing domain must align with the From domain",
        arguments: [
            ("lumen.example", "billing@lumen.example", "lumen.example"),
            ("LUMEN.example", "billing@lumen.example", "lumen.example"),
            ("lumen.example", "billing@factures.lumen.example", "lumen.example"),
            ("mail.lumen.example", "billing@lumen.example", "mail.lumen.example"),
            ("other.example", "billing@lumen.example", nil),
            ("example", "billing@lumen.example", nil),
            ("umen.example", "billing@lumen.example", nil),
            ("bad_label.lumen.example", "billing@lumen.example", nil),
        ] as [(String, String, String?)])
    func alignment(domain: String, from: String, expected: String?) throws {
        let address = try EmailAddress(from)
        if let expected {
            #expect(try DKIMAlignment.signingDomain(domain, from: address) == expected)
        } else {
            #expect(throws: DKIMAlignment.Problem.self) { try DKIMAlignment.signingDomain(domain, from: address) }
        }
    }

    @Test("selectors", arguments: ["relance2026", "s1.relance", "a-b"])
    func goodSelector(selector: String) { #expect(DKIMAlignment.selectorProblem(selector) == nil) }

    @Test("bad selectors", arguments: ["", "-a", "a-", "a..b", "a;b", "é", String(repeating: "a", count: 64)])
    func badSelector(selector: String) { #expect(DKIMAlignment.selectorProblem(selector) != nil) }
}
