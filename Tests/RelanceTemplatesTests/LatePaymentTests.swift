import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

/// The creditor's late-payment law, in the payer's language, for business payers only.
@Suite("Late-payment law")
struct LatePaymentTests {
    static func render(
        message: String = "formal-notice", payerLocale: String, kind: PayerKind, jurisdiction: String,
        data: String? = nil, parts: [TemplatePart] = [.letter, .emailText, .emailHTML]
    ) throws -> RenderedMessage {
        let catalog = try LanguageTests.catalog()
        let payer = Fixtures.payer(locale: payerLocale, kind: kind)
        var creditor = Fixtures.creditor
        creditor.jurisdiction = jurisdiction
        let language = catalog.language(message: message, parts: parts, payer: payer)
        let context = try MessageContext.build(
            payer: payer, creditor: creditor, caseRef: "F-2026-0142",
            data: try data ?? ShippedTemplatesTests.sample(message), today: Fixtures.today, language: language)
        return try catalog.render(message: message, parts: parts, payer: payer, context: context)
    }

    @Test("the table: Directive 2011/7/EU's floor everywhere, the UK's bands by the size of the debt")
    func table() throws {
        #expect(Set(LatePaymentLaw.all.keys) == ["FR", "DE", "ES", "IT", "NL", "BE", "GB"])
        for law in LatePaymentLaw.all.values {
            #expect(law.marginPoints >= 8, "\(law.code)")
            if law.code != "GB" { #expect(law.fixedSum == 40 && law.currency == "EUR", "\(law.code)") }
        }
        let gb = try LatePaymentLaw.named("gb").get()
        #expect(gb.compensation(forDebt: 999.99, currency: "GBP") == 40)
        #expect(gb.compensation(forDebt: 1000, currency: "GBP") == 70)
        #expect(gb.compensation(forDebt: 9999.99, currency: "GBP") == 70)
        #expect(gb.compensation(forDebt: 10000, currency: "GBP") == 100)
        #expect(gb.compensation(forDebt: 12000, currency: "EUR") == nil)
        #expect(try LatePaymentLaw.named("fr").get().compensation(forDebt: 5, currency: "USD") == 40)
        guard case .failure(let error) = LatePaymentLaw.named("UK") else {
            Issue.record("UK accepted")
            return
        }
        #expect(error.message.contains("GB"))
    }

    @Test("a German business payer of a German creditor: § 288 BGB and 40 € in German, in every part")
    func germanBusiness() throws {
        let rendered = try Self.render(payerLocale: "de-DE", kind: .business, jurisdiction: "DE")
        #expect(rendered.locale == "de")
        for part in [TemplatePart.letter, .emailText, .emailHTML] {
            let text = try #require(rendered[part]).replacingOccurrences(of: "\u{00A0}", with: " ")
            #expect(text.contains("288"), "\(part.rawValue)")
            #expect(text.contains("BGB"), "\(part.rawValue)")
            #expect(text.contains("40 €"), "\(part.rawValue)")
            #expect(!text.contains("L441-10"), "\(part.rawValue): French law for a German creditor")
        }
    }

    @Test("a consumer's formal notice cites neither the business law nor its indemnity", arguments: ["DE", "FR", "GB"])
    func consumer(jurisdiction: String) throws {
        for locale in ["de-DE", "fr-FR", "en-GB", "es-ES", "it-IT", "nl-NL"] {
            let rendered = try Self.render(payerLocale: locale, kind: .consumer, jurisdiction: jurisdiction)
            for part in [TemplatePart.letter, .emailText, .emailHTML] {
                let text = try #require(rendered[part]).replacingOccurrences(of: "\u{00A0}", with: " ")
                for cited in ["288", "L441-10", "D441-5", "40 €", "€40", "5A", "231/2002", "3/2004"] {
                    #expect(!text.contains(cited), "\(locale) \(jurisdiction) \(part.rawValue): \(cited)")
                }
            }
        }
    }

    @Test(
        "each jurisdiction's law is cited in every language for a business payer",
        arguments: [
            ("FR", "L441-10"), ("DE", "288"), ("ES", "3/2004"), ("IT", "231"), ("NL", "6:96"), ("BE", "2002"),
            ("GB", "1998"),
        ])
    func everyLanguage(jurisdiction: String, citation: String) throws {
        for locale in ["de-DE", "fr-FR", "en-GB", "es-ES", "it-IT", "nl-BE"] {
            let rendered = try Self.render(payerLocale: locale, kind: .business, jurisdiction: jurisdiction)
            for part in [TemplatePart.letter, .emailText, .emailHTML] {
                let text = try #require(rendered[part])
                #expect(text.contains(citation), "\(locale) \(jurisdiction) \(part.rawValue)")
                #expect(!text.contains("{{") && !text.contains("late_payment"), "\(locale) \(part.rawValue)")
            }
        }
    }

    @Test("the total counts the late invoices only: not one paid, not one not yet due")
    func lateOnly() throws {
        let data = """
            {"invoices": [
              {"number": "F-1", "issue_date": "2026-09-01", "due_date": "2026-10-01",
               "amount": {"amount": "100.00", "currency": "EUR"}, "balance": {"amount": "100.00", "currency": "EUR"}},
              {"number": "F-2", "issue_date": "2026-09-01", "due_date": "2026-10-01",
               "amount": {"amount": "50.00", "currency": "EUR"}, "balance": {"amount": "0.00", "currency": "EUR"}},
              {"number": "F-3", "issue_date": "2026-11-01", "due_date": "2026-12-31",
               "amount": {"amount": "70.00", "currency": "EUR"}, "balance": {"amount": "70.00", "currency": "EUR"}}],
             "total_due": {"amount": "170.00", "currency": "EUR"}}
            """
        let catalog = try LanguageTests.catalog()
        let payer = Fixtures.payer(locale: "fr-FR")
        let context = try MessageContext.build(
            payer: payer, creditor: Fixtures.creditor, caseRef: nil, data: data, today: Fixtures.today,
            language: catalog.language(message: "formal-notice", parts: [.letter], payer: payer))
        let late = try #require(context["late_payment"] as? [String: Any])
        #expect((late["indemnity_total"] as? Money)?.amount == 40)
        #expect((late["indemnity"] as? Money)?.renderText.filter { !$0.isWhitespace } == "40€")
    }

    static let poundInvoice = """
        {"invoices": [{"number": "INV-2026-0042", "issue_date": "2026-09-01", "due_date": "2026-10-01",
          "amount": {"amount": "12000.00", "currency": "GBP"}, "balance": {"amount": "12000.00", "currency": "GBP"}}],
         "total_due": {"amount": "12000.00", "currency": "GBP"}}
        """

    @Test("a UK creditor's formal notice on a £12,000 debt states £100")
    func britishBands() throws {
        let rendered = try Self.render(
            payerLocale: "en-GB", kind: .business, jurisdiction: "GB", data: Self.poundInvoice)
        for part in [TemplatePart.letter, .emailText, .emailHTML] {
            let text = try #require(rendered[part])
            #expect(text.contains("£100"), "\(part.rawValue)")
            #expect(text.contains("£12,000.00"), "\(part.rawValue)")
            #expect(!text.contains("£40") && !text.contains("£70"), "\(part.rawValue)")
        }
        // The same debt in euros: the bands are in pounds, so no sum is stated.
        let euros = Self.poundInvoice.replacingOccurrences(of: "GBP", with: "EUR")
        let inEuros = try Self.render(payerLocale: "en-GB", kind: .business, jurisdiction: "GB", data: euros)
        #expect(inEuros[.letter]?.contains("£") == false)
        #expect(inEuros[.letter]?.contains("1998") == true)
    }
}
