import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

/// Every shipped message in the payer's language, with formats that agree with its text.
@Suite("Languages")
struct LanguageTests {
    static func catalog() throws -> TemplateCatalog {
        try TemplateCatalog.load(directory: ShippedTemplatesTests.directory, defaultLocale: "en-GB")
    }

    @Test(
        "the locale chain: a payer's locale → the text's locale → the formats",
        arguments: [
            ("fr-FR", "fr", "fr-FR"), ("fr-BE", "fr", "fr-BE"), ("fr-CH", "fr", "fr-CH"), ("fr-LU", "fr", "fr-LU"),
            ("de-DE", "de", "de-DE"), ("de-AT", "de", "de-AT"), ("de-CH", "de", "de-CH"), ("de-LU", "de", "de-LU"),
            ("nl-NL", "nl", "nl-NL"), ("nl-BE", "nl", "nl-BE"), ("es-ES", "es", "es-ES"), ("es-MX", "es", "es-MX"),
            ("es-AR", "es", "es-AR"), ("it-IT", "it", "it-IT"), ("it-CH", "it", "it-CH"), ("en-GB", "en", "en-GB"),
            ("en-IE", "en", "en-IE"), ("pt-PT", "en", "en-GB"), ("ja-JP", "en", "en-GB"), ("fr_CA", "fr", "fr-CA"),
        ])
    func chain(payerLocale: String, text: String, formats: String) throws {
        let catalog = try Self.catalog()
        let payer = Fixtures.payer(locale: payerLocale)
        for message in ShippedTemplatesTests.messages {
            let language = catalog.language(message: message, parts: [.emailText], payer: payer)
            #expect(language.textLocale == text, "\(message)")
            #expect(language.formatLocale == formats, "\(message)")
        }
    }

    @Test(
        "without a default locale of the text's language, the formats are the text's own",
        arguments: [("pt-PT", "en", "en"), ("de-CH", "de", "de-CH")])
    func fallbackFormats(payerLocale: String, text: String, formats: String) {
        let language = MessageLanguage(
            textLocale: text, payerLocale: payerLocale, defaultLocale: "fr", wording: .english)
        #expect(language.formatLocale == formats)
    }

    /// Words frequent in any text of a language and rare in the others (none shared:
    /// "de" is French, Spanish and Dutch, "la" French, Spanish and Italian).
    static let stopWords: [String: Set<String>] = [
        "fr": ["nous", "vous", "votre", "vos", "les", "des", "pour", "avec", "est", "sur", "au", "aux", "ce", "cette"],
        "en": ["the", "you", "your", "we", "our", "of", "and", "for", "with", "this", "please", "by"],
        "de": [
            "der", "die", "das", "und", "sie", "ihre", "ihr", "wir", "ist", "nicht", "mit", "bitte", "für", "den",
            "dem", "zu", "zum", "zur", "bis", "vom", "im", "ein", "eine", "auf", "am", "über",
        ],
        "es": [
            "el", "los", "las", "que", "su", "sus", "del", "por", "para", "nuestro", "nuestra", "y", "este", "esta",
        ],
        "it": [
            "il", "di", "che", "della", "delle", "dei", "gli", "sono", "nostro", "vostro", "alla", "ai", "questo",
            "entro",
        ],
        "nl": [
            "het", "een", "van", "wij", "u", "uw", "ons", "onze", "voor", "niet", "op", "te", "aan", "graag", "dagen",
        ],
    ]

    /// The language whose stop words `text` has most of.
    static func language(of text: String) -> (best: String, scores: [String: Int]) {
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter })
        var scores: [String: Int] = [:]
        for (language, stops) in stopWords {
            scores[language] = words.filter { stops.contains(String($0)) }.count
        }
        let best = scores.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }!.key
        return (best, scores)
    }

    static let payerLocales = [
        "fr-FR", "fr-BE", "fr-CH", "en-GB", "de-DE", "de-AT", "de-CH", "es-ES", "es-MX", "it-IT", "it-CH", "nl-NL",
        "nl-BE", "pt-PT",
    ]

    /// Every locale whose formats could leak into a text.
    static let formatLocales = payerLocales.filter { $0 != "pt-PT" } + ["en", "en-US", "fr", "de", "es", "it", "nl"]

    /// The sample's amounts and dates, as JSON found them.
    static func values(in json: JSONValue) -> (money: [(Decimal, String)], dates: [String]) {
        var money: [(Decimal, String)] = []
        var dates: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let fields):
                if case .string(let amount)? = fields["amount"], case .string(let currency)? = fields["currency"],
                    let decimal = Decimal(string: amount)
                {
                    money.append((decimal, currency))
                }
                fields.values.forEach(walk)
            case .array(let items): items.forEach(walk)
            case .string(let text) where MessageContext.calendarDay(text) != nil: dates.append(text)
            default: break
            }
        }
        walk(json)
        return (money, dates)
    }

    @Test(
        "every message × locale × segment × part: one language, and formats of the same locale",
        arguments: ShippedTemplatesTests.messages, payerLocales)
    func oneLanguage(message: String, payerLocale: String) throws {
        let catalog = try Self.catalog()
        let sample = try ShippedTemplatesTests.sample(message)
        let (money, dates) = Self.values(in: try JSONValue.parse(sample))
        let todayISO = Timestamp.isoDate(of: Fixtures.today, in: TimeZone(identifier: "Europe/Paris")!)
        let allDates = dates + [todayISO, PaymentDeadline().earliest(after: todayISO)]
        for segment in ShippedTemplatesTests.segments {
            let payer = Fixtures.payer(
                locale: payerLocale, segment: segment, kind: segment == "consumer" ? .consumer : .business)
            let parts = TemplatePart.allCases.filter { catalog.parts(of: message).contains($0) }
            let language = catalog.language(message: message, parts: parts, payer: payer)
            let expected = MessageLanguage.language(of: language.textLocale)
            let context = try MessageContext.build(
                payer: payer, creditor: Fixtures.creditor, caseRef: "F-2026-0142", data: sample, today: Fixtures.today,
                language: language)
            let rendered = try catalog.render(message: message, parts: parts, payer: payer, context: context)
            #expect(rendered.locale == language.textLocale)
            let formats = Locale(identifier: language.formatLocale)
            for part in parts {
                let text = try #require(rendered[part], "\(message)/\(part.rawValue)")
                let label = "\(message) \(payerLocale) \(segment) \(part.rawValue)"
                let (best, scores) = Self.language(of: text)
                if part == .emailSubject || part == .sms {
                    // Too short to have many: none of another language's more than of its own.
                    let own = scores[expected] ?? 0
                    #expect(
                        scores.allSatisfy { $0.value <= own },
                        "\(label): reads as \(best), expected \(expected) (\(scores))")
                } else {
                    #expect(best == expected, "\(label): reads as \(best), expected \(expected) (\(scores))")
                }
                // An amount or a date written the way another locale writes it is a slip.
                for (amount, currency) in money {
                    let right = Money(amount: amount, currency: currency, locale: formats).renderText
                    for other in Self.formatLocales {
                        let wrong = Money(amount: amount, currency: currency, locale: Locale(identifier: other))
                            .renderText
                        if wrong != right && !right.contains(wrong) {
                            #expect(!text.contains(wrong), "\(label): \(wrong) is \(other)'s format, not \(right)")
                        }
                    }
                }
                for iso in allDates {
                    let right = try #require(LocalDate(iso: iso, locale: formats)).renderText
                    for other in Self.formatLocales {
                        let wrong = try #require(LocalDate(iso: iso, locale: Locale(identifier: other))).renderText
                        if wrong != right && !right.contains(wrong) {
                            #expect(!text.contains(wrong), "\(label): \(wrong) is \(other)'s format, not \(right)")
                        }
                    }
                }
            }
            // The total is shown, in the text's formats.
            let all = parts.compactMap { rendered[$0] }.joined(separator: "\n")
            if let total = try JSONValue.parse(sample)["total_due"], case .string(let a)? = total["amount"],
                case .string(let c)? = total["currency"], message != "thanks"
            {
                let shown = Money(amount: Decimal(string: a)!, currency: c, locale: formats).renderText
                #expect(all.contains(shown), "\(message) \(payerLocale) \(segment): total \(shown) not shown")
            }
        }
    }
}

@Suite("Wording files")
struct WordingTests {
    static let valid = """
        {"and_more_one": "und {n} weitere", "and_more_other": "und {n} weitere", "your_reference": "Ihre Kundennummer",
         "our_reference": "Unser Zeichen", "place_and_date": "{place}, {date}", "subject": "{subject}",
         "invoice_table": {"invoice": "Rechnung", "issued": "Datum", "due": "Fällig", "amount": "Betrag",
                           "paid": "Bezahlt", "balance": "Offen", "total": "Summe"},
         "qr_caption": "Scannen"}
        """

    @Test("a complete file is read")
    func valid() throws {
        let wording = try Wording.parse(Self.valid)
        #expect(wording.andMore(3) == " und 3 weitere")
        #expect(wording.placeAndDate(place: "Berlin", date: "7. Dezember 2026") == "Berlin, 7. Dezember 2026")
        #expect(wording.tableHeaders == ["Rechnung", "Datum", "Fällig", "Betrag", "Bezahlt", "Offen"])
    }

    @Test(
        "every problem is named at its pointer",
        arguments: [
            (
                "\"and_more_one\": \"und {n} weitere\"", "\"and_more_one\": \"weitere\"",
                "/and_more_one: must contain {n}"
            ),
            ("\"subject\": \"{subject}\"", "\"subject\": 7", "/subject: is required: a non-empty string"),
            ("\"subject\": \"{subject}\"", "\"subject\": \"a\\nb {subject}\"", "/subject: must be one line"),
            ("\"qr_caption\": \"Scannen\"", "\"qr_caption\": \"Scannen\", \"extra\": \"x\"", "/extra: unknown key"),
            ("\"total\": \"Summe\"", "\"totl\": \"Summe\"", "/invoice_table/totl: unknown key"),
            ("\"total\": \"Summe\"", "\"total\": 5", "/invoice_table/total: is required"),
            (
                "\"{place}, {date}\"", "\"{place}, {date} {foo}\"",
                "/place_and_date: has a brace that is not a placeholder"
            ),
            ("\"Scannen\"", "\"Scan\\u202Ener\"", "/qr_caption: must be one line without U+202E"),
        ])
    func invalid(replacing: String, with: String, expected: String) {
        let text = Self.valid.replacingOccurrences(of: replacing, with: with)
        #expect(throws: FieldError.self) { try Wording.parse(text) }
        do { _ = try Wording.parse(text) } catch { #expect(error.description.hasPrefix(expected), "\(error)") }
    }

    @Test("a directory with wording/ must have every language's; one without keeps French and English built in")
    func directories() throws {
        let german = ["probe/de/email-text.mustache": "Hallo", "probe/fr/email-text.mustache": "Bonjour"]
        let without = try TemporaryTemplates(german).load(defaultLocale: "en")
        #expect(without.wordingWarnings.count == 1 && without.wordingWarnings[0].contains("wording/de.json"))
        var withFolder = german
        withFolder["wording/it.json"] = WordingTests.valid
        #expect(throws: TemplateLoadError.self) { try TemporaryTemplates(withFolder).load(defaultLocale: "en") }
        // A regional file does not stand for its language...
        withFolder["wording/de_DE.json"] = WordingTests.valid
        #expect(throws: TemplateLoadError.self) { try TemporaryTemplates(withFolder).load(defaultLocale: "en") }
        // ...but serves the payers of its region (`_` or `-`, any case).
        withFolder["wording/de.json"] = WordingTests.valid.replacingOccurrences(of: "Summe", with: "Gesamt")
        let loaded = try TemporaryTemplates(withFolder).load(defaultLocale: "en")
        func total(_ locale: String) -> String {
            loaded.language(message: "probe", parts: [.emailText], payer: Fixtures.payer(locale: locale)).wording
                .tableTotal
        }
        #expect(total("de-DE") == "Summe" && total("de_de") == "Summe" && total("de-AT") == "Gesamt")
        #expect(total("fr-FR") == "Total" && total("pt-PT") == "Total")
        #expect(loaded.wordingWarnings.isEmpty)
    }
}
