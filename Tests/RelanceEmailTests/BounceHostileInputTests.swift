import Foundation
import RelanceEmail
import Testing

@Suite("BounceParser: hostile input")
struct BounceHostileInputTests {
    /// A small deterministic generator (SplitMix64), so that a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("garbage bytes: other, clean strings")
    func garbage() {
        var generator = Generator(state: 42)
        for length in [0, 1, 2, 17, 500, 4_096, 65_536] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let report = BounceParser.parse(bytes)
            #expect(report.kind == .other)
            BounceInvariants.check(report)
        }
    }

    @Test("NUL bytes in fields and text never come out")
    func nulBytes() throws {
        var bytes = BounceFixtures.bytes(BounceFixtures.postfixDSN)
        let text = Array("Status: 5.1.1".utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: text) })
        bytes.insert(contentsOf: [0, 0], at: at + 8)
        let target = Array("jean.dupont@client".utf8)
        let nameAt = try #require(bytes.indices.first { bytes[$0...].starts(with: target) })
        bytes.insert(0, at: nameAt + 4)
        let report = BounceParser.parse(bytes)
        #expect(report.kind == .failed)
        BounceInvariants.check(report)
        #expect(!report.recipients.contains { $0.address.contains("\0") || ($0.diagnostic ?? "").contains("\0") })
        BounceInvariants.check(BounceParser.parse([0, 0, 0, 10, 10, 0]))
        BounceInvariants.check(BounceParser.parse(Array("Subject: \0\0\n\n\0".utf8)))
    }

    @Test("invalid UTF-8 becomes U+FFFD")
    func invalidUTF8() throws {
        let head = Array(
            """
            From: MAILER-DAEMON@mx.example.net\r
            Subject: caf\u{E9}\r
            Content-Type: multipart/report; report-type=delivery-status; boundary="u"\r
            \r
            --u\r
            Content-Type: message/delivery-status\r
            \r
            Final-Recipient: rfc822; ab@client.example\r
            Action: failed\r
            Status: 5.1.1\r
            Diagnostic-Code: smtp; 550 5.1.1 bad \r\n--u--\r\n
            """.utf8)
        var bytes = head
        // A lone continuation byte and a truncated sequence inside the diagnostic.
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("bad ".utf8)) })
        bytes.insert(contentsOf: [0x80, 0xC3, 0x28, 0xFF], at: at + 4)
        let report = BounceParser.parse(bytes)
        let diagnostic = try #require(report.recipients.first?.diagnostic)
        #expect(diagnostic.contains("\u{FFFD}"))
        BounceInvariants.check(report)
    }

    @Test("an unterminated multipart still gives its report")
    func unterminatedMultipart() throws {
        let full = BounceFixtures.postfixDSN
        let cut = try #require(full.range(of: "Sauf erreur"))
        let report = BounceParser.parse(BounceFixtures.bytes(String(full[..<cut.lowerBound])))
        #expect(report.kind == .failed)
        #expect(report.originalHeaders["x-relance-job"] == "42")
        // Cut inside the delivery-status part itself.
        let inside = try #require(full.range(of: "Remote-MTA:"))
        let partial = BounceParser.parse(BounceFixtures.bytes(String(full[..<inside.lowerBound])))
        #expect(partial.recipients.map(\.address) == ["jean.dupont@client.example.fr"])
    }

    /// `depth` multiparts, one inside the other, with a delivery-status part in the deepest.
    static func nested(depth: Int) -> [UInt8] {
        var text = "From: MAILER-DAEMON@mx.example.net\n"
        for level in 0..<depth {
            text += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\n\n--b\(level)\n"
        }
        text += "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@client.example\n"
        text += "Action: failed\nStatus: 5.1.1\n"
        for level in (0..<depth).reversed() { text += "\n--b\(level)--\n" }
        return BounceFixtures.bytes(text)
    }

    @Test("nesting is read to a bounded depth")
    func deepNesting() {
        #expect(BounceParser.parse(Self.nested(depth: 3)).kind == .failed)
        let deep = BounceParser.parse(Self.nested(depth: 20))
        #expect(deep.kind == .other)
        BounceInvariants.check(deep)
        // Without boundaries that close, far deeper.
        var text = ""
        for level in 0..<5_000 { text += "Content-Type: multipart/mixed; boundary=x\(level)\n\n--x\(level)\n" }
        BounceInvariants.check(BounceParser.parse(Array(text.utf8)))
    }

    @Test("huge headers, many parts and oversized input stay bounded")
    func bounded() {
        let subject = "Subject: " + String(repeating: "a", count: 2_000_000) + "\n"
        let huge = BounceParser.parse(Array(subject.utf8) + BounceFixtures.bytes(BounceFixtures.postfixDSN))
        BounceInvariants.check(huge)
        var parts = "From: MAILER-DAEMON@x.example\nContent-Type: multipart/mixed; boundary=p\n\n"
        parts += String(repeating: "--p\n\n", count: 50_000)
        BounceInvariants.check(BounceParser.parse(Array(parts.utf8)))
        let oversized = BounceFixtures.bytes(BounceFixtures.postfixDSN) + [UInt8](repeating: 65, count: 11 << 20)
        BounceInvariants.check(BounceParser.parse(oversized))
    }

    @Test("work is bounded: a 1 MB bounce text of recipient lines parses in well under a second")
    func linear() {
        let line = "  someone7@client.example.fr 550 5.1.1 the following address failed:\n"
        var text = BounceFixtures.eximText.replacingOccurrences(of: "------ This is a copy", with: "")
        text += String(repeating: line, count: 1_000_000 / line.utf8.count)
        let start = ContinuousClock.now
        let report = BounceParser.parse(BounceFixtures.bytes(text))
        #expect(ContinuousClock.now - start < .seconds(1))
        BounceInvariants.check(report)
    }
}
