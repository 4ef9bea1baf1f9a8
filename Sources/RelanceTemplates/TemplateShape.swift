import RelanceCore

/// Limits on a template's shape, checked before it is parsed: swift-mustache parses and
/// renders nested sections and partials by recursion, so 10,000 nested sections or two
/// partials including each other would exhaust the stack (a crash, not an error).
enum TemplateShape {
    /// Sections (`#`, `^`, `$`, `<`) open inside one another, at most.
    static let maximumNesting = 50
    /// Partials including partials, at most.
    static let maximumPartialDepth = 16
    /// One template file, at most.
    static let maximumBytes = 256 * 1024

    /// Why `text` cannot be a template, or nil. Reads tags as Mustache does, set-delimiter
    /// tags (`{{=<% %>=}}`) included.
    static func problem(_ text: String) -> String? {
        guard text.utf8.count <= maximumBytes else {
            return "\(text.utf8.count) bytes, more than the \(maximumBytes) a template may have"
        }
        // A NUL, an escape sequence or a bidi override would reach the payer as it is.
        var lineNumber = 1
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                lineNumber += 1
            } else if scalar != "\t" && scalar != "\r" && TextRules.isHidden(scalar) {
                return "line \(lineNumber) holds \(TextRules.codePoint(scalar)), a control or bidi character"
            }
        }
        var open = Substring("{{")
        var close = Substring("}}")
        var rest = Substring(text)
        var depth = 0
        var deepest = 0
        var line = 1
        while let start = rest.range(of: open) {
            line += rest[..<start.lowerBound].utf8.count(where: { $0 == 10 })
            rest = rest[start.upperBound...]
            let triple = open == "{{" && rest.first == "{"
            if triple { rest = rest.dropFirst() }
            guard let end = rest.range(of: triple ? "}" + close : close) else { return nil }  // the parser says it
            let content = rest[..<end.lowerBound]
            line += content.utf8.count(where: { $0 == 10 })
            rest = rest[end.upperBound...]
            guard !triple, let sigil = content.first else { continue }
            switch sigil {
            case "#", "^", "$", "<":
                depth += 1
                deepest = max(deepest, depth)
                if depth > maximumNesting {
                    return "sections nested more than \(maximumNesting) deep (line \(line))"
                }
            case "/":
                depth = max(0, depth - 1)
            case "=":
                // {{=<% %>=}}: new delimiters, separated by spaces.
                let inner = content.dropFirst().dropLast(content.last == "=" ? 1 : 0)
                let parts = inner.split(separator: " ", omittingEmptySubsequences: true)
                if parts.count == 2 {
                    open = parts[0]
                    close = parts[1]
                }
            default:
                continue
            }
        }
        return nil
    }
}

extension TemplateCatalog {
    /// Partials that include themselves through other partials (`loop-a` → `loop-b` →
    /// `loop-a`), or chains of partials deeper than `TemplateShape.maximumPartialDepth`,
    /// for some locale: each is refused at load, naming the files.
    func partialCycles() -> [String] {
        var problems: Set<String> = []
        func references(_ source: String) -> [String] {
            MustacheTags.scan(source).tags.filter { !$0.triple && $0.content.first == ">" }.map {
                $0.content.dropFirst().trimmingCharacters(in: .whitespaces)
            }
        }
        let roots =
            entries.map { ($0.value.template.description, String($0.key.split(separator: "/")[1]), $0.value.path) }
            + partials.flatMap { locale, byName in byName.values.map { ($0.source, locale, $0.path) } }
        for (source, locale, path) in roots {
            let chain = LocaleChain.chain(for: locale, defaultLocale: defaultLocale)
            func resolve(_ name: String) -> Entry? {
                for candidate in chain { if let entry = partials[candidate]?[name] { return entry } }
                return nil
            }
            // Depth-first along the partials this file includes, for its own locale chain.
            func walk(_ names: [String], trail: [String]) {
                for name in names {
                    guard let entry = resolve(name) else { continue }  // missingPartials says it
                    if trail.contains(entry.path) {
                        problems.insert(
                            "\(path): partials include each other: \((trail + [entry.path]).joined(separator: " → "))")
                        continue
                    }
                    if trail.count >= TemplateShape.maximumPartialDepth {
                        problems.insert(
                            "\(path): partials nested more than \(TemplateShape.maximumPartialDepth) deep (\(trail.joined(separator: " → ")))"
                        )
                        continue
                    }
                    walk(references(entry.source), trail: trail + [entry.path])
                }
            }
            walk(references(source), trail: [path])
        }
        return problems.sorted()
    }
}
