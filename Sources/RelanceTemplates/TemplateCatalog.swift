import Foundation
import Mustache
import RelanceCore

/// Every template and partial under a templates directory, parsed once.
///
/// Layout (docs/TEMPLATES.md): `<message>/<locale>/<part>[.<segment>].mustache` and
/// `partials/<locale>/<name>.mustache`. A catalog is immutable: reloading builds a
/// new one and swaps it only if it loaded without error.
public struct TemplateCatalog: Sendable {
    struct Entry: Sendable {
        var template: MustacheTemplate
        /// Path relative to the templates directory, for traces and errors.
        var path: String
        /// The file's text (kept for partials: `ConstantPartials` reads their tags).
        var source = ""
    }

    public let directory: String
    public let defaultLocale: String
    /// `message/locale/part[.segment]` → template.
    let entries: [String: Entry]
    /// locale → partial name → template, parsed twice: swift-mustache renders a
    /// partial with a fresh (HTML) content type, so text parts need their own copy
    /// carrying the TEXT pragma.
    let partials: [String: [String: Entry]]
    let textPartials: [String: [String: Entry]]
    public let messages: [String]
    public let locales: [String]
    /// message → data fields a job for it cannot do without, from `required-data.json`
    /// in the templates directory (none when the file is absent).
    public internal(set) var requiredData: [String: [String]] = [:]
    /// locale → the phrases the code writes (`wording/<locale>.json`, else built in).
    public internal(set) var wordings: [String: Wording] = [:]
    /// Languages without wording in a directory that has no `wording/` folder.
    public internal(set) var wordingWarnings: [String] = []
    /// What `resolve` and `library` already worked out: every message sent and every
    /// job enqueued asks again. A reload builds a new catalog, with an empty memo.
    let memo = Memo()

    /// The segments some template has a variant for (`part.<segment>.mustache`).
    public var variantSegments: Set<String> {
        Set(
            entries.keys.compactMap { key -> String? in
                guard let last = key.split(separator: "/").last, let dot = last.firstIndex(of: ".") else { return nil }
                return String(last[last.index(after: dot)...])
            })
    }

    /// Folders beside the messages that are not messages.
    static let reservedFolders: Set<String> = ["partials", "samples", "scenarios", "wording", "spelling"]

    /// Loads and parses every template; reports every broken file, not just the first.
    public static func load(directory: String, defaultLocale: String) throws -> TemplateCatalog {
        MarkupEscaping.registered
        let fm = FileManager.default
        var problems: [String] = []
        var entries: [String: Entry] = [:]
        var partials: [String: [String: Entry]] = [:]
        var textPartials: [String: [String: Entry]] = [:]
        var messages: Set<String> = []
        var locales: Set<String> = []
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateLoadError(directory: directory, problems: ["templates directory \(directory) does not exist"])
        }
        let topLevel = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for top in topLevel where !top.hasPrefix(".") {
            let topPath = directory + "/" + top
            guard fm.fileExists(atPath: topPath, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            if reservedFolders.contains(top) && top != "partials" { continue }
            for folder in ((try? fm.contentsOfDirectory(atPath: topPath)) ?? []).sorted() where !folder.hasPrefix(".") {
                let localePath = topPath + "/" + folder
                // `de_CH`, `DE-ch`: the locale `de-CH`, as payers' locales are read.
                let locale = LocaleChain.canonical(folder)
                guard !locale.isEmpty else {
                    problems.append("\(top)/\(folder): not a locale (a BCP 47 tag such as fr or de-CH)")
                    continue
                }
                guard fm.fileExists(atPath: localePath, isDirectory: &isDirectory), isDirectory.boolValue else {
                    problems.append("\(top)/\(folder): expected a locale folder, found a file")
                    continue
                }
                for file in ((try? fm.contentsOfDirectory(atPath: localePath)) ?? []).sorted()
                where file.hasSuffix(".mustache") {
                    let relative = "\(top)/\(folder)/\(file)"
                    let name = String(file.dropLast(".mustache".count))
                    guard
                        let text = fm.contents(atPath: localePath + "/" + file).flatMap({
                            String(data: $0, encoding: .utf8)
                        })
                    else {
                        problems.append("\(relative): unreadable or not UTF-8")
                        continue
                    }
                    if let problem = TemplateShape.problem(text) {
                        problems.append("\(relative): \(problem)")
                        continue
                    }
                    if top == "partials" {
                        do {
                            partials[locale, default: [:]][name] = Entry(
                                template: try MustacheTemplate(string: Self.markupPragma + text), path: relative,
                                source: text)
                            textPartials[locale, default: [:]][name] = Entry(
                                template: try MustacheTemplate(string: Self.textPragma + text),
                                path: relative, source: text)
                        } catch {
                            problems.append(describe(error, in: relative))
                        }
                        continue
                    }
                    let pieces = name.split(separator: ".", maxSplits: 1).map(String.init)
                    // A segment is what a payer's `segment` can be: a short word.
                    if pieces.count == 2,
                        pieces[1].count > 50
                            || !pieces[1].allSatisfy({
                                $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")
                            })
                    {
                        problems.append(
                            "\(relative.debugDescription.dropFirst().dropLast()): the segment is not a short word of letters, digits, '-' or '_'"
                        )
                        continue
                    }
                    guard let part = TemplatePart(rawValue: pieces[0]) else {
                        problems.append(
                            "\(relative): unknown part '\(pieces[0])' (known: \(TemplatePart.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                        continue
                    }
                    // Text parts render without HTML escaping, HTML and letter parts with
                    // MarkupEscaping: the pragma sets it per template (and per partial: a
                    // partial starts over with swift-mustache's default).
                    let source = (part.escapesHTML ? Self.markupPragma : Self.textPragma) + text
                    do {
                        entries["\(top)/\(locale)/\(name)"] = Entry(
                            template: try MustacheTemplate(string: source), path: relative)
                        messages.insert(top)
                        locales.insert(locale)
                    } catch {
                        problems.append(describe(error, in: relative))
                    }
                }
            }
        }
        if !problems.isEmpty { throw TemplateLoadError(directory: directory, problems: problems) }
        if messages.isEmpty {
            throw TemplateLoadError(directory: directory, problems: ["no template found under \(directory)"])
        }
        var catalog = TemplateCatalog(
            directory: directory, defaultLocale: defaultLocale, entries: entries, partials: partials,
            textPartials: textPartials,
            messages: messages.sorted(), locales: locales.sorted())
        catalog.requiredData = try loadRequiredData(directory: directory, messages: messages)
        (catalog.wordings, catalog.wordingWarnings) = try loadWordings(
            directory: directory, locales: locales.union(partials.keys))
        // Mustache renders a partial it cannot find as nothing: an empty subject would
        // go out. A set with one is refused wherever it is loaded (serve, enqueue,
        // render, reload), as `templates check` refuses it.
        let missing = catalog.missingPartials()
        if !missing.isEmpty { throw TemplateLoadError(directory: directory, problems: missing) }
        let cycles = catalog.partialCycles()
        if !cycles.isEmpty { throw TemplateLoadError(directory: directory, problems: cycles) }
        return catalog
    }

    /// The file that lists, per message, the data fields a job cannot do without.
    public static let requiredDataFile = "required-data.json"

    /// Reads `required-data.json` (`{"reminder-1": ["invoices", "total_due"], …}`) when
    /// present; a malformed file, or one naming a message the directory lacks, is refused.
    static func loadRequiredData(directory: String, messages: Set<String>) throws -> [String: [String]] {
        let path = directory + "/" + requiredDataFile
        guard let bytes = FileManager.default.contents(atPath: path) else { return [:] }
        func refuse(_ why: String) -> TemplateLoadError {
            TemplateLoadError(directory: directory, problems: ["\(requiredDataFile): \(why)"])
        }
        let value: JSONValue
        do { value = try JSONValue.parse(String(decoding: bytes, as: UTF8.self)) } catch { throw refuse("\(error)") }
        guard case .object(let byMessage) = value else { throw refuse("expected an object of message → field names") }
        var required: [String: [String]] = [:]
        for (message, fields) in byMessage {
            guard messages.contains(message) else { throw refuse("'\(message)' is not a message of this directory") }
            guard case .array(let names) = fields, case let strings = names.compactMap(\.stringValue),
                strings.count == names.count
            else { throw refuse("'\(message)': expected a list of field names") }
            required[message] = strings
        }
        return required
    }

    /// The pragma that sets a template's escaping, on a line of its own: on the file's
    /// first line it would keep a section tag there from being a standalone line (whose
    /// line break Mustache drops), and a template starting with `{{#…}}` would start with
    /// an empty line. Errors subtract that line (`describe`).
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}\n"
    static let markupPragma = "{{% CONTENT_TYPE: \(MarkupEscaping.name)}}\n"

    static func describe(_ error: any Error, in path: String) -> String {
        if let parse = error as? MustacheTemplate.ParserError {
            return
                "\(path):\(max(1, parse.context.lineNumber - 1)):\(parse.context.columnNumber): \(parse.error) near \"\(parse.context.line.trimmingCharacters(in: .whitespaces))\""
        }
        return "\(path): \(error)"
    }

    public func hasMessage(_ message: String) -> Bool { messages.contains(message) }

    /// Which parts this message has in any locale.
    public func parts(of message: String) -> Set<TemplatePart> {
        Set(
            entries.keys.filter { $0.hasPrefix(message + "/") }.compactMap { key in
                TemplatePart(rawValue: String(key.split(separator: "/")[2].split(separator: ".")[0]))
            })
    }

    /// Finds the file for a part: for `fr-BE`/`strategic`, tries `fr-BE/part.strategic`,
    /// `fr-BE/part`, `fr/part.strategic`, `fr/part`, then the default locale the same way.
    public func resolve(message: String, part: TemplatePart, locale: String, segment: String?) throws
        -> ResolvedTemplate
    {
        let key = Memo.Key(message: message, part: part, locale: locale, segment: segment)
        if let known = memo.resolution(key) { return try known.get() }
        let result = Result { () throws(TemplateError) in
            try resolveAfresh(message: message, part: part, locale: locale, segment: segment)
        }
        memo.remember(result, for: key)
        return try result.get()
    }

    func resolveAfresh(message: String, part: TemplatePart, locale: String, segment: String?) throws(TemplateError)
        -> ResolvedTemplate
    {
        var tried: [String] = []
        for candidateLocale in LocaleChain.chain(for: locale, defaultLocale: defaultLocale) {
            var names = [String]()
            if let segment, !segment.isEmpty { names.append("\(part.rawValue).\(segment)") }
            names.append(part.rawValue)
            for name in names {
                let key = "\(message)/\(candidateLocale)/\(name)"
                if let entry = entries[key] {
                    return ResolvedTemplate(
                        template: entry.template, path: entry.path, locale: candidateLocale,
                        variant: name.contains(".") ? segment : nil)
                }
                tried.append(key + ".mustache")
            }
        }
        throw TemplateError.notFound(
            "no template for message '\(message)' part '\(part.rawValue)'; looked for \(tried.joined(separator: ", "))")
    }

    /// Partials for a locale, each resolved through the same locale chain. With a
    /// creditor, the partials that show only the creditor come rendered already
    /// (`ConstantPartials`).
    func library(for locale: String, escapingHTML: Bool, creditor: Creditor? = nil) -> MustacheLibrary {
        let key = Memo.LibraryKey(locale: locale, escapingHTML: escapingHTML, creditor: creditor)
        if let known = memo.library(key) { return known }
        let library = libraryAfresh(for: locale, escapingHTML: escapingHTML, creditor: creditor)
        memo.remember(library, for: key)
        return library
    }

    func libraryAfresh(for locale: String, escapingHTML: Bool, creditor: Creditor? = nil) -> MustacheLibrary {
        var resolved: [String: Entry] = [:]
        let source = escapingHTML ? partials : textPartials
        for candidate in LocaleChain.chain(for: locale, defaultLocale: defaultLocale).reversed() {
            for (name, entry) in source[candidate] ?? [:] { resolved[name] = entry }
        }
        var templates = resolved.mapValues(\.template)
        // A creditor value on several lines would be indented differently as literal
        // text under an indented partial tag: such a creditor is rendered each time.
        guard let creditor, !creditor.hasLineBreaks else { return MustacheLibrary(templates: templates) }
        let everything = MustacheLibrary(templates: templates)
        let context: [String: Any] = ["creditor": MessageContext.creditorContext(creditor)]
        for (name, entry) in resolved where ConstantPartials.dependsOnCreditorOnly(entry.source) {
            if let literal = ConstantPartials.literal(entry.template.render(context, library: everything)) {
                templates[name] = literal
            }
        }
        return MustacheLibrary(templates: templates)
    }
}

public struct ResolvedTemplate: Sendable {
    let template: MustacheTemplate
    public let path: String
    public let locale: String
    public let variant: String?
}

/// Every problem found while loading a templates directory.
public struct TemplateLoadError: Error, Sendable, CustomStringConvertible {
    public var directory: String
    public var problems: [String]
    public var description: String {
        "templates in \(directory) failed to load:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
    }
}

extension TemplateCatalog {
    /// Segments that have a variant file for this message.
    public func variants(of message: String) -> [String] {
        Set(
            entries.keys.filter { $0.hasPrefix(message + "/") }.compactMap { key -> String? in
                let name = key.split(separator: "/")[2]
                let pieces = name.split(separator: ".", maxSplits: 1)
                return pieces.count == 2 ? String(pieces[1]) : nil
            }
        ).sorted()
    }

    /// Partials referenced (`{{> name}}`) that no locale chain can find: Mustache
    /// would silently render them empty.
    public func missingPartials() -> [String] {
        var problems: [String] = []
        let all =
            entries.map { ($0.value, $0.key.split(separator: "/")[1]) }
            + partials.flatMap { locale, byName in byName.values.map { ($0, Substring(locale)) } }
        for (entry, locale) in all {
            // Only partial tags; a `{{> x}}` quoted inside a comment `{{! … }}` is text.
            for tag in MustacheTags.scan(entry.template.description).tags where !tag.triple && tag.content.first == ">"
            {
                let name = tag.content.dropFirst().trimmingCharacters(in: .whitespaces)
                let chain = LocaleChain.chain(for: String(locale), defaultLocale: defaultLocale)
                if !chain.contains(where: { partials[$0]?[name] != nil }) {
                    problems.append(
                        "\(entry.path): partial '\(name)' not found for locale \(locale) (looked in partials/\(chain.joined(separator: ", partials/")))"
                    )
                }
            }
        }
        return problems.sorted()
    }
}

extension TemplateCatalog {
    /// Behind a lock: workers and API requests read it at once.
    final class Memo: @unchecked Sendable {
        struct Key: Hashable, Sendable {
            var message: String
            var part: TemplatePart
            var locale: String
            var segment: String?
        }
        /// Payers bring their own locales and segments: the memo starts over past this.
        static let capacity = 4096
        private let lock = NSLock()
        private var resolved: [Key: Result<ResolvedTemplate, TemplateError>] = [:]
        struct LibraryKey: Hashable, Sendable {
            var locale: String
            var escapingHTML: Bool
            var creditor: Creditor?
        }
        private var libraries: [LibraryKey: MustacheLibrary] = [:]

        func resolution(_ key: Key) -> Result<ResolvedTemplate, TemplateError>? {
            lock.withLock { resolved[key] }
        }

        func remember(_ result: Result<ResolvedTemplate, TemplateError>, for key: Key) {
            lock.withLock {
                if resolved.count >= Self.capacity { resolved.removeAll() }
                resolved[key] = result
            }
        }

        func library(_ key: LibraryKey) -> MustacheLibrary? {
            lock.withLock { libraries[key] }
        }

        func remember(_ library: MustacheLibrary, for key: LibraryKey) {
            lock.withLock {
                if libraries.count >= Self.capacity { libraries.removeAll() }
                libraries[key] = library
            }
        }
    }
}
