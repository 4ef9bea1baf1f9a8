import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

/// The catalog shipped in Templates/, rendered with its own samples.
@Suite("Shipped templates")
struct ShippedTemplatesTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Templates").path

    static let messages = ["formal-notice", "pre-due", "reminder-1", "reminder-2", "statement", "thanks"]
    static let locales = ["fr-FR", "en-GB", "de-DE", "pt-PT"]
    static let segments = ["standard", "strategic", "consumer"]

    static func catalog() throws -> TemplateCatalog {
        try TemplateCatalog.load(directory: directory, defaultLocale: "en")
    }

    static func sample(_ message: String) throws -> String {
        let path = directory + "/samples/\(message).json"
        let data = try #require(FileManager.default.contents(atPath: path), "missing \(path)")
        return String(decoding: data, as: UTF8.self)
    }

    static func render(
        _ catalog: TemplateCatalog, message: String, locale: String, segment: String,
        name: String = "Dupont & Fils <SARL>"
    ) throws -> RenderedMessage {
        // The shipped "consumer" cases are consumers by kind.
        var payer = Fixtures.payer(
            locale: locale, segment: segment, kind: segment == "consumer" ? .consumer : .business)
        payer.name = name
        let context = try MessageContext.build(
            payer: payer, creditor: Fixtures.creditor, caseRef: "F-2026-0142", data: try sample(message),
            today: Fixtures.today)
        return try catalog.render(
            message: message, parts: [.emailSubject, .emailText, .emailHTML], payer: payer, context: context)
    }

    @Test("loads without error, with the documented messages and no missing partial")
    func loads() throws {
        let catalog = try Self.catalog()
        #expect(catalog.messages == Self.messages)
        #expect(catalog.missingPartials() == [])
        #expect(catalog.partialCycles() == [])
        for message in Self.messages {
            let letters: Set<String> = ["reminder-1", "reminder-2", "formal-notice", "statement"]
            let expected: Set<TemplatePart> =
                letters.contains(message)
                ? [.emailSubject, .emailText, .emailHTML, .sms, .letter]
                : [.emailSubject, .emailText, .emailHTML, .sms]
            #expect(catalog.parts(of: message) == expected, "\(message)")
        }
    }

    /// French typography: a no-break space (U+00A0) before `:` `;` `!` `?`, so that a line
    /// never starts with them. SMS keep a plain space: GSM-7 has no no-break space, and one
    /// would make every message UCS-2 (70 characters a segment instead of 160).
    @Test("French e-mails and letters keep a no-break space before : ; ! ?")
    func frenchTypography() throws {
        let files = try #require(FileManager.default.enumerator(atPath: Self.directory)).compactMap { $0 as? String }
        var checked = 0
        for file in files.sorted()
        where file.contains("/fr/") && file.hasSuffix(".mustache") && !file.hasSuffix("sms.mustache") {
            let text = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
            checked += 1
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let characters = Array(line)
                for index in characters.indices.dropFirst() where ":;!?".contains(characters[index]) {
                    let after = index + 1 < characters.count ? characters[index + 1] : " "
                    // Punctuation as French prose uses it: followed by a space, a tag or the line's end.
                    guard after == " " || after == "<" || after == "{" || after == "\u{00A0}" else { continue }
                    #expect(
                        characters[index - 1] != " ", "\(file):\(number + 1): plain space before '\(characters[index])'"
                    )
                }
            }
        }
        #expect(checked > 20)
    }

    @Test("every message renders in every locale and segment", arguments: messages, locales)
    func rendersEverywhere(message: String, locale: String) throws {
        let catalog = try Self.catalog()
        for segment in Self.segments {
            let rendered = try Self.render(catalog, message: message, locale: locale, segment: segment)
            let subject = try #require(rendered[.emailSubject])
            let text = try #require(rendered[.emailText])
            let html = try #require(rendered[.emailHTML])
            #expect(!subject.isEmpty && !text.isEmpty && !html.isEmpty, "\(message) \(locale) \(segment)")
            #expect(!subject.contains("\n") && subject == subject.trimmingCharacters(in: .whitespaces))
            // Fallback: pt-PT has no templates and gets the default locale.
            #expect(rendered.locale == (locale == "pt-PT" ? "en" : String(locale.prefix(2))))
            // The payer's name is shown raw in text and escaped in HTML (partials included).
            #expect(
                !text.contains("&amp;") && !text.contains("&lt;"),
                "\(message) \(locale) \(segment): text part is HTML-escaped")
            #expect(!html.contains("<SARL>"), "\(message) \(locale) \(segment): HTML part is not escaped")
            #expect(html.contains("<!DOCTYPE html>"))
            for part in [subject, text, html] {
                #expect(!part.contains("{{") && !part.contains("}}"))
            }
        }
    }

    @Test("the recipient partial shows the payer name unescaped in text and escaped in HTML")
    func recipientPartial() throws {
        let catalog = try Self.catalog()
        for locale in ["fr-FR", "en-GB"] {
            let rendered = try Self.render(catalog, message: "reminder-1", locale: locale, segment: "standard")
            #expect(rendered[.emailText]?.contains("Dupont & Fils <SARL>") == true)
            #expect(rendered[.emailHTML]?.contains("Dupont &amp; Fils &lt;SARL&gt;") == true)
        }
    }

    static let indemnityWording = [
        "441-10", "441-5", "indemnité forfaitaire", "fixed indemnity", "40 €", "40\u{00A0}€", "€40",
    ]

    @Test(
        "a formal notice to a consumer never mentions the business late-payment indemnity",
        arguments: ["fr-FR", "en-GB"])
    func formalNoticeConsumer(locale: String) throws {
        let rendered = try Self.render(
            try Self.catalog(), message: "formal-notice", locale: locale, segment: "consumer")
        for part in [TemplatePart.emailSubject, .emailText, .emailHTML] {
            let text = try #require(rendered[part])
            for wording in Self.indemnityWording {
                #expect(!text.contains(wording), "\(part) for a consumer contains \(wording)")
            }
        }
        // Consumers get the legal-interest sentence instead.
        #expect(rendered[.emailText]?.contains("1344-1") == true)
    }

    @Test("a formal notice to a business cites L441-10", arguments: ["fr-FR", "en-GB"], ["standard", "strategic"])
    func formalNoticeBusiness(locale: String, segment: String) throws {
        let rendered = try Self.render(try Self.catalog(), message: "formal-notice", locale: locale, segment: segment)
        #expect(rendered[.emailText]?.contains("441-10") == true)
        #expect(rendered[.emailHTML]?.contains("441-10") == true)
        #expect(rendered.variant == (segment == "strategic" ? "strategic" : nil))
    }
}
