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
        ])
    func chain(_ locale: String, _ defaultLocale: String, _ expected: [String]) {
        #expect(LocaleChain.chain(for: locale, defaultLocale: defaultLocale) == expected)
    }
}
