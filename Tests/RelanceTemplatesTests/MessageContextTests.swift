import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("MessageContext")
struct MessageContextTests {
    static let money = #"{"total_due": {"amount": "1250.00", "currency": "EUR"}}"#

    // MARK: money

    @Test(
        "money is formatted for the payer's locale",
        arguments: [
            ("fr-FR", "1 250,00 €"), ("en-GB", "€1,250.00"), ("de-DE", "1.250,00 €"), ("fr-BE", "1 250,00 €"),
        ])
    func money(locale: String, expected: String) throws {
        let text = try Fixtures.renderText("{{total_due}}", data: Self.money, payer: Fixtures.payer(locale: locale))
        #expect(Fixtures.plainSpaces(text) == expected)
    }

    @Test("the parts of an amount are reachable: {{total_due.currency}}")
    func moneyParts() throws {
        let text = try Fixtures.renderText("{{total_due.currency}}", data: Self.money)
        #expect(text == "EUR")
    }

    @Test(
        "amounts keep their exact value, as strings or JSON numbers",
        arguments: [
            (#"{"amount": "0.10", "currency": "EUR"}"#, "0,10 €"),
            (#"{"amount": "-3.5", "currency": "EUR"}"#, "-3,50 €"),
            (#"{"amount": 1250.5, "currency": "EUR"}"#, "1 250,50 €"),
            (#"{"amount": "1234567.89", "currency": "USD"}"#, "1 234 567,89 $US"),
            (#"{"amount": "99.99", "currency": "GBP"}"#, "99,99 £GB"),
        ])
    func amounts(json: String, expected: String) throws {
        let text = try Fixtures.renderText("{{m}}", data: #"{"m": \#(json)}"#)
        #expect(Fixtures.plainSpaces(text).replacingOccurrences(of: "\u{2212}", with: "-") == expected)
    }

    // MARK: dates

    @Test(
        "dates are long dates in the payer's language, French first days are ordinals",
        arguments: [
            ("fr-FR", "2026-10-15", "15 octobre 2026"),
            ("en-GB", "2026-10-15", "15 October 2026"),
            ("fr-FR", "2026-11-01", "1er novembre 2026"),
            ("fr-BE", "2026-11-01", "1er novembre 2026"),
            ("en-GB", "2026-11-01", "1 November 2026"),
            ("fr-FR", "2026-11-11", "11 novembre 2026"),
            ("fr-FR", "2028-02-29", "29 février 2028"),
        ])
    func dates(locale: String, iso: String, expected: String) throws {
        let text = try Fixtures.renderText(
            "{{d}}|{{d.iso}}", data: #"{"d": "\#(iso)"}"#, payer: Fixtures.payer(locale: locale))
        #expect(text == "\(expected)|\(iso)")
    }

    @Test("values answer their documented parts, and a name inside a value's section is found outside it")
    func valueParts() throws {
        let text = try Fixtures.renderText(
            "{{m.amount}} {{m.currency}} {{m.other}}|{{#t}}{{.}}: {{n}} {{m.currency}} {{t.value}}{{/t}}|{{#d}}{{n}}{{/d}}",
            data: #"{"m": {"amount": "1250.50", "currency": "EUR"}, "t": "IBAN", "n": "F-1", "d": "2026-10-15"}"#,
            payer: Fixtures.payer())
        #expect(text == "1250.5 EUR |IBAN: F-1 EUR |F-1")
    }

    @Test("today is the date in the payer's time zone")
    func todayInTimeZone() throws {
        // 23:30 UTC on 23 November: already the 24th in Paris, still the 23rd in New York.
        let late = Date(timeIntervalSince1970: 1_795_478_400 - 1800)
        let paris = try Fixtures.renderText(
            "{{today}}", data: "{}", payer: Fixtures.payer(timezone: "Europe/Paris"), today: late)
        #expect(paris == "24 novembre 2026")
        let newYork = try Fixtures.renderText(
            "{{today}}", data: "{}", payer: Fixtures.payer(locale: "en-GB", timezone: "America/New_York"), today: late)
        #expect(newYork == "23 November 2026")
    }

    @Test("days overdue and until due are counted from today for every object with a due_date")
    func dueDays() throws {
        let data = #"""
            {"invoices": [
              {"number": "F-1", "due_date": "2026-10-15"},
              {"number": "F-2", "due_date": "2026-12-01"},
              {"number": "F-3", "due_date": "2026-11-23"}
            ]}
            """#
        let text = try Fixtures.renderText(
            "{{#invoices}}{{number}}:{{days_overdue}}/{{days_until_due}}/{{#is_overdue}}late{{/is_overdue}}{{^is_overdue}}ok{{/is_overdue}};{{/invoices}}",
            data: data)
        #expect(text == "F-1:39/0/late;F-2:0/8/ok;F-3:0/0/ok;")
    }

    @Test("days_overdue given in the data is kept")
    func explicitDays() throws {
        let text = try Fixtures.renderText(
            "{{i.days_overdue}}", data: #"{"i": {"due_date": "2026-10-15", "days_overdue": 3}}"#)
        #expect(text == "3")
    }

    @Test("invoice_numbers and invoice_count are derived from invoices")
    func invoiceSummary() throws {
        let data =
            #"{"invoices": [{"number": "F-2026-0142"}, {"number": "F-2026-0157"}, {"amount": {"amount": "1", "currency": "EUR"}}]}"#
        let text = try Fixtures.renderText("{{invoice_numbers}} ({{invoice_count}})", data: data)
        #expect(text == "F-2026-0142, F-2026-0157 (3)")
    }

    @Test("payer, creditor, case reference and today are in the context")
    func builtIns() throws {
        let text = try Fixtures.renderText(
            "{{payer.name}}|{{payer.ref}}|{{payer.segment}}|{{payer.locale}}|{{#payer.is_business}}B{{/payer.is_business}}|{{creditor.name}}|{{#creditor.address}}{{.}};{{/creditor.address}}|{{case_ref}}|{{today}}",
            data: "{}")
        #expect(
            text
                == "Dupont & Fils <SARL>|C-00412|standard|fr-FR|B|Lumen Conseil|12 rue de la Paix;75002 Paris;|F-2026-0142|23 novembre 2026"
        )
        let consumer = try Fixtures.renderText(
            "{{#payer.is_business}}B{{/payer.is_business}}{{^payer.is_business}}C{{/payer.is_business}}", data: "{}",
            payer: Fixtures.payer(kind: .consumer))
        #expect(consumer == "C")
        // The kind decides, never the segment's name.
        let namedConsumer = try Fixtures.renderText(
            "{{#payer.is_business}}B{{/payer.is_business}}{{^payer.is_business}}C{{/payer.is_business}}", data: "{}",
            payer: Fixtures.payer(segment: "consumer"))
        #expect(namedConsumer == "B")
    }

    @Test("empty creditor fields are absent, so their sections render nothing")
    func emptyCreditorFields() throws {
        let template =
            "[{{#creditor.phone}}Tél. : {{.}}{{/creditor.phone}}][{{#creditor.iban}}IBAN {{.}}{{/creditor.iban}}][{{#creditor.address}}{{.}}{{/creditor.address}}]"
        let bare = try Fixtures.renderText(template, data: "{}", creditor: Creditor(name: "Lumen"))
        #expect(bare == "[][][]")
        let full = try Fixtures.renderText(template, data: "{}")
        #expect(
            full == "[Tél. : +33 1 84 60 12 34][IBAN FR76 3000 6000 0112 3456 7890 189][12 rue de la Paix75002 Paris]")
        let context = try MessageContext.build(
            payer: Fixtures.payer(), creditor: Creditor(name: "Lumen", phone: ""), caseRef: "", data: "{}",
            today: Fixtures.today)
        #expect((context["creditor"] as? [String: Any])?.keys.sorted() == ["name"])
        #expect(context["case_ref"] == nil)
    }

    @Test("an empty string in the data counts as absent in a section")
    func emptyStringIsAbsent() throws {
        let text = try Fixtures.renderText(
            "[{{#payment_link}}Pay: {{.}}{{/payment_link}}]", data: #"{"payment_link": ""}"#)
        #expect(text == "[]")
    }

    // MARK: errors

    @Test(
        "bad data is refused with the path and the value",
        arguments: [
            (
                #"{"total_due": {"amount": "12,50", "currency": "EUR"}}"#,
                "data/total_due/amount: '12,50' is not a decimal amount"
            ),
            (
                #"{"total_due": {"amount": "1e3", "currency": "EUR"}}"#,
                "data/total_due/amount: '1e3' is not a decimal amount"
            ),
            (
                #"{"total_due": {"amount": "1.2.3", "currency": "EUR"}}"#,
                "data/total_due/amount: '1.2.3' is not a decimal amount"
            ),
            (
                #"{"total_due": {"amount": "1-2", "currency": "EUR"}}"#,
                "data/total_due/amount: '1-2' is not a decimal amount"
            ),
            (
                #"{"total_due": {"amount": true, "currency": "EUR"}}"#,
                "data/total_due/amount: expected a decimal string"
            ),
            (
                #"{"total_due": {"amount": "12.50", "currency": "euro"}}"#,
                #"data/total_due/currency: "euro" is not an active ISO 4217 currency code"#
            ),
            (
                #"{"total_due": {"amount": "12.50", "currency": "eur"}}"#,
                #"data/total_due/currency: "eur" is not an active ISO 4217 currency code"#
            ),
            (
                #"{"invoices": [{"due_date": "2026-02-30"}]}"#,
                "data/invoices/0/due_date: '2026-02-30' is not a valid calendar date"
            ),
            (#"{"d": "2026-13-01"}"#, "data/d: '2026-13-01' is not a valid calendar date"),
            (#"{"d": "2027-02-29"}"#, "data/d: '2027-02-29' is not a valid calendar date"),
            ("[1, 2]", "data must be a JSON object"),
            (#""text""#, "data must be a JSON object"),
            ("{", "data is not valid JSON"),
        ])
    func badData(data: String, message: String) throws {
        let error = try #require(throws: TemplateError.self) {
            try MessageContext.build(
                payer: Fixtures.payer(), creditor: Fixtures.creditor, caseRef: nil, data: data, today: Fixtures.today)
        }
        #expect(error.kind == .data)
        #expect(error.message.hasPrefix(message), "\(error.message)")
    }

    @Test("data over the size limit is refused before parsing")
    func tooLarge() throws {
        let filler = String(repeating: "x", count: MessageContext.maximumDataBytes)
        let data = #"{"note": "\#(filler)"}"#
        let error = try #require(throws: TemplateError.self) {
            try MessageContext.build(
                payer: Fixtures.payer(), creditor: Fixtures.creditor, caseRef: nil, data: data, today: Fixtures.today)
        }
        #expect(error.kind == .data)
        #expect(error.message == "data is \(data.utf8.count) bytes, more than the 262144 allowed")
        // Just under the limit is fine.
        let fits = #"{"note": "\#(String(repeating: "x", count: MessageContext.maximumDataBytes - 12))"}"#
        #expect(fits.utf8.count <= MessageContext.maximumDataBytes)
        _ = try MessageContext.build(
            payer: Fixtures.payer(), creditor: Fixtures.creditor, caseRef: nil, data: fits, today: Fixtures.today)
    }

    @Test("strings that are not date-shaped stay plain text")
    func notDates() throws {
        let text = try Fixtures.renderText(
            "{{a}}|{{b}}|{{c}}", data: #"{"a": "F-2026-0142", "b": "2026-1-5", "c": "20261015"}"#)
        #expect(text == "F-2026-0142|2026-1-5|20261015")
    }
}

@Suite("Invoice numbers in a subject or a transfer's remittance")
struct BriefListTests {
    @Test(
        "three at most, then how many more, in the payer's language; never over 140 characters",
        arguments: [
            (["F-1"], Wording.french, "F-1"), (["F-1", "F-2", "F-3"], Wording.french, "F-1, F-2, F-3"),
            (["F-1", "F-2", "F-3", "F-4"], Wording.french, "F-1, F-2, F-3 et 1 autre"),
            ((1...60).map { "F-\($0)" }, Wording.french, "F-1, F-2, F-3 et 57 autres"),
            ((1...60).map { "F-\($0)" }, Wording.english, "F-1, F-2, F-3 and 57 more"),
        ])
    func brief(numbers: [String], wording: Wording, expected: String) {
        #expect(MessageContext.briefList(numbers, wording: wording) == expected)
    }

    @Test("long numbers: fewer shown, still within 140 characters")
    func long() {
        let numbers = (1...5).map { "FACTURE-2026-\(String(repeating: "0", count: 50))\($0)" }
        let text = MessageContext.briefList(numbers, wording: .french)
        #expect(text.count <= 140)
        #expect(text.hasSuffix("autres"))
        #expect(MessageContext.briefList([String(repeating: "9", count: 300)], wording: .english).count == 140)
    }
}
