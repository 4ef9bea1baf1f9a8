/// The tags of a template's text, read as Mustache reads them with its default
/// delimiters: from `{{` to the first `}}` (`}}}` for a triple mustache), so that a tag
/// quoted inside a comment `{{! … }}` is not a tag. For the checks made on templates at
/// load (missing partials, partials that show only the creditor).
enum MustacheTags {
    struct Tag {
        /// What stands between the delimiters, sigil included (`#creditor.name`, `> sig`).
        var content: Substring
        /// `{{{…}}}`.
        var triple: Bool
    }

    /// The tags in order; `complete` is false when a tag is never closed (nothing after
    /// it is read).
    static func scan(_ text: String) -> (tags: [Tag], complete: Bool) {
        var tags: [Tag] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let triple = rest.first == "{"
            if triple { rest = rest.dropFirst() }
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { return (tags, false) }
            tags.append(Tag(content: rest[..<close.lowerBound], triple: triple))
            rest = rest[close.upperBound...]
        }
        return (tags, true)
    }
}
