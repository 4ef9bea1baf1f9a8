import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("Job data checks at enqueue")
struct DataCheckTests {
    @Test(
        "data that rendering would refuse is refused with the exact pointer",
        arguments: [
            (#"{"total_due": {"amount": "12,50", "currency": "EUR"}}"#, "/data/total_due/amount"),
            (#"{"total_due": {"amount": "12.50", "currency": "EURO"}}"#, "/data/total_due/currency"),
            (#"{"total_due": {"amount": "1e3", "currency": "EUR"}}"#, "/data/total_due/amount"),
            (#"{"total_due": {"amount": true, "currency": "EUR"}}"#, "/data/total_due/amount"),
            (#"{"invoices": [{"due_date": "2026-02-29"}]}"#, "/data/invoices/0/due_date"),
            (#"{"invoices": [{"due_date": "2026-13-01"}]}"#, "/data/invoices/0/due_date"),
            (#"[1, 2]"#, "/data"),
            // A date field is a date, whatever it looks like.
            (#"{"invoices": [{"due_date": "9999-12-31T99:99"}]}"#, "/data/invoices/0/due_date"),
            (#"{"invoices": [{"due_date": "2026-W05-1"}]}"#, "/data/invoices/0/due_date"),
            (#"{"invoices": [{"due_date": ""}]}"#, "/data/invoices/0/due_date"),
            (#"{"payment_deadline": 20261203}"#, "/data/payment_deadline"),
            // Amounts: decimal strings, no more decimals than the currency takes, never negative.
            (#"{"total_due": {"amount": 12.5, "currency": "EUR"}}"#, "/data/total_due/amount"),
            (#"{"total_due": {"amount": "12.505", "currency": "EUR"}}"#, "/data/total_due/amount"),
            (#"{"total_due": {"amount": "1250.5", "currency": "JPY"}}"#, "/data/total_due/amount"),
            (#"{"total_due": {"amount": "-5", "currency": "EUR"}}"#, "/data/total_due/amount"),
        ])
    func refused(json: String, pointer: String) throws {
        let errors = MessageContext.check(data: try JSONValue.parse(json), pointer: "/data")
        #expect(errors.map(\.pointer) == [pointer])
    }

    @Test(
        "the shipped samples and ordinary data pass",
        arguments: [
            #"{"total_due": {"amount": "1250.00", "currency": "EUR"}, "due_date": "2028-02-29"}"#,
            #"{"payment": {"amount": {"amount": "3.5", "currency": "CHF"}, "date": "2026-11-23"}, "note": "2026-99"}"#,
            #"{"total_due": {"amount": "1250", "currency": "JPY"}, "fee": {"amount": "1.125", "currency": "BHD"}}"#,
            #"{}"#,
        ])
    func accepted(json: String) throws {
        #expect(MessageContext.check(data: try JSONValue.parse(json), pointer: "/data").isEmpty)
    }

    @Test(
        "calendar dates",
        arguments: [
            ("2024-02-29", true), ("2100-02-29", false), ("2000-02-29", true), ("2026-04-31", false),
            ("2026-12-31", true),
            ("0000-01-01", false), ("2026-00-10", false), ("2026-1-010", false), ("2026-01-1x", false),
            ("2026-01-01 ", false), ("é026-01-01", false),
        ])
    func calendar(date: String, valid: Bool) {
        #expect(MessageContext.isCalendarDate(date) == valid)
    }

    @Test(
        "the enqueue check accepts exactly the amounts rendering parses",
        arguments: [
            "1250.00", "-3.5", "0", "0.000001", "1.", ".5", "-.5", "999999999999999.99", "000999999999999999",
            "1000000000000000", "-1000000000000000", "0001000000000000000", "", "-", ".", "1e5", "1,5", " 1", "1-",
            "--1", "1.2.3", "+1", "١٢", "12a",
        ])
    func amounts(text: String) {
        #expect(Money.isAmount(text) == (Money.parseAmount(text) != nil))
    }

    @Test(
        "the shipped messages' required fields: missing, null or no invoice is named; invoice_ref and other messages are exempt",
        arguments: [
            ("reminder-1", "{}", ["/data/invoices", "/data/total_due"]),
            (
                "reminder-1", #"{"invoices": null, "total_due": {"amount": "1.00", "currency": "EUR"}}"#,
                ["/data/invoices"]
            ),
            (
                "reminder-1", #"{"invoices": [], "total_due": {"amount": "1.00", "currency": "EUR"}}"#,
                ["/data/invoices"]
            ),
            (
                "reminder-1", #"{"invoices": [{"number": "F-1"}], "total_due": {"amount": "1.00", "currency": "EUR"}}"#,
                []
            ),
            (
                "formal-notice",
                #"{"invoices": [{"number": "F-1"}], "total_due": {"amount": "1.00", "currency": "EUR"}}"#,
                ["/data/payment_deadline"]
            ),
            ("thanks", "{}", ["/data/invoices", "/data/total_due", "/data/payment"]),
            ("reminder-2", #"{"invoice_ref": "F-1"}"#, []),
            ("reminder-2", #"{"invoice_ref": ""}"#, ["/data/invoices", "/data/total_due"]),
            ("reminder-2", #"{"invoice_ref": null}"#, ["/data/invoices", "/data/total_due"]),
            ("reminder-2", #"{"invoice_ref": 7}"#, ["/data/invoices", "/data/total_due"]),
            ("my-own-message", "{}", []),
        ])
    func requiredFields(message: String, data: String, missing: [String]) throws {
        let catalog = try ShippedTemplatesTests.catalog()
        let errors = MessageContext.missingFields(
            catalog.requiredData[message] ?? [], of: message, in: try JSONValue.parse(data), pointer: "/data")
        #expect(errors.map(\.pointer) == missing)
    }
}
