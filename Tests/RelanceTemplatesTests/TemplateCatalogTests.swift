import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("TemplateCatalog")
struct TemplateCatalogTests {
    // MARK: resolution order

    static let allCandidates = [
        "reminder-1/fr-BE/email-text.strategic.mustache",
        "reminder-1/fr-BE/email-text.mustache",
        "reminder-1/fr/email-text.strategic.mustache",
        "reminder-1/fr/email-text.mustache",
        "reminder-1/en/email-text.strategic.mustache",
        "reminder-1/en/email-text.mustache",
    ]

    @Test("fr-BE + strategic: each candidate wins once the more specific ones are missing", arguments: 0..<6)
    func resolutionOrder(firstPresent: Int) throws {
        var files: [String: String] = [:]
        for path in Self.allCandidates[firstPresent...] { files[path] = path }
        let templates = try TemporaryTemplates(files)
        let catalog = try templates.load(defaultLocale: "en")
        let resolved = try catalog.resolve(
            message: "reminder-1", part: .emailText, locale: "fr-BE", segment: "strategic")
        let expected = Self.allCandidates[firstPresent]
        #expect(resolved.path == expected)
        #expect(resolved.locale == expected.split(separator: "/")[1].description)
        #expect(resolved.variant == (expected.contains(".strategic.") ? "strategic" : nil))

        // And rendering uses that very file.
        let rendered = try catalog.render(
            message: "reminder-1", parts: [.emailText], payer: Fixtures.payer(locale: "fr-BE", segment: "strategic"),
            context: [:])
        #expect(rendered[.emailText] == expected)
        #expect(rendered.files == [expected])
        #expect(rendered.variant == resolved.variant)
        #expect(rendered.locale == resolved.locale)
    }

    @Test("a segment without a variant file uses the plain file; no segment ignores variants")
    func segments() throws {
        let templates = try TemporaryTemplates([
            "reminder-1/fr/email-text.mustache": "plain", "reminder-1/fr/email-text.strategic.mustache": "strategic",
        ])
        let catalog = try templates.load(defaultLocale: "fr")
        #expect(
            try catalog.resolve(message: "reminder-1", part: .emailText, locale: "fr-FR", segment: "consumer").path
                == "reminder-1/fr/email-text.mustache")
        #expect(
            try catalog.resolve(message: "reminder-1", part: .emailText, locale: "fr-FR", segment: nil).path
                == "reminder-1/fr/email-text.mustache")
        #expect(
            try catalog.resolve(message: "reminder-1", part: .emailText, locale: "fr-FR", segment: "").path
                == "reminder-1/fr/email-text.mustache")
        #expect(catalog.variants(of: "reminder-1") == ["strategic"])
        #expect(catalog.parts(of: "reminder-1") == [.emailText])
    }

    @Test("not found: the error lists every path tried, in order")
    func notFound() throws {
        let templates = try TemporaryTemplates(["reminder-1/fr/email-text.mustache": "x"])
        let catalog = try templates.load(defaultLocale: "en")
        let error = try #require(throws: TemplateError.self) {
            try catalog.resolve(message: "reminder-1", part: .emailHTML, locale: "fr-BE", segment: "strategic")
        }
        #expect(error.kind == .notFound)
        #expect(
            error.message
                == "no template for message 'reminder-1' part 'email-html'; looked for "
                + Self.allCandidates.map { $0.replacingOccurrences(of: "email-text", with: "email-html") }.joined(
                    separator: ", "))
    }

    @Test("an unknown message names the known ones")
    func unknownMessage() throws {
        let templates = try TemporaryTemplates([
            "reminder-1/fr/email-text.mustache": "x", "thanks/fr/email-text.mustache": "y",
        ])
        let catalog = try templates.load(defaultLocale: "fr")
        let error = try #require(throws: TemplateError.self) {
            try catalog.render(message: "reminder-9", parts: [.emailText], payer: Fixtures.payer(), context: [:])
        }
        #expect(error.kind == .notFound)
        #expect(error.message == "unknown template 'reminder-9' (known: reminder-1, thanks)")
    }

    // MARK: loading errors

    @Test(
        "a syntax error is reported with file and line, in text and HTML parts",
        arguments: ["email-text", "email-html"])
    func syntaxError(part: String) throws {
        let templates = try TemporaryTemplates([
            "reminder-1/fr/\(part).mustache": "Bonjour,\n\nligne trois\n{{#payer}}\n{{/invoices}}\nfin\n",
            "reminder-1/fr/email-subject.mustache": "ok",
        ])
        let error = try #require(throws: TemplateLoadError.self) { try templates.load() }
        #expect(error.problems.count == 1)
        let problem = try #require(error.problems.first)
        #expect(problem.hasPrefix("reminder-1/fr/\(part).mustache:5:"), "\(problem)")
        #expect(error.description.contains(templates.path))
    }

    @Test("every broken file is reported, not only the first")
    func everyProblem() throws {
        let templates = try TemporaryTemplates([
            "reminder-1/fr/email-text.mustache": "{{#a}}",
            "reminder-1/fr/email-body.mustache": "unknown part",
            "partials/fr/broken.mustache": "{{/nope}}",
            "thanks/fr/email-text.mustache": "fine",
        ])
        let error = try #require(throws: TemplateLoadError.self) { try templates.load() }
        #expect(error.problems.count == 3)
        #expect(error.problems.contains { $0.hasPrefix("reminder-1/fr/email-text.mustache:") })
        #expect(error.problems.contains { $0.hasPrefix("partials/fr/broken.mustache:") })
        #expect(
            error.problems.contains(
                "reminder-1/fr/email-body.mustache: unknown part 'email-body' (known: email-subject, email-text, email-html, sms, letter)"
            ))
    }

    @Test("a missing directory, or one without templates, is an error")
    func emptyOrMissing() throws {
        let missing = "/nonexistent/relance-\(UUID().uuidString)"
        let error = try #require(throws: TemplateLoadError.self) {
            try TemplateCatalog.load(directory: missing, defaultLocale: "en")
        }
        #expect(error.problems == ["templates directory \(missing) does not exist"])
        let empty = try TemporaryTemplates(["samples/reminder-1.json": "{}"])
        let emptyError = try #require(throws: TemplateLoadError.self) { try empty.load() }
        #expect(emptyError.problems == ["no template found under \(empty.path)"])
    }

    @Test("samples, scenarios and hidden folders are not messages; partials are not messages")
    func reservedFolders() throws {
        let templates = try TemporaryTemplates([
            "reminder-1/fr/email-text.mustache": "x",
            "samples/reminder-1.json": "{}",
            "scenarios/a/b.mustache": "{{#broken}}",
            ".git/fr/email-text.mustache": "{{#broken}}",
            "partials/fr/signature-text.mustache": "sig",
        ])
        let catalog = try templates.load()
        #expect(catalog.messages == ["reminder-1"])
        #expect(catalog.locales == ["fr"])
        #expect(catalog.hasMessage("reminder-1"))
        #expect(!catalog.hasMessage("partials"))
    }

    // MARK: escaping

    static let escapingFiles = [
        "probe/fr/email-subject.mustache": "Facture {{name}}\n  suite  ",
        "probe/fr/email-text.mustache": "T {{name}} [{{> who}}] [{{> outer}}]",
        "probe/fr/email-html.mustache": "H {{name}} [{{> who}}] [{{> outer}}]",
        "partials/fr/who.mustache": "{{name}}",
        "partials/fr/outer.mustache": "o:{{> who}}",
    ]

    @Test("text parts are not HTML-escaped, HTML parts are, partials included")
    func escaping() throws {
        let templates = try TemporaryTemplates(Self.escapingFiles)
        let catalog = try templates.load(defaultLocale: "fr")
        let context: [String: Any] = ["name": "Dupont & Fils <SARL> \"l'Ami\""]
        let rendered = try catalog.render(
            message: "probe", parts: [.emailSubject, .emailText, .emailHTML], payer: Fixtures.payer(), context: context)
        let raw = "Dupont & Fils <SARL> \"l'Ami\""
        #expect(rendered[.emailText] == "T \(raw) [\(raw)] [o:\(raw)]")
        let escaped = "Dupont &amp; Fils &lt;SARL&gt; &quot;l&#39;Ami&quot;"
        // The partials are escaped the same way as the template including them.
        #expect(rendered[.emailHTML] == "H \(escaped) [\(escaped)] [o:\(escaped)]")
        // The subject: unescaped and on one line.
        #expect(rendered[.emailSubject] == "Facture \(raw) suite")
        #expect(
            rendered.files == [
                "probe/fr/email-subject.mustache", "probe/fr/email-text.mustache", "probe/fr/email-html.mustache",
            ])
    }

    @Test("rendering the HTML part first does not make later text partials escape (and vice versa)")
    func escapingOrderIndependent() throws {
        let templates = try TemporaryTemplates(Self.escapingFiles)
        let catalog = try templates.load(defaultLocale: "fr")
        let context: [String: Any] = ["name": "A & B"]
        let first = try catalog.render(
            message: "probe", parts: [.emailHTML, .emailText], payer: Fixtures.payer(), context: context)
        #expect(first[.emailText] == "T A & B [A & B] [o:A & B]")
        #expect(first[.emailHTML] == "H A &amp; B [A &amp; B] [o:A &amp; B]")
    }

    @Test("a template or partial that starts with a section tag on its own line keeps Mustache's standalone rule")
    func standaloneFirstLine() throws {
        let body = "{{#name}}\n<p>{{name}}</p>\n{{/name}}\nend"
        let templates = try TemporaryTemplates([
            "probe/fr/email-text.mustache": body + "|{{> part}}",
            "probe/fr/email-html.mustache": body + "|{{> part}}",
            "partials/fr/part.mustache": body,
        ])
        let catalog = try templates.load(defaultLocale: "fr")
        let rendered = try catalog.render(
            message: "probe", parts: [.emailText, .emailHTML], payer: Fixtures.payer(), context: ["name": "A"])
        #expect(rendered[.emailText] == "<p>A</p>\nend|<p>A</p>\nend")
        #expect(rendered[.emailHTML] == "<p>A</p>\nend|<p>A</p>\nend")
    }

    @Test(
        "markup escaping works on bytes",
        arguments: [
            ("", ""), ("Boulangerie Martin", "Boulangerie Martin"),
            ("Société Générale — 12 €", "Société Générale — 12 €"),
            ("a<b>c", "a&lt;b&gt;c"), ("&&", "&amp;&amp;"), ("\"l'Ami\"", "&quot;l&#39;Ami&quot;"),
            ("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            // A combining mark after '<' makes one Character: still escaped, byte by byte.
            ("<\u{301}é&", "&lt;\u{301}é&amp;"), ("日本<語>", "日本&lt;語&gt;"),
        ])
    func markupEscaping(text: String, expected: String) {
        #expect(MarkupEscaping.escape(text) == expected)
    }

    @Test("partials follow the locale chain: fr-BE over fr over the default")
    func partialFallback() throws {
        let templates = try TemporaryTemplates([
            "probe/fr/email-text.mustache": "{{> a}} {{> b}} {{> c}}",
            "partials/fr-BE/a.mustache": "a:fr-BE",
            "partials/fr/a.mustache": "a:fr",
            "partials/fr/b.mustache": "b:fr",
            "partials/en/b.mustache": "b:en",
            "partials/en/c.mustache": "c:en",
        ])
        let catalog = try templates.load(defaultLocale: "en")
        let be = try catalog.render(
            message: "probe", parts: [.emailText], payer: Fixtures.payer(locale: "fr-BE"), context: [:])
        #expect(be[.emailText] == "a:fr-BE b:fr c:en")
        let fr = try catalog.render(
            message: "probe", parts: [.emailText], payer: Fixtures.payer(locale: "fr-FR"), context: [:])
        #expect(fr[.emailText] == "a:fr b:fr c:en")
        #expect(catalog.missingPartials().isEmpty)
    }

    @Test("a set with a partial that no locale chain can find is refused, each one named")
    func missingPartials() throws {
        let templates = try TemporaryTemplates([
            "probe/fr/email-text.mustache": "x {{> nope}} {{> here}} {{! not yet: {{> footer}} }}",
            "probe/en/email-text.mustache": "{{> here}}",
            "partials/fr/here.mustache": "{{>  also-missing }}",
            "partials/en/here.mustache": "ok",
        ])
        let error = try #require(throws: TemplateLoadError.self) { try templates.load(defaultLocale: "en") }
        #expect(
            error.problems == [
                "partials/fr/here.mustache: partial 'also-missing' not found for locale fr (looked in partials/fr, partials/en)",
                "probe/fr/email-text.mustache: partial 'nope' not found for locale fr (looked in partials/fr, partials/en)",
            ])
    }

    @Test("the rendered trace detail names the files, locale, variant and a hash of the parts")
    func traceDetail() throws {
        let templates = try TemporaryTemplates([
            "probe/fr/email-subject.strategic.mustache": "S", "probe/fr/email-text.mustache": "T",
        ])
        let catalog = try templates.load(defaultLocale: "fr")
        let rendered = try catalog.render(
            message: "probe", parts: [.emailSubject, .emailText], payer: Fixtures.payer(segment: "strategic"),
            context: [:])
        #expect(
            rendered.traceDetail
                == .object([
                    "templates": ["probe/fr/email-subject.strategic.mustache", "probe/fr/email-text.mustache"],
                    "locale": "fr", "variant": "strategic",
                    "sha256": .string(SHA256.hex("email-subject\u{0}S\u{0}email-text\u{0}T\u{0}")),
                ]))
    }

    @Test("required-data.json: read when present, refused when malformed or naming an unknown message")
    func requiredData() throws {
        let plain = try TemporaryTemplates(["probe/fr/email-text.mustache": "T"])
        #expect(try plain.load().requiredData.isEmpty)
        let listed = try TemporaryTemplates([
            "probe/fr/email-text.mustache": "T", "required-data.json": #"{"probe": ["invoices", "total_due"]}"#,
        ])
        #expect(try listed.load().requiredData == ["probe": ["invoices", "total_due"]])
        for (text, problem) in [
            (#"{"probe": "invoices"}"#, "required-data.json: 'probe': expected a list of field names"),
            (#"{"nope": ["invoices"]}"#, "required-data.json: 'nope' is not a message of this directory"),
            (#"["probe"]"#, "required-data.json: expected an object of message → field names"),
        ] {
            let broken = try TemporaryTemplates(["probe/fr/email-text.mustache": "T", "required-data.json": text])
            let error = try #require(throws: TemplateLoadError.self) { try broken.load() }
            #expect(error.problems == [problem])
        }
    }
}
