import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

/// Templates that would exhaust swift-mustache's recursion (a crash) are refused at load
/// with an error naming the files.
@Suite("Template shape: partial cycles and nesting")
struct TemplateShapeTests {
    func refusal(_ files: [String: String]) throws -> [String] {
        let templates = try TemporaryTemplates(files)
        let error = try #require(throws: TemplateLoadError.self) { try templates.load() }
        return error.problems
    }

    @Test("two partials including each other are refused, naming the loop")
    func cycle() throws {
        let problems = try refusal([
            "reminder-1/fr/email-text.mustache": "Bonjour {{> loop-a}}",
            "partials/fr/loop-a.mustache": "a {{> loop-b}}",
            "partials/fr/loop-b.mustache": "b {{> loop-a }}",
        ])
        #expect(
            problems.contains(
                "reminder-1/fr/email-text.mustache: partials include each other: reminder-1/fr/email-text.mustache → partials/fr/loop-a.mustache → partials/fr/loop-b.mustache → partials/fr/loop-a.mustache"
            ), "\(problems)")
    }

    @Test("a NUL, an escape or a bidi override in a template, a hostile segment name: refused, named")
    func hiddenCharacters() throws {
        let problems = try refusal([
            "reminder-1/fr/email-text.mustache": "Bonjour\n\u{0}wrld",
            "reminder-1/fr/sms.mustache": "ok \u{1B}[2J",
            "partials/fr/x.mustache": "\u{202E}abc",
            "reminder-1/fr/email-html.a\nb.mustache": "x",
            "reminder-1/x-klingon/email-text.mustache": "x",
        ])
        #expect(
            problems.contains("reminder-1/fr/email-text.mustache: line 2 holds U+0000, a control or bidi character"))
        #expect(problems.contains("reminder-1/fr/sms.mustache: line 1 holds U+001B, a control or bidi character"))
        #expect(problems.contains("partials/fr/x.mustache: line 1 holds U+202E, a control or bidi character"))
        #expect(
            problems.contains { $0.contains("the segment is not a short word") && !$0.contains("\n") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("reminder-1/x-klingon: not a locale") }, "\(problems)")
    }

    @Test("a partial including itself is refused")
    func selfInclusion() throws {
        let problems = try refusal([
            "reminder-1/fr/email-text.mustache": "x", "partials/fr/me.mustache": "{{#x}}{{> me}}{{/x}}",
        ])
        #expect(problems.contains { $0.hasPrefix("partials/fr/me.mustache: partials include each other") })
    }

    @Test("a chain of partials deeper than the limit is refused; one within it loads")
    func depth() throws {
        func chain(_ length: Int) -> [String: String] {
            var files = ["reminder-1/fr/email-text.mustache": "{{> p0}}"]
            for i in 0..<length { files["partials/fr/p\(i).mustache"] = i + 1 < length ? "{{> p\(i + 1)}}" : "end" }
            return files
        }
        _ = try TemporaryTemplates(chain(TemplateShape.maximumPartialDepth - 1)).load()
        let problems = try refusal(chain(TemplateShape.maximumPartialDepth + 3))
        #expect(
            problems.contains { $0.contains("partials nested more than \(TemplateShape.maximumPartialDepth) deep") })
    }

    @Test("10,000 nested sections are refused with the line, even behind changed delimiters")
    func nesting() throws {
        let deep = String(repeating: "{{#a}}\n", count: 10_000) + String(repeating: "{{/a}}", count: 10_000)
        let problems = try refusal(["reminder-1/fr/email-text.mustache": deep])
        #expect(problems == ["reminder-1/fr/email-text.mustache: sections nested more than 50 deep (line 51)"])
        let hidden = "{{=<% %>=}}" + String(repeating: "<%#a%>", count: 60) + String(repeating: "<%/a%>", count: 60)
        let again = try refusal(["reminder-1/fr/email-text.mustache": hidden])
        #expect(again.first?.contains("sections nested more than 50 deep") == true)
        // 50 levels are fine.
        let fifty = String(repeating: "{{#a}}", count: 50) + String(repeating: "{{/a}}", count: 50)
        _ = try TemporaryTemplates(["reminder-1/fr/email-text.mustache": fifty]).load()
    }

    @Test("a template file over 256 KiB is refused")
    func size() throws {
        let problems = try refusal(["reminder-1/fr/email-text.mustache": String(repeating: "x", count: 300_000)])
        #expect(problems.first?.contains("more than the 262144 a template may have") == true)
    }

}
