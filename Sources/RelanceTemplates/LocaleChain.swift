/// The locales to try, most specific first, for a payer locale and the default:
/// `fr-BE` with default `en` gives `fr-BE, fr, en`.
public enum LocaleChain {
    public static func chain(for locale: String, defaultLocale: String) -> [String] {
        var out: [String] = []
        for start in [locale, defaultLocale] {
            var parts = start.replacingUnderscores().split(separator: "-").map(String.init)
            while !parts.isEmpty {
                let candidate = parts.joined(separator: "-")
                if !out.contains(candidate) { out.append(candidate) }
                parts.removeLast()
            }
        }
        return out
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
