import RelanceEmail
import RelanceTestSupport
import Testing

@Suite("MIMEEncoding.quotedPrintable")
struct QuotedPrintableTests {
    @Test(
        "encodes exactly what must be encoded",
        arguments: [
            ("plain text, 100% ASCII!", "plain text, 100% ASCII!"),
            ("a=b", "a=3Db"),
            ("==", "=3D=3D"),
            ("é", "=C3=A9"),
            ("1 250,00\u{202F}€", "1 250,00=E2=80=AF=E2=82=AC"),
            ("end ", "end=20"),
            ("tab\t", "tab=09"),
            ("a b\tc", "a b\tc"),
            ("x \ny\t", "x=20\r\ny=09"),
            ("a\nb", "a\r\nb"),
            ("a\r\nb", "a\r\nb"),
            ("a\rb", "a\r\nb"),
            ("a\n\nb", "a\r\n\r\nb"),
            (".", "=2E"),
            ("ok\n.\nend", "ok\r\n=2E\r\nend"),
            (".signature", "=2Esignature"),
            ("a.b.", "a.b."),
            ("From the accounts team", "=46rom the accounts team"),
            ("Dear client\nFrom today on", "Dear client\r\n=46rom today on"),
            ("Fromage", "Fromage"),
            ("We write From here", "We write From here"),
            ("", ""),
            ("\u{7F}\u{1}", "=7F=01"),
        ])
    func encoding(_ input: String, _ expected: String) {
        #expect(MIMEEncoding.quotedPrintable(input) == expected)
    }

    static let samples: [String] = [
        "Madame, Monsieur,\n\nSauf erreur de notre part, la facture F-2026-0142 d’un montant de 1 250,00 € reste impayée.",
        "Émoji : 🙏🏽 👨‍👩‍👧‍👦 🇫🇷 — merci !",
        String(repeating: "é", count: 300),
        String(repeating: "a", count: 75),
        String(repeating: "a", count: 76),
        String(repeating: "a", count: 77),
        String(repeating: "=", count: 200),
        String(repeating: "x", count: 74) + "é" + String(repeating: "y", count: 80),
        String(repeating: "🙂", count: 60),
        "trailing spaces   \nnext line\t\t\nlast  ",
        String(repeating: "word ", count: 40),
        String(repeating: " ", count: 100),
        ".\n..\n.leading dot",
        "From \nFrom\nFrom x",
        "CRLF\r\nand CR\rand LF\n",
        "tabs\tin\tthe\tmiddle and a very long line that goes on and on and on past the seventy-six character limit",
        "<p style=\"margin:0\">Lien : https://paiement.example/r/C-00412?k=b94d0e62&lang=fr</p>",
    ]

    @Test("decoding the output gives back the text", arguments: samples)
    func roundTrip(_ input: String) throws {
        let encoded = MIMEEncoding.quotedPrintable(input)
        let decoded = try #require(MIMETestSupport.decodeQuotedPrintable(encoded))
        let expected = input.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        #expect(String(decoding: decoded, as: UTF8.self) == expected)
    }

    @Test("the output is safe on the wire", arguments: samples)
    func wireSafe(_ input: String) {
        let encoded = MIMEEncoding.quotedPrintable(input)
        #expect(MIMETestSupport.hasOnlyCRLF(encoded))
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76, "line of \(line.utf8.count) characters: \(line)")
            // Only printable ASCII, space and tab.
            #expect(line.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 })
            // Trailing white space would be stripped by relays (RFC 2045 §6.7 rule 3).
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            // A lone "." ends SMTP DATA; "From " is mangled by mbox tools.
            #expect(!line.hasPrefix("."))
            #expect(!line.hasPrefix("From "))
        }
    }

    static let afterSoftBreak: [String] = [
        // The soft break puts the "." alone on its line.
        String(repeating: "b", count: 75) + ".",
        String(repeating: "b", count: 75) + ".hidden after a soft break",
        String(repeating: "b", count: 75) + "From here, after a soft break",
    ]

    @Test("a '.' or 'From ' pushed to the start of a line by a soft break is protected too", arguments: afterSoftBreak)
    func protectedAfterSoftBreak(_ input: String) throws {
        let encoded = MIMEEncoding.quotedPrintable(input)
        let decoded = try #require(MIMETestSupport.decodeQuotedPrintable(encoded))
        #expect(String(decoding: decoded, as: UTF8.self) == input)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { !$0.hasPrefix(".") && !$0.hasPrefix("From ") }, "\(lines)")
    }

    @Test("long lines are cut by soft breaks that end with '='")
    func softBreaks() {
        let encoded = MIMEEncoding.quotedPrintable(String(repeating: "a", count: 200))
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.count == 3)
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") && $0.count == 76 })
        #expect(lines.joined().replacingOccurrences(of: "=", with: "") == String(repeating: "a", count: 200))
    }

    @Test("an escape sequence is never cut by a soft break")
    func escapesStayWhole() {
        for prefix in 70...76 {
            let encoded = MIMEEncoding.quotedPrintable(String(repeating: "a", count: prefix) + "ééé")
            for line in encoded.components(separatedBy: "\r\n") {
                let body = line.hasSuffix("=") ? String(line.dropLast()) : line
                // Every "=" in the body starts a full "=XX".
                let bytes = Array(body.utf8)
                for (i, b) in bytes.enumerated() where b == UInt8(ascii: "=") {
                    #expect(i + 2 < bytes.count, "cut escape in \(line)")
                }
            }
        }
    }

    /// The encoder as it was before its fast path for runs of plain bytes: one byte at a
    /// time, every rule spelled out. The encoder must give the same output.
    static func reference(_ text: String) -> String {
        let input = Array(text.utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        let limit = MIMEEncoding.bodyLineLimit - 1
        var out: [UInt8] = []
        var lineLength = 0
        var lineStart = true
        var i = 0
        while i < input.count {
            let byte = input[i]
            if byte == 0x0D || byte == 0x0A {
                if byte == 0x0D, i + 1 < input.count, input[i + 1] == 0x0A { i += 1 }
                out += [0x0D, 0x0A]
                lineLength = 0
                lineStart = true
                i += 1
                continue
            }
            let next = i + 1 < input.count ? input[i + 1] : 0x0A
            let atLineEnd = next == 0x0A || next == 0x0D
            let startsLine = lineStart || lineLength + 1 > limit
            let encode: Bool
            switch byte {
            case UInt8(ascii: "="): encode = true
            case UInt8(ascii: " "), UInt8(ascii: "\t"): encode = atLineEnd
            case UInt8(ascii: "."): encode = startsLine
            case UInt8(ascii: "F"): encode = startsLine && input[i...].starts(with: Array("From ".utf8))
            case 0x21...0x7E: encode = false
            default: encode = true
            }
            let width = encode ? 3 : 1
            if lineLength + width > limit {
                out += Array("=\r\n".utf8)
                lineLength = 0
            }
            lineLength += width
            out += encode ? [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]] : [byte]
            lineStart = false
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("the same output as the byte-by-byte encoder, for 3,000 random texts")
    func matchesReference() {
        // Pieces chosen to land on every rule: dots and "From " after soft breaks, spaces
        // before line ends, escapes at the limit, long plain runs.
        let pieces = [
            "a", "word", String(repeating: "x", count: 70), ".", "..", "From ", "From", "F", " ", "\t", "=", "é", "€",
            "\n", "\r\n", "\r", "<td style=\"padding:8px 6px\">", "🙂", "\u{7F}", "1 250,00\u{202F}€",
        ]
        var generator = SeededGenerator(seed: 20261204)
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                text += pieces.randomElement(using: &generator)!
            }
            #expect(MIMEEncoding.quotedPrintable(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }
}

/// SplitMix64: the same texts on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
