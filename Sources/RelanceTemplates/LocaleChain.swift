/// The locales to try, most specific first, for a payer locale and the default:
/// `fr-BE` with default `en` gives `fr-BE, fr, en`. Tags are compared in their canonical
/// case (BCP 47 is case-insensitive): `DE-de` and `de_DE` are `de-DE`.
public enum LocaleChain {
    public static func chain(for locale: String, defaultLocale: String) -> [String] {
        var out: [String] = []
        for start in [locale, defaultLocale] {
            var parts = canonical(start).split(separator: "-").map(String.init)
            while !parts.isEmpty {
                let candidate = parts.joined(separator: "-")
                if !out.contains(candidate) { out.append(candidate) }
                parts.removeLast()
            }
        }
        return out
    }

    /// `de_ch` → `de-CH`, `ZH-hant-tw` → `zh-Hant-TW`, `sr-latn-rs` → `sr-Latn-RS`: the
    /// language in lower case, a script capitalised, a region in capitals, the rest in lower
    /// case. Extensions and private use (`de-DE-u-nu-arab`, `-x-…`) are dropped: they would
    /// change the digits of a German letter to Arabic-Indic ones.
    public static func canonical(_ tag: String) -> String {
        var out: [String] = []
        for (index, part) in tag.split(whereSeparator: { $0 == "-" || $0 == "_" }).enumerated() {
            if part.count == 1 { break }
            if index == 0 {
                out.append(part.lowercased())
            } else if part.count == 4 && part.allSatisfy(\.isLetter) {
                out.append(part.prefix(1).uppercased() + part.dropFirst().lowercased())
            } else if part.count == 2 && part.allSatisfy(\.isLetter) || part.count == 3 && part.allSatisfy(\.isNumber) {
                out.append(part.uppercased())
            } else {
                out.append(part.lowercased())
            }
        }
        return out.joined(separator: "-")
    }
}
