import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("Partials rendered once per creditor")
struct ConstantPartialsTests {
    @Test(
        "only tags about the creditor make a partial constant",
        arguments: [
            ("Le service clients\n{{#creditor.name}}\n{{.}}\n{{/creditor.name}}\n", true),
            ("{{creditor.name}} – {{{creditor.registration}}} {{& creditor.iban}}", true),
            ("{{! a comment naming {{payer.name}} }}{{#creditor.address}}{{.}}\n{{/creditor.address}}", true),
            ("{{^creditor.phone}}no phone{{/creditor.phone}}", true),
            ("{{# creditor.iban }}IBAN {{ . }}{{/ creditor.iban }}", true),
            ("plain text, no tag at all", true),
            ("{{payer.name}}", false),
            ("{{#creditor.iban}}{{invoice_numbers}}{{/creditor.iban}}", false),
            ("{{.}}", false),
            ("{{^creditor.phone}}{{.}}{{/creditor.phone}}", false),
            ("{{> signature-text}}", false),
            ("{{=<% %>=}}<% creditor.name %>", false),
            ("{{creditorname}}", false),
            ("{{creditor.}}", false),
            ("{{#creditor.name}}unclosed", false),
            ("{{creditor.name", false),
            ("{{uppercase(creditor.name)}}", false),
            ("{{$block}}x{{/block}}", false),
        ])
    func detection(source: String, constant: Bool) {
        #expect(ConstantPartials.dependsOnCreditorOnly(source) == constant)
    }

    @Test("a literal renders its text as it is, or is not made when it cannot be written safely")
    func literal() throws {
        let text = "Lumen {{payer.name}} {{{x}}} <b>&amp;</b>\nline two\n"
        let template = try #require(ConstantPartials.literal(text))
        #expect(template.render(["payer": ["name": "X"]]) == text)
        #expect(ConstantPartials.literal("a <%~relance b") == nil)
        #expect(ConstantPartials.literal("\nstarts with a blank line") == nil)
        #expect(ConstantPartials.literal("   \nstarts with a blank line") == nil)
    }

    @Test("the shipped signature and legal footer are constant; partials about the job are not")
    func shipped() throws {
        let catalog = try ShippedTemplatesTests.catalog()
        for locale in ["fr", "en"] {
            let constant = Set(
                (catalog.partials[locale] ?? [:]).filter { ConstantPartials.dependsOnCreditorOnly($0.value.source) }
                    .keys)
            #expect(
                constant.isSuperset(of: [
                    "signature-text", "signature-html", "legal-footer-text", "legal-footer-html",
                ]), "\(locale): \(constant.sorted())")
            #expect(
                constant.isDisjoint(with: ["invoice-list-text", "invoice-table-html", "recipient-text", "payment-text"])
            )
        }
    }

    @Test(
        "every shipped message renders the same with the creditor's partials rendered once",
        arguments: ShippedTemplatesTests.messages)
    func sameOutput(message: String) throws {
        let catalog = try ShippedTemplatesTests.catalog()
        let creditors = [
            Fixtures.creditor,
            Creditor(name: "Lumen"),
            // Markup, Mustache tags and the literal's own delimiters in the creditor's
            // fields: escaped in HTML, never read as tags.
            Creditor(
                name: "A&B <Conseil> {{payer.name}}", phone: "<%~relance", address: ["{{#x}}", "1 rue & Co"],
                registration: "\"RCS\" 'Lyon'"),
        ]
        let parts: [TemplatePart] =
            [.emailSubject, .emailText, .emailHTML, .sms]
            + (catalog.parts(of: message).contains(.letter) ? [.letter] : [])
        for creditor in creditors {
            for locale in ShippedTemplatesTests.locales {
                for segment in ShippedTemplatesTests.segments {
                    let payer = Fixtures.payer(locale: locale, segment: segment)
                    let context = try MessageContext.build(
                        payer: payer, creditor: creditor, caseRef: "F-1",
                        data: try ShippedTemplatesTests.sample(message),
                        today: Fixtures.today)
                    let once = try catalog.render(
                        message: message, parts: parts, payer: payer, context: context, creditor: creditor)
                    let each = try catalog.render(message: message, parts: parts, payer: payer, context: context)
                    for part in parts {
                        #expect(once[part] == each[part], "\(message) \(locale) \(segment) \(part) \(creditor.name)")
                    }
                }
            }
        }
    }

    @Test("a partial indented under its tag, and a creditor on several lines, still render the same")
    func indentation() throws {
        let templates = try TemporaryTemplates([
            "probe/en/email-text.mustache": "Hello\n  {{> sig}}\nBye\n",
            "partials/en/sig.mustache": "Regards,\n{{#creditor.name}}\n{{.}}\n{{/creditor.name}}\n",
        ])
        let catalog = try templates.load()
        for creditor in [Creditor(name: "Lumen"), Creditor(name: "Lumen\nConseil")] {
            let payer = Fixtures.payer(locale: "en-GB")
            let context = try MessageContext.build(
                payer: payer, creditor: creditor, caseRef: nil, data: "{}", today: Fixtures.today)
            let once = try catalog.render(
                message: "probe", parts: [.emailText], payer: payer, context: context, creditor: creditor)
            let each = try catalog.render(message: "probe", parts: [.emailText], payer: payer, context: context)
            #expect(once[.emailText] == each[.emailText])
        }
    }
}
