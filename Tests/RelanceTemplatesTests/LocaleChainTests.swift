import RelanceTemplates
import Testing

@Suite("LocaleChain")
struct LocaleChainTests {
    @Test(
        "most specific first, then the default locale",
        arguments: [
            ("fr-BE", "en", ["fr-BE", "fr", "en"]),
            ("en-GB", "en", ["en-GB", "en"]),
            ("de-DE", "en", ["de-DE", "de", "en"]),
            ("zh-Hant-TW", "en", ["zh-Hant-TW", "zh-Hant", "zh", "en"]),
            ("fr", "en", ["fr", "en"]),
            ("en", "en", ["en"]),
            ("fr-FR", "fr", ["fr-FR", "fr"]),
            ("fr-FR", "en-GB", ["fr-FR", "fr", "en-GB", "en"]),
            ("fr_BE", "en", ["fr-BE", "fr", "en"]),
            ("de-CH-1996", "fr", ["de-CH-1996", "de-CH", "de", "fr"]),
            // BCP 47 is case-insensitive; extensions and private use are dropped.
            ("DE-de", "en", ["de-DE", "de", "en"]), ("FR", "en-gb", ["fr", "en-GB", "en"]),
            ("de-DE-u-nu-arab", "en", ["de-DE", "de", "en"]),
            ("sr-latn-rs", "en", ["sr-Latn-RS", "sr-Latn", "sr", "en"]),
            ("x-klingon", "en", ["en"]),
        ])
    func chain(_ locale: String, _ defaultLocale: String, _ expected: [String]) {
        #expect(LocaleChain.chain(for: locale, defaultLocale: defaultLocale) == expected)
    }
}
