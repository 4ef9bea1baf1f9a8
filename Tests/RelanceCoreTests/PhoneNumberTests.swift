import Testing

@testable import RelanceCore

@Suite("PhoneNumber")
struct PhoneNumberTests {
    @Test(
        "French forms",
        arguments: [
            ("+33612345678", nil as String?),
            ("+33 6 12 34 56 78", nil),
            ("+33 (0)6 12 34 56 78", nil),
            ("+33(0)612345678", nil),
            ("+33 ( 0 ) 6 12 34 56 78", nil),
            ("0033 6 12 34 56 78", nil),
            ("0033612345678", "FR"),
            ("06 12 34 56 78", "FR"),
            ("06.12.34.56.78", "FR"),
            ("06-12-34-56-78", "fr"),
            ("06/12/34/56/78", "FR"),
            ("(06) 12 34 56 78", "FR"),
            ("06\u{00A0}12\u{00A0}34\u{00A0}56\u{00A0}78", "FR"),
            ("06\u{202F}12\u{202F}34\u{202F}56\u{202F}78", "FR"),
            ("  06 12 34 56 78 ", "FR"),
            // The trunk 0 kept after the country code, a common mistake.
            ("+330612345678", nil),
            ("+33 0 6 12 34 56 78", nil),
            ("0033 06 12 34 56 78", nil),
            // An international number ignores the country.
            ("+33 6 12 34 56 78", "DE"),
            ("0033 6 12 34 56 78", "US"),
        ])
    func french(_ input: String, _ country: String?) throws {
        let number = try PhoneNumber.normalize(input, country: country)
        #expect(number.e164 == "+33612345678")
        #expect(number.description == "+33612345678")
        #expect(number == PhoneNumber(e164: "+33612345678"))
    }

    @Test(
        "national and international numbers of the known countries",
        arguments: [
            ("01 23 45 67 89", "FR" as String?, "+33123456789"),
            ("09 87 65 43 21", "FR", "+33987654321"),
            ("0470 12 34 56", "BE", "+32470123456"),
            ("02 123 45 67", "BE", "+3221234567"),
            ("+32 2 123 45 67", nil, "+3221234567"),
            ("621 123 456", "LU", "+352621123456"),
            ("+352 27 12 34 56", nil, "+35227123456"),
            ("079 123 45 67", "CH", "+41791234567"),
            ("+41 (0)79 123 45 67", nil, "+41791234567"),
            ("0151 23456789", "DE", "+4915123456789"),
            ("030 1234567", "DE", "+49301234567"),
            ("+49 (0)30 1234567", nil, "+49301234567"),
            ("0664 1234567", "AT", "+436641234567"),
            ("06 12345678", "NL", "+31612345678"),
            ("612 34 56 78", "ES", "+34612345678"),
            ("+34 912 34 56 78", nil, "+34912345678"),
            ("912 345 678", "PT", "+351912345678"),
            // Italy: no trunk prefix, the leading 0 of landlines is part of the number.
            ("02 1234 5678", "IT", "+390212345678"),
            ("+39 02 1234 5678", nil, "+390212345678"),
            ("+39 (0)2 1234 5678", nil, "+390212345678"),
            ("312 345 6789", "IT", "+393123456789"),
            ("07700 900123", "GB", "+447700900123"),
            ("+44 (0)20 7946 0018", nil, "+442079460018"),
            ("+44 020 7946 0018", nil, "+442079460018"),
            ("087 123 4567", "IE", "+353871234567"),
            ("(202) 555-0143", "US", "+12025550143"),
            ("202.555.0143", "US", "+12025550143"),
            ("1 202 555 0143", "US", "+12025550143"),
            ("+1 202 555 0143", nil, "+12025550143"),
            ("011 33 6 12 34 56 78", "US", "+33612345678"),
            ("416-555-0199", "CA", "+14165550199"),
            ("06 12 34 56 78", "MA", "+212612345678"),
            ("+212 (0)6 12 34 56 78", nil, "+212612345678"),
            ("20 123 456", "TN", "+21620123456"),
            ("77 123 45 67", "SN", "+221771234567"),
            ("07 07 12 34 56", "CI", "+2250707123456"),
            ("+225 07 07 12 34 56", nil, "+2250707123456"),
        ])
    func countries(_ input: String, _ country: String?, _ e164: String) throws {
        let number = try PhoneNumber.normalize(input, country: country)
        #expect(number.e164 == e164)
        #expect(PayerProfile.isE164(number.e164))
    }

    @Test(
        "France and its overseas departments share one national plan",
        arguments: [
            ("0590 12 34 56", "GP" as String?, "+590590123456"),
            ("0690 12 34 56", "GP", "+590690123456"),
            ("0690 12 34 56", "FR", "+590690123456"),
            ("0691 12 34 56", "MF", "+590691123456"),
            ("0690 12 34 56", "BL", "+590690123456"),
            ("0596 12 34 56", "MQ", "+596596123456"),
            ("0696 12 34 56", "FR", "+596696123456"),
            ("0694 12 34 56", "GF", "+594694123456"),
            ("0262 12 34 56", "RE", "+262262123456"),
            ("0692 12 34 56", "RE", "+262692123456"),
            ("0693 12 34 56", "FR", "+262693123456"),
            ("0639 12 34 56", "YT", "+262639123456"),
            ("0269 12 34 56", "YT", "+262269123456"),
            ("06 12 34 56 78", "RE", "+33612345678"),
            ("01 23 45 67 89", "GP", "+33123456789"),
            ("+590 690 12 34 56", nil, "+590690123456"),
            ("+262 0692 12 34 56", nil, "+262692123456"),
            ("00596 696 12 34 56", nil, "+596696123456"),
        ])
    func overseas(_ input: String, _ country: String?, _ e164: String) throws {
        #expect(try PhoneNumber.normalize(input, country: country).e164 == e164)
    }

    @Test(
        "unknown calling codes only need to be E.164",
        arguments: [
            ("+7 912 345 67 89", "+79123456789"),
            ("+86 138 0013 8000", "+8613800138000"),
            ("+687 12 34 56", "+687123456"),
            ("0047 (0)22 12 34 56", "+4722123456"),
            ("+971 (0)50 123 4567", "+971501234567"),
        ])
    func unknownCallingCodes(_ input: String, _ e164: String) throws {
        #expect(try PhoneNumber.normalize(input, country: nil).e164 == e164)
    }

    @Test(
        "invalid numbers are refused with the input and the reason",
        arguments: [
            (
                "06 12 34", "FR" as String?,
                "'06 12 34' is not a valid phone number for FR: 6 digits, expected 10 starting with 0"
            ),
            (
                "06 12 34 56", "FR",
                "'06 12 34 56' is not a valid phone number for FR: 8 digits, expected 10 starting with 0"
            ),
            (
                "06 12 34 56 78 9", "FR",
                "'06 12 34 56 78 9' is not a valid phone number for FR: 11 digits, expected 10 starting with 0"
            ),
            (
                "612345678", "FR",
                "'612345678' is not a valid phone number for FR: 9 digits, expected 10 starting with 0"
            ),
            (
                "6123456789", "FR",
                "'6123456789' is not a valid phone number for FR: it starts with 6, expected 10 starting with 0"
            ),
            (
                "02 123", "BE",
                "'02 123' is not a valid phone number for BE: 5 digits, expected 9 to 10 starting with 0"
            ),
            ("12 345", "IT", "'12 345' is not a valid phone number for IT: 5 digits, expected 6 to 12"),
            ("61234567", "ES", "'61234567' is not a valid phone number for ES: 8 digits, expected 9"),
            (
                "(202) 555-014", "US",
                "'(202) 555-014' is not a valid phone number for US: 9 digits, expected 10, or 11 starting with 1"
            ),
            (
                "(102) 555-0143", "US",
                "'(102) 555-0143' is not a valid phone number for US: the area code cannot start with 1"
            ),
            (
                "06 12 AB 56 78", "FR",
                "'06 12 AB 56 78' is not a valid phone number: 'A' is not allowed (only digits, a leading '+', "
                    + "spaces, dots, dashes, slashes and parentheses)"
            ),
            (
                "06 12 34 56 78 ext 12", "FR",
                "'06 12 34 56 78 ext 12' is not a valid phone number: 'e' is not allowed (only digits, a leading "
                    + "'+', spaces, dots, dashes, slashes and parentheses)"
            ),
            (
                "06\t12 34 56 78", "FR",
                "'06\\u{9}12 34 56 78' is not a valid phone number: U+0009 is not allowed (only digits, a leading "
                    + "'+', spaces, dots, dashes, slashes and parentheses)"
            ),
            (
                "０６ １２ ３４ ５６ ７８", "FR",
                "'０６ １２ ３４ ５６ ７８' is not a valid phone number: '０' is not allowed (only digits, a leading "
                    + "'+', spaces, dots, dashes, slashes and parentheses)"
            ),
            (
                "+33 6 12 34 56 78 +1", nil,
                "'+33 6 12 34 56 78 +1' is not a valid phone number: a '+' is only allowed at the start"
            ),
            ("++33612345678", nil, "'++33612345678' is not a valid phone number: a '+' is only allowed at the start"),
            (
                "06 12 34 56 78", nil,
                "'06 12 34 56 78' is not a valid phone number: a national number needs the payer's country (or "
                    + "write it with '+' and the country code)"
            ),
            (
                "06 12 34 56 78", "ZZ",
                "'06 12 34 56 78' is not a valid phone number: there are no numbering rules for country 'ZZ': "
                    + "write the number with '+' and the country code"
            ),
            ("", "FR", "the phone number is empty"),
            ("  \u{00A0} ", "FR", "the phone number is empty"),
            ("+", nil, "'+' is not a valid phone number: no digits"),
            ("(-)", "FR", "'(-)' is not a valid phone number: no digits"),
            ("+0612345678", nil, "'+0612345678' is not a valid phone number: a country code never starts with 0"),
            ("+0033612345678", nil, "'+0033612345678' is not a valid phone number: a country code never starts with 0"),
            (
                "+33 6 12 34", nil,
                "'+33 6 12 34' is not a valid phone number for +33 (FR): 5 digits after the country code, expected 9"
            ),
            (
                "+33 6 12 34 56 78 90", nil,
                "'+33 6 12 34 56 78 90' is not a valid phone number for +33 (FR): 11 digits after the country code, "
                    + "expected 9"
            ),
            (
                "+33 00 12 34 56 78", nil,
                "'+33 00 12 34 56 78' is not a valid phone number for +33 (FR): the number after the country code "
                    + "cannot start with 0"
            ),
            (
                "+1 123 555 0143", nil,
                "'+1 123 555 0143' is not a valid phone number for +1 (US, CA): the area code cannot start with 1"
            ),
            (
                "+262 692 12 34", nil,
                "'+262 692 12 34' is not a valid phone number for +262 (RE, YT): 7 digits after the country code, "
                    + "expected 9"
            ),
            (
                "+352 123", nil,
                "'+352 123' is not a valid phone number for +352 (LU): 3 digits after the country code, expected 4 "
                    + "to 11"
            ),
            ("+352 1234", nil, "'+352 1234' is not a valid phone number: 7 digits in all, expected 8 to 15 (E.164)"),
            ("+999 12", nil, "'+999 12' is not a valid phone number: 5 digits, expected 8 to 15 after the '+'"),
            (
                "+86 1234 5678 9012 34", nil,
                "'+86 1234 5678 9012 34' is not a valid phone number: 16 digits, expected 8 to 15 after the '+'"
            ),
        ])
    func invalid(_ input: String, _ country: String?, _ message: String) {
        #expect(throws: PhoneNumberError(input: input, message: message)) {
            try PhoneNumber.normalize(input, country: country)
        }
    }

    @Test("the error's description is its message")
    func errorDescription() throws {
        let error = try #require(throws: PhoneNumberError.self) { try PhoneNumber.normalize("06", country: "FR") }
        #expect(error.description == error.message)
        #expect(error.input == "06")
    }

    @Test("a long input is cut in the message")
    func longInput() throws {
        let input = String(repeating: "1", count: 60) + "x"
        let error = try #require(throws: PhoneNumberError.self) { try PhoneNumber.normalize(input, country: "FR") }
        #expect(error.message.hasPrefix("'" + String(repeating: "1", count: 40) + "…' is not a valid phone number"))
    }

    @Test(
        "country from a BCP 47 locale",
        arguments: [
            ("fr-FR", "FR" as String?),
            ("fr-BE", "BE"),
            ("en-GB", "GB"),
            ("fr-fr", "FR"),
            ("fr_CA", "CA"),
            ("zh-Hant-TW", "TW"),
            ("de-CH-1996", "CH"),
            ("en-US-u-ca-gregory", "US"),
            ("fr", nil),
            ("es-419", nil),
            ("sr-Latn", nil),
            ("en-x-gb", nil),
            ("FR", nil),
            ("", nil),
        ])
    func countryFromLocale(_ locale: String, _ country: String?) {
        #expect(PhoneNumber.country(fromLocale: locale) == country)
    }

    @Test("the numbering plans: one per country, prefix-free calling codes, E.164 lengths")
    func plans() {
        #expect(NumberingPlan.byCountry.count == NumberingPlan.all.count)
        let codes = Set(NumberingPlan.all.map(\.callingCode))
        for code in codes {
            for other in codes where other != code { #expect(!other.hasPrefix(code), "\(code) prefixes \(other)") }
        }
        for plan in NumberingPlan.all {
            #expect(plan.callingCode.count + plan.lengths.upperBound <= 15, "\(plan.country)")
            #expect(plan.country.count == 2 && plan.country == plan.country.uppercased())
        }
        for country in ["FR", "BE", "LU", "CH", "DE", "AT", "NL", "ES", "PT", "IT", "GB", "IE", "US", "CA", "MA"]
            + ["TN", "SN", "CI", "GP", "MQ", "GF", "RE", "YT"]
        {
            #expect(NumberingPlan.byCountry[country] != nil, "\(country)")
        }
    }

    @Test("a number from a payer's locale")
    func fromPayerLocale() throws {
        let country = PhoneNumber.country(fromLocale: "fr-BE")
        #expect(try PhoneNumber.normalize("0470 12 34 56", country: country).e164 == "+32470123456")
    }
}
