import Foundation

extension PayerProfile {
    /// Checks every field; `prefix` is the JSON pointer of the payer in the request.
    /// `defaultCountry` reads a national phone number when the locale has no region.
    public func validate(prefix: String = "", defaultCountry: String? = nil) -> [FieldError] {
        var errors: [FieldError] = []
        if let problem = TextRules.referenceProblem(ref) { errors.append(FieldError("\(prefix)/ref", problem)) }
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || name.count > 300 {
            errors.append(FieldError("\(prefix)/name", "must be 1 to 300 characters"))
        } else if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            // A name goes into a header, the first line of a letter's address and the text
            // of every message: a line break or a tab there is a mistake (rows written by
            // SQL are still cleaned where they are shown).
            errors.append(FieldError("\(prefix)/name", "must not contain a line break, tab or control character"))
        }
        if !Self.isLanguageTag(locale) {
            errors.append(FieldError("\(prefix)/locale", "'\(locale)' is not a BCP 47 language tag such as fr-FR"))
        }
        if TimeZone(identifier: timezone) == nil || !timezone.contains("/") && timezone != "UTC" {
            errors.append(
                FieldError("\(prefix)/timezone", "'\(timezone)' is not an IANA time zone such as Europe/Paris"))
        }
        if segment.isEmpty || segment.count > 50
            || !segment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            errors.append(FieldError("\(prefix)/segment", "must be a short word of letters, digits, '-' or '_'"))
        }
        if let email {
            do { _ = try EmailAddress(email) } catch { errors.append(FieldError("\(prefix)/email", "\(error)")) }
        }
        if let phone {
            // E.164, or a national number read with the country of the locale (fr-FR: 06 12 34 56 78).
            do { _ = try PhoneNumber.normalize(phone, country: phoneCountry(defaultCountry)) } catch {
                errors.append(FieldError("\(prefix)/phone", "\(error)"))
            }
        }
        if let lines = postalAddress {
            if lines.isEmpty || lines.count > 7 {
                errors.append(FieldError("\(prefix)/postal_address", "must have 1 to 7 lines"))
            }
            for (i, line) in lines.enumerated() {
                if line.contains(where: { $0.isNewline }) || line.count > 100 {
                    errors.append(
                        FieldError("\(prefix)/postal_address/\(i)", "must be one line of at most 100 characters"))
                } else if let hidden = line.unicodeScalars.first(where: TextRules.isHidden) {
                    errors.append(
                        FieldError(
                            "\(prefix)/postal_address/\(i)",
                            "holds \(TextRules.codePoint(hidden)), a control or bidi character"))
                }
            }
        }
        if channels.isEmpty { errors.append(FieldError("\(prefix)/channels", "must list at least one channel")) }
        return errors
    }

    /// `postal_address` as stored: a JSON array of lines.
    public var postalAddressJSON: String? {
        postalAddress.map { JSONValue.array($0.map(JSONValue.string)).jsonText }
    }

    /// The payer with its phone number in E.164 when it can be read (national numbers
    /// with the country of the locale, else `defaultCountry`); otherwise unchanged.
    public func normalized(defaultCountry: String? = nil) -> PayerProfile {
        guard let phone, let number = try? PhoneNumber.normalize(phone, country: phoneCountry(defaultCountry))
        else { return self }
        var copy = self
        copy.phone = number.e164
        return copy
    }

    /// The country a national phone number of this payer is read with: the region of
    /// the locale (`fr-FR` → FR), else `defaultCountry` (`sms.default_country`).
    public func phoneCountry(_ defaultCountry: String?) -> String? {
        PhoneNumber.country(fromLocale: locale) ?? defaultCountry
    }

    /// E.164: '+', a country code not starting with 0, at most 15 digits in all (ITU-T E.164 §6).
    public static func isE164(_ s: String) -> Bool {
        let digits = s.dropFirst()
        return s.first == "+" && (8...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
            && digits.first != "0"
    }

    /// A BCP 47 tag shape (RFC 5646): a 2–3 letter language, then subtags of 1–8 letters or digits.
    public static func isLanguageTag(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count),
            language.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy {
            (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }
}
