import RelanceCore
import RelanceTemplates

extension RelanceConfig {
    /// `templates.default_locale`, canonical (`en_gb` → `en-GB`); a value that is not a
    /// language tag is refused at start rather than failing every fallen-back payer later.
    static func defaultLocale(_ r: Reader) throws -> String {
        let value = try r.string(defaulted: "templates.default_locale")
        guard PayerProfile.isLanguageTag(value), !LocaleChain.canonical(value).isEmpty else {
            throw ConfigError(
                "\(r.origin("templates.default_locale")): templates.default_locale '\(value)' is not a BCP 47 language tag such as en-GB"
            )
        }
        return LocaleChain.canonical(value)
    }

    /// `creditor.jurisdiction`: a code of `LatePaymentLaw.all` (docs/LATE-PAYMENT.md).
    static func jurisdiction(_ r: Reader) throws -> String {
        switch LatePaymentLaw.named(try r.string(defaulted: "creditor.jurisdiction")) {
        case .success(let law): return law.code
        case .failure(let problem): throw ConfigError("\(r.origin("creditor.jurisdiction")): \(problem)")
        }
    }
}
