import Mustache

/// Partials that show only the creditor (signature, legal footer): their text is the
/// same for every message of a locale, so they are rendered once per creditor and
/// locale and kept as literal text. They were a fifth of the time spent composing an
/// e-mail, which swift-mustache spends mostly looking names up.
///
/// Only a partial whose every tag is a comment, a section on `creditor` or
/// `creditor.…`, a `creditor.…` variable, or `{{.}}` directly inside such a section
/// qualifies; anything else (another partial, a name from the job, a delimiter change,
/// a lambda) keeps it rendered with each message. `creditor` is always the configured
/// creditor (MessageContext puts it at the top of every context).
enum ConstantPartials {
    /// Whether `source` (a partial's text, without pragma) depends on the creditor only.
    static func dependsOnCreditorOnly(_ source: String) -> Bool {
        let (tags, complete) = MustacheTags.scan(source)
        guard complete else { return false }
        // Open sections, innermost last: true for a positive section on the creditor.
        var sections: [Bool] = []
        func isCreditorName(_ name: Substring) -> Bool {
            name == "creditor" || (name.hasPrefix("creditor.") && name.count > "creditor.".count)
        }
        for tag in tags {
            guard let sigil = tag.content.first else { return false }
            let name = Substring(tag.content.dropFirst().trimmingCharacters(in: .whitespaces))
            switch sigil {
            case "!" where !tag.triple:
                continue
            case "#" where !tag.triple:
                guard isCreditorName(name) else { return false }
                sections.append(true)
            case "^" where !tag.triple:
                guard isCreditorName(name) else { return false }
                sections.append(false)
            case "/" where !tag.triple:
                guard isCreditorName(name), sections.popLast() != nil else { return false }
            case "&" where !tag.triple:
                guard isCreditorName(name) || (name == "." && sections.last == true) else { return false }
            default:
                let name = Substring(tag.content.trimmingCharacters(in: .whitespaces))
                guard name.first.map({ $0.isLetter || $0 == "." }) == true else { return false }
                guard isCreditorName(name) || (name == "." && sections.last == true) else { return false }
            }
        }
        return sections.isEmpty
    }

    /// The delimiters a literal partial switches to, so that nothing in its text is read
    /// as a tag.
    static let open = "<%~relance", close = "relance~%>"

    /// A template that renders `text` as it is; nil when that cannot be written safely:
    /// the text holds the delimiters, or its first line is blank (the delimiter change
    /// would then stand alone on its line, and Mustache drops such a line).
    static func literal(_ text: String) -> MustacheTemplate? {
        guard !text.contains(open) else { return nil }
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        guard firstLine.contains(where: { !$0.isWhitespace }) else { return nil }
        return try? MustacheTemplate(string: "{{=\(open) \(close)=}}" + text)
    }
}
