import Testing

@testable import RelanceSMS

private func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

/// A French reminder as the templates render it: a narrow no-break space in the amount and a
/// no-break space before the euro sign.
private let frenchReminder =
    "Rappel : la facture F-2026-0142 de 1\u{202F}250,00\u{00A0}€ est échue depuis le 15 octobre."

@Suite("GSM 03.38 alphabet")
struct GSM7AlphabetTests {
    @Test("the basic table has 128 codes, the escape at 0x1B")
    func basicTable() {
        #expect(GSM7.basicTable.count == 128)
        #expect(GSM7.basic.count == 127)
        let spots: [(Int, Unicode.Scalar)] = [
            (0x00, "@"), (0x01, "£"), (0x09, "Ç"), (0x0A, "\n"), (0x0D, "\r"), (0x10, "Δ"), (0x1B, "\u{1B}"),
            (0x1F, "É"), (0x20, " "), (0x24, "¤"), (0x40, "¡"), (0x5F, "§"), (0x60, "¿"), (0x7F, "à"),
        ]
        for (code, scalar) in spots { #expect(GSM7.basicTable[code] == scalar, "code \(code)") }
        #expect(GSM7.septets("\u{1B}") == nil)
    }

    @Test("the extension table has the 10 characters, each 2 septets")
    func extensionTable() {
        #expect(GSM7.extensionTable.count == 10)
        #expect(GSM7.extensionTable[0x65] == "€")
        for scalar in "\u{0C}^{}\\[~]|€".unicodeScalars { #expect(GSM7.septets(scalar) == 2, "\(scalar)") }
    }

    @Test(
        "characters of the basic set take one septet",
        arguments: Array("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà".unicodeScalars))
    func basicCharacters(_ scalar: Unicode.Scalar) {
        #expect(GSM7.septets(scalar) == 1)
    }

    @Test(
        "characters outside the alphabet",
        arguments: Array("êâçáíóúÀÈ`\t\u{A0}\u{202F}’«😀Жλ中".unicodeScalars))
    func outside(_ scalar: Unicode.Scalar) {
        #expect(GSM7.septets(scalar) == nil)
    }
}

/// One row of the segment table.
struct SegmentCase: Sendable, CustomTestStringConvertible {
    var label: String
    var text: String
    var encoding: SMSEncoding
    var units: Int
    var segments: Int
    var perSegment: Int
    var testDescription: String { label }

    init(_ label: String, _ text: String, _ encoding: SMSEncoding, _ units: Int, _ segments: Int, _ perSegment: Int) {
        (self.label, self.text, self.encoding) = (label, text, encoding)
        (self.units, self.segments, self.perSegment) = (units, segments, perSegment)
    }
}

private let segmentCases: [SegmentCase] = [
    SegmentCase("empty", "", .gsm7, 0, 0, 160),
    SegmentCase("1", "a", .gsm7, 1, 1, 160),
    SegmentCase("160", repeated("a", 160), .gsm7, 160, 1, 160),
    SegmentCase("161", repeated("a", 161), .gsm7, 161, 2, 153),
    SegmentCase("306", repeated("a", 306), .gsm7, 306, 2, 153),
    SegmentCase("307", repeated("a", 307), .gsm7, 307, 3, 153),
    SegmentCase("153×3", repeated("a", 459), .gsm7, 459, 3, 153),
    SegmentCase("153×3+1", repeated("a", 460), .gsm7, 460, 4, 153),
    SegmentCase("153×6", repeated("a", 918), .gsm7, 918, 6, 153),
    SegmentCase("153×6+1", repeated("a", 919), .gsm7, 919, 7, 153),
    SegmentCase("€×80", repeated("€", 80), .gsm7, 160, 1, 160),
    SegmentCase("159+€", repeated("a", 159) + "€", .gsm7, 161, 2, 153),
    SegmentCase("158+{", repeated("a", 158) + "{", .gsm7, 160, 1, 160),
    SegmentCase("[]×40", repeated("[]", 40), .gsm7, 160, 1, 160),
    SegmentCase("[]×40+a", repeated("[]", 40) + "a", .gsm7, 161, 2, 153),
    SegmentCase("all extension", "\u{0C}^{}\\[~]|€", .gsm7, 20, 1, 160),
    // 306 septets, but the € would straddle the end of the second segment.
    SegmentCase("€ straddling", repeated("a", 152) + "€" + repeated("a", 152), .gsm7, 306, 3, 153),
    SegmentCase("€ fitting", repeated("a", 151) + "€" + repeated("a", 153), .gsm7, 306, 2, 153),
    // 76 € fill a segment (152 septets): 153 of them need 3 segments, not 306/153 = 2.
    SegmentCase("€×153", repeated("€", 153), .gsm7, 306, 3, 153),
    SegmentCase("é is GSM", repeated("é", 160), .gsm7, 160, 1, 160),
    SegmentCase("CR LF", "a\r\nb", .gsm7, 4, 1, 160),
    SegmentCase("emoji", "😀", .ucs2, 2, 1, 70),
    SegmentCase("ê", "ê", .ucs2, 1, 1, 70),
    SegmentCase("ê×70", repeated("ê", 70), .ucs2, 70, 1, 70),
    SegmentCase("ê×71", repeated("ê", 71), .ucs2, 71, 2, 67),
    SegmentCase("ê×134", repeated("ê", 134), .ucs2, 134, 2, 67),
    SegmentCase("ê×135", repeated("ê", 135), .ucs2, 135, 3, 67),
    SegmentCase("GSM text with one emoji", repeated("a", 100) + "😀", .ucs2, 102, 2, 67),
    SegmentCase("😀×35", repeated("😀", 35), .ucs2, 70, 1, 70),
    SegmentCase("😀×36", repeated("😀", 36), .ucs2, 72, 2, 67),
    // 134 units, but the surrogate pair would straddle the end of the first segment.
    SegmentCase("pair straddling", repeated("ê", 66) + "😀" + repeated("ê", 66), .ucs2, 134, 3, 67),
    SegmentCase("pair fitting", repeated("ê", 65) + "😀" + repeated("ê", 67), .ucs2, 134, 2, 67),
    SegmentCase("narrow no-break space", "1\u{202F}250", .ucs2, 5, 1, 70),
]

@Suite("SMS measure")
struct SMSMeasureTests {
    @Test("segments at the boundaries", arguments: segmentCases)
    func segments(_ row: SegmentCase) {
        let measure = SMSText.measure(row.text)
        #expect(measure.encoding == row.encoding)
        #expect(measure.units == row.units)
        #expect(measure.segments == row.segments)
        #expect(measure.perSegment == row.perSegment)
    }

    @Test("characters counts what a reader sees")
    func characters() {
        #expect(SMSText.measure("a\r\nb").characters == 3)
        #expect(SMSText.measure("😀👍🇫🇷").characters == 3)
        #expect(SMSText.measure("😀👍🇫🇷").units == 8)
        #expect(SMSText.measure(repeated("€", 10)).characters == 10)
    }

    @Test("the French reminder is 2 UCS-2 SMS as rendered, 1 GSM-7 SMS after typography")
    func frenchReminderMeasure() {
        let raw = SMSText.measure(frenchReminder)
        #expect(raw == SMSMeasure(encoding: .ucs2, units: 77, segments: 2, perSegment: 67, characters: 77))
        let clean = SMSText.sanitize(frenchReminder, .typography)
        #expect(clean == "Rappel : la facture F-2026-0142 de 1 250,00 € est échue depuis le 15 octobre.")
        #expect(
            SMSText.measure(clean)
                == SMSMeasure(encoding: .gsm7, units: 78, segments: 1, perSegment: 160, characters: 77))
        #expect(SMSText.sanitize(frenchReminder, .transliterate) == clean)
    }

    @Test("é stays GSM-7; ê is UCS-2 unless transliterated")
    func accents() {
        #expect(SMSText.measure("Réglé").encoding == .gsm7)
        #expect(SMSText.measure("Fenêtre").encoding == .ucs2)
        #expect(SMSText.measure(SMSText.sanitize("Fenêtre", .typography)).encoding == .ucs2)
        let transliterated = SMSText.sanitize("Fenêtre", .transliterate)
        #expect(transliterated == "Fenetre")
        #expect(SMSText.measure(transliterated).encoding == .gsm7)
    }

    @Test("description")
    func description() {
        #expect(
            SMSText.measure(repeated("a", 1012)).description == "7 segments (1,012 GSM-7 characters, 153 per segment)")
        #expect(SMSText.measure("😀").description == "1 segment (2 UCS-2 units, 70 per segment)")
    }

    @Test(
        "numbers are grouped by thousands with commas",
        arguments: [(0, "0"), (7, "7"), (999, "999"), (1000, "1,000"), (1012, "1,012"), (1_234_567, "1,234,567")])
    func grouped(_ n: Int, _ text: String) {
        #expect(SMSText.grouped(n) == text)
    }
}

@Suite("SMS sanitising")
struct SMSSanitizingTests {
    @Test(
        "typography: spaces",
        arguments: [
            ("1\u{202F}250,00\u{00A0}€", "1 250,00 €"),
            ("a\u{2009}b\u{2007}c\u{2000}d\u{200A}e\u{3000}f\u{205F}g\u{1680}h", "a b c d e f g h"),
            ("Total\u{00A0}:\u{00A0}12\u{202F}€", "Total : 12 €"),
            ("line\none\ttab", "line\none\ttab"),
        ])
    func spaces(_ input: String, _ output: String) {
        #expect(SMSText.sanitize(input, .typography) == output)
    }

    @Test(
        "typography: zero-width characters and the soft hyphen are removed",
        arguments: [
            ("ab\u{200B}c\u{200C}d\u{2060}e\u{FEFF}f\u{00AD}g", "abcdefg"),
            ("\u{FEFF}Bonjour", "Bonjour"),
            ("a\u{200D}b", "ab"),
            ("\u{200D}😀", "😀"),
            // Inside an emoji sequence the joiner is part of the emoji.
            ("👨\u{200D}👩\u{200D}👧", "👨\u{200D}👩\u{200D}👧"),
            ("🏳\u{FE0F}\u{200D}🌈", "🏳\u{FE0F}\u{200D}🌈"),
        ])
    func zeroWidth(_ input: String, _ output: String) {
        #expect(SMSText.sanitize(input, .typography).unicodeScalars.elementsEqual(output.unicodeScalars))
    }

    @Test(
        "typography: quotes",
        arguments: [
            ("l’échéance", "l'échéance"),
            ("‘a’ ‚b‛ 5′", "'a' 'b' 5'"),
            ("“a” „b‟ 5″", "\"a\" \"b\" 5\""),
            ("«\u{00A0}Bonjour\u{00A0}»", "\"Bonjour\""),
            ("«\u{202F}Bonjour\u{202F}»", "\"Bonjour\""),
            ("«  Bonjour  »", "\"Bonjour\""),
            ("Il a dit « Bonjour », puis « merci ».", "Il a dit \"Bonjour\", puis \"merci\"."),
            ("«Bonjour»", "\"Bonjour\""),
            ("Er sagte »Hallo« und ging.", "Er sagte \"Hallo\" und ging."),
        ])
    func quotes(_ input: String, _ output: String) {
        #expect(SMSText.sanitize(input, .typography) == output)
    }

    @Test(
        "typography: dashes, bullet, ellipsis",
        arguments: [
            ("a‐b‑c‒d–e—f―g−h", "a-b-c-d-e-f-g-h"),
            ("du 1er – au 15", "du 1er - au 15"),
            ("• ligne", "- ligne"),
            ("Merci…", "Merci..."),
        ])
    func punctuation(_ input: String, _ output: String) {
        #expect(SMSText.sanitize(input, .typography) == output)
    }

    @Test(
        "typography leaves everything else as it is",
        arguments: ["Fenêtre", "œuvre", "😀 Привет 中文", "Prix : 12,50 € [TTC] {x}", "ÀÇ", "a`b"])
    func untouched(_ input: String) {
        #expect(SMSText.sanitize(input, .typography) == input)
    }

    @Test("off changes nothing")
    func off() {
        for input in [frenchReminder, "« Bonjour »", "l’été…", "a\u{200B}b"] {
            #expect(SMSText.sanitize(input, .off).unicodeScalars.elementsEqual(input.unicodeScalars))
        }
    }

    @Test(
        "transliterate: accents the alphabet lacks are dropped, the others kept",
        arguments: [
            ("âêîôûëïÿç", "aeioueiyc"),
            ("ÀÂÈÊËÎÏÔÙÛŸ", "AAEEEIIOUUY"),
            ("áíóúãõ", "aiouao"),
            ("éèàùìòÉÇÄÖÑÜäöñüÅåØøÆæß", "éèàùìòÉÇÄÖÑÜäöñüÅåØøÆæß"),
            ("œuvre, Œuvre, sœur", "oeuvre, OEuvre, soeur"),
            ("Łódź", "Lodz"),
            ("Fête de l’été…", "Fete de l'été..."),
            // A decomposed é is composed first; an accent that composes with nothing is dropped.
            ("e\u{0301}te\u{0301}", "été"),
            ("q\u{0301}", "q"),
            ("\u{2126}", "Ω"),
        ])
    func transliterate(_ input: String, _ output: String) {
        let result = SMSText.sanitize(input, .transliterate)
        #expect(result.unicodeScalars.elementsEqual(output.unicodeScalars), "\(result)")
        #expect(GSM7.canEncode(result))
    }

    @Test(
        "transliterate leaves characters with no equivalent",
        arguments: ["😀", "Привет", "Йогурт", "中文", "مرحبا", "ά"])
    func noEquivalent(_ input: String) {
        let result = SMSText.sanitize(input, .transliterate)
        #expect(result.unicodeScalars.elementsEqual(input.unicodeScalars))
        #expect(SMSText.measure(result).encoding == .ucs2)
    }

    @Test("transliterate on a full reminder gives GSM-7")
    func fullReminder() {
        let text = "Rappel : « Votre échéance de 1\u{202F}250,00\u{00A0}€ » — merci, Cœur & Fenêtre SARL."
        let result = SMSText.sanitize(text, .transliterate)
        #expect(result == "Rappel : \"Votre échéance de 1 250,00 €\" - merci, Coeur & Fenetre SARL.")
        #expect(SMSText.measure(result).encoding == .gsm7)
    }
}

@Suite("SMS prepare")
struct SMSPrepareTests {
    @Test("trims, sanitises and measures")
    func prepared() throws {
        let sms = try SMSText.prepare("  \n Bonjour\u{00A0}!  \n", sanitizing: .typography, maxSegments: 1)
        #expect(sms.text == "Bonjour !")
        #expect(sms == PreparedSMS(text: "Bonjour !", measure: SMSText.measure("Bonjour !")))
        #expect(sms.measure.encoding == .gsm7)
        #expect(sms.measure.segments == 1)
    }

    @Test("the default sanitising is typography")
    func defaultSanitizing() throws {
        let sms = try SMSText.prepare(frenchReminder, maxSegments: 1)
        #expect(sms.text == SMSText.sanitize(frenchReminder, .typography))
        #expect(sms.measure.segments == 1)
    }

    @Test("a text exactly at the limit is accepted")
    func atLimit() throws {
        #expect(try SMSText.prepare(repeated("a", 918), sanitizing: .off, maxSegments: 6).measure.segments == 6)
        #expect(try SMSText.prepare(repeated("a", 160), sanitizing: .off, maxSegments: 1).measure.segments == 1)
    }

    @Test(
        "an empty text is refused",
        arguments: ["", "   ", " \n\t\r\n ", "\u{00A0}", "\u{200B}", "\u{FEFF}\u{202F}"])
    func empty(_ text: String) {
        #expect(throws: SMSTextError("the SMS text is empty")) {
            try SMSText.prepare(text, sanitizing: .typography, maxSegments: 6)
        }
    }

    @Test(
        "a text over the limit is refused with its size",
        arguments: [
            (
                repeated("a", 1000) + repeated("€", 6), SMSSanitizing.typography, 6,
                "the SMS is 7 segments (1,012 GSM-7 characters, 153 per segment), over the limit of 6"
            ),
            (
                repeated("a", 161), .off, 1,
                "the SMS is 2 segments (161 GSM-7 characters, 153 per segment), over the limit of 1"
            ),
            (
                repeated("ê", 450), .off, 6,
                "the SMS is 7 segments (450 UCS-2 units, 67 per segment; 'ê' is not in the GSM-7 alphabet), "
                    + "over the limit of 6"
            ),
            (
                frenchReminder, .off, 1,
                "the SMS is 2 segments (77 UCS-2 units, 67 per segment; U+202F is not in the GSM-7 alphabet), "
                    + "over the limit of 1"
            ),
        ])
    func overLimit(_ text: String, _ sanitizing: SMSSanitizing, _ limit: Int, _ message: String) {
        #expect(throws: SMSTextError(message)) { try SMSText.prepare(text, sanitizing: sanitizing, maxSegments: limit) }
    }

    @Test("transliterating can bring a text under the limit")
    func transliterateFits() throws {
        let text = repeated("ê", 450)
        #expect(throws: SMSTextError.self) { try SMSText.prepare(text, sanitizing: .typography, maxSegments: 6) }
        let sms = try SMSText.prepare(text, sanitizing: .transliterate, maxSegments: 6)
        #expect(sms.measure == SMSMeasure(encoding: .gsm7, units: 450, segments: 3, perSegment: 153, characters: 450))
    }

    @Test("the error's description is its message")
    func errorDescription() {
        #expect(SMSTextError("x").description == "x")
        #expect("\(SMSTextError("the SMS text is empty"))" == "the SMS text is empty")
    }
}
