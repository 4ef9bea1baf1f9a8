import Foundation
import RelanceCore

extension TemplateCatalog {
    /// The folder of the wording files, beside the messages.
    public static let wordingFolder = "wording"

    /// Reads every `wording/<locale>.json`, and makes sure every locale with templates
    /// has the phrases of its language (from a file or built in): without them a German
    /// letter would have English reference labels and table headers. A directory without
    /// a `wording/` folder (one written before it existed) keeps the built-in French and
    /// English, English for any other language, and `wordingWarnings` says so.
    static func loadWordings(directory: String, locales: Set<String>) throws -> (
        wordings: [String: Wording], warnings: [String]
    ) {
        var wordings = Wording.builtIn
        var problems: [String] = []
        var broken: Set<String> = []
        let folder = directory + "/" + wordingFolder
        var isDirectory: ObjCBool = false
        let hasFolder =
            FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        where !file.hasPrefix(".") {
            let relative = "\(wordingFolder)/\(file)"
            guard file.hasSuffix(".json") else {
                problems.append("\(relative): expected <locale>.json")
                continue
            }
            guard let bytes = FileManager.default.contents(atPath: folder + "/" + file),
                let text = String(data: bytes, encoding: .utf8)
            else {
                problems.append("\(relative): unreadable or not UTF-8")
                continue
            }
            let name = LocaleChain.canonical(String(file.dropLast(".json".count)))
            do {
                wordings[name] = try Wording.parse(text)
            } catch {
                problems.append("\(relative): \(error)")
                broken.insert(name)
            }
        }
        var missing: [String] = []
        for locale in locales.sorted() where wording(for: locale, in: wordings) == nil {
            // A file that did not parse is reported once, not again as missing.
            if broken.contains(MessageLanguage.language(of: locale)) { continue }
            missing.append(
                "\(wordingFolder)/\(MessageLanguage.language(of: locale)).json: missing; locale '\(locale)' has templates, and letters and invoice lists need the phrases of its language (docs/TEMPLATES.md, Languages)"
            )
        }
        if hasFolder { problems += missing }
        if !problems.isEmpty { throw TemplateLoadError(directory: directory, problems: problems) }
        return (wordings, missing.map { $0 + "; English is used meanwhile" })
    }

    /// The wording of a text locale: its own file, else its language's (`fr-BE` → `fr`).
    static func wording(for locale: String, in wordings: [String: Wording]) -> Wording? {
        var parts = LocaleChain.canonical(locale).split(separator: "-").map(String.init)
        while !parts.isEmpty {
            if let wording = wordings[parts.joined(separator: "-")] { return wording }
            parts.removeLast()
        }
        return nil
    }

    /// The language a message will be written in for `payer`: the locale of the first of
    /// `parts` found through the locale chain, with formats to match (`MessageLanguage`).
    /// When no part is found, the payer's own locale (rendering reports the missing file).
    public func language(message: String, parts: [TemplatePart], payer: PayerProfile) -> MessageLanguage {
        var textLocale = payer.locale
        for part in parts {
            if let found = try? resolve(message: message, part: part, locale: payer.locale, segment: payer.segment) {
                textLocale = found.locale
                break
            }
        }
        // The payer's chain within the text's language first (`fr-BE` finds wording/fr-BE.json
        // for a text in `fr`), then the text's own locale.
        let language = MessageLanguage.language(of: textLocale)
        let wording =
            LocaleChain.chain(for: payer.locale, defaultLocale: defaultLocale)
            .filter { MessageLanguage.language(of: $0) == language }
            .lazy.compactMap { self.wordings[$0] }.first
            ?? Self.wording(for: textLocale, in: wordings) ?? .english
        return MessageLanguage(
            textLocale: textLocale, payerLocale: payer.locale, defaultLocale: defaultLocale, wording: wording)
    }
}
