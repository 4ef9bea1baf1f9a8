import RelanceCore
import Testing

@Suite("PayerProfile validation")
struct PayerProfileTests {
    static let good = PayerProfile(
        ref: "C-00412", name: "Lumen Conseil SARL", locale: "fr-FR", timezone: "Europe/Paris", segment: "standard",
        email: "compta@lumen.example", phone: "+33184601235", postalAddress: ["12 rue de la Paix", "75002 Paris"],
        channels: [.email, .letter])

    @Test("a complete profile has no error")
    func good() {
        #expect(Self.good.validate().isEmpty)
        #expect(PayerProfile(ref: "x", name: "Y").validate().isEmpty)
        var utc = Self.good
        utc.timezone = "UTC"
        #expect(utc.validate().isEmpty)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var pointer: String
        var change: @Sendable (inout PayerProfile) -> Void
        var testDescription: String { label }
    }

    static let badCases: [Case] = [
        Case(label: "empty ref", pointer: "/ref") { $0.ref = "" },
        Case(label: "ref too long", pointer: "/ref") { $0.ref = String(repeating: "r", count: 201) },
        Case(label: "ref with a line break", pointer: "/ref") { $0.ref = "C-1\nC-2" },
        Case(label: "blank name", pointer: "/name") { $0.name = " \n " },
        Case(label: "name too long", pointer: "/name") { $0.name = String(repeating: "n", count: 301) },
        Case(label: "line break in the name", pointer: "/name") { $0.name = "Dupont SARL\r\nBcc: x@evil.example" },
        Case(label: "tab in the name", pointer: "/name") { $0.name = "Dupont\tSARL" },
        Case(label: "control character in the name", pointer: "/name") { $0.name = "Dupont\u{7}SARL" },
        Case(label: "locale as a word", pointer: "/locale") { $0.locale = "french" },
        Case(label: "locale with underscore", pointer: "/locale") { $0.locale = "fr_FR" },
        Case(label: "empty locale", pointer: "/locale") { $0.locale = "" },
        Case(label: "timezone city only", pointer: "/timezone") { $0.timezone = "Paris" },
        Case(label: "unknown timezone", pointer: "/timezone") { $0.timezone = "Europe/Atlantis" },
        Case(label: "timezone abbreviation", pointer: "/timezone") { $0.timezone = "CET" },
        Case(label: "segment with a space", pointer: "/segment") { $0.segment = "big client" },
        Case(label: "empty segment", pointer: "/segment") { $0.segment = "" },
        Case(label: "non-ASCII segment", pointer: "/segment") { $0.segment = "stratégique" },
        Case(label: "bad e-mail", pointer: "/email") { $0.email = "compta@@lumen" },
        Case(label: "e-mail with header injection", pointer: "/email") { $0.email = "a@b.fr\r\nBcc: x@y.z" },
        Case(label: "national phone number too short", pointer: "/phone") { $0.phone = "06 12 34" },
        Case(label: "international number too short", pointer: "/phone") { $0.phone = "+33 6 12" },
        Case(label: "phone with letters", pointer: "/phone") { $0.phone = "06 CALL ME" },
        Case(label: "no address line", pointer: "/postal_address") { $0.postalAddress = [] },
        Case(label: "eight address lines", pointer: "/postal_address") {
            $0.postalAddress = Array(repeating: "l", count: 8)
        },
        Case(label: "address line with a break", pointer: "/postal_address/1") { $0.postalAddress = ["ok", "a\nb"] },
        Case(label: "address line too long", pointer: "/postal_address/0") {
            $0.postalAddress = [String(repeating: "x", count: 101)]
        },
        Case(label: "no channel", pointer: "/channels") { $0.channels = [] },
    ]

    @Test("each bad field is reported at its JSON pointer", arguments: badCases)
    func bad(_ c: Case) {
        var payer = Self.good
        c.change(&payer)
        let errors = payer.validate()
        #expect(errors.map(\.pointer) == [c.pointer])
        #expect(errors.allSatisfy { !$0.message.isEmpty })
    }

    @Test("the prefix places the pointers inside the request")
    func prefix() throws {
        var payer = Self.good
        payer.email = "nope"
        payer.phone = "12"
        let errors = payer.validate(prefix: "/payer")
        #expect(errors.map(\.pointer) == ["/payer/email", "/payer/phone"])
        let email = try #require(errors.first)
        #expect(email.message.contains("missing '@'"))
        #expect(email.description.hasPrefix("/payer/email: "))
        #expect(errors[1].message.contains("'12'"))
    }

    @Test("every problem is reported at once")
    func allAtOnce() {
        let payer = PayerProfile(ref: "", name: "", locale: "x", timezone: "Nowhere", segment: "", channels: [])
        #expect(payer.validate().map(\.pointer) == ["/ref", "/name", "/locale", "/timezone", "/segment", "/channels"])
        #expect(InvalidFields(payer.validate()).description.hasPrefix("/ref: must not be empty; /name: "))
    }

    @Test(
        "isE164",
        arguments: [
            ("+33612345678", true), ("+14155552671", true), ("+12345678", true), ("+123456789012345", true),
            ("33612345678", false), ("+0612345678", false), ("+1234567", false), ("+1234567890123456", false),
            ("+33 612345678", false), ("+33-612345678", false), ("+٣٣٦١٢٣٤٥٦٧٨", false), ("", false), ("+", false),
            ("++33612345678", false),
        ])
    func e164(_ number: String, _ valid: Bool) {
        #expect(PayerProfile.isE164(number) == valid)
    }

    @Test(
        "isLanguageTag",
        arguments: [
            ("fr", true), ("fr-FR", true), ("en-GB", true), ("gsw", true), ("zh-Hant-TW", true), ("de-CH-1996", true),
            ("es-419", true), ("", false), ("f", false), ("fr_FR", false), ("fr-", false), ("-FR", false),
            ("français", false), ("fr-FR-toolongsub", false), ("1a", false), ("fr--FR", false), ("fr FR", false),
        ])
    func languageTag(_ tag: String, _ valid: Bool) {
        #expect(PayerProfile.isLanguageTag(tag) == valid)
    }
}
