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
            // The deadline is computed when the message goes out (PaymentDeadline).
            (
                "formal-notice",
                #"{"invoices": [{"number": "F-1"}], "total_due": {"amount": "1.00", "currency": "EUR"}}"#,
                []
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

@Suite("Payment deadlines")
struct PaymentDeadlineTests {
    @Test(
        "a stated deadline is at least the configured days after the message's date",
        arguments: [
            ("2026-12-07", 8, "2026-12-15", true),
            ("2026-12-07", 8, "2026-12-14", false),
            ("2026-12-07", 8, "2020-01-01", false),
            ("2026-12-07", 8, "2027-06-30", true),
            ("2026-12-28", 8, "2027-01-05", true),
            ("2026-12-28", 8, "2027-01-04", false),
            ("2028-02-25", 8, "2028-03-04", true),  // 29 February counts
            ("2028-02-25", 8, "2028-03-03", false),
            ("2026-12-07", 1, "2026-12-08", true),
            ("2026-12-07", 1, "2026-12-07", false),
        ])
    func rule(today: String, days: Int, deadline: String, accepted: Bool) {
        let rule = PaymentDeadline(days: days)
        let problem = rule.problem(.string(deadline), today: today)
        #expect((problem == nil) == accepted, "\(problem ?? "")")
        if let problem {
            #expect(problem.contains("less than \(days) days from \(today)"))
            #expect(problem.contains("give \(rule.earliest(after: today)) or later"))
        }
    }

    @Test(
        "absent, null or malformed is not this rule's to refuse", arguments: [JSONValue?.none, .null, .string("3 Dec")])
    func notThisRule(value: JSONValue?) {
        #expect(PaymentDeadline().problem(value, today: "2026-12-07") == nil)
    }

    @Test("a message without a deadline gets the earliest allowed day, in the payer's calendar")
    func computed() throws {
        let payer = PayerProfile(ref: "P", name: "X", locale: "fr-FR", timezone: "Pacific/Kiritimati")
        // 2026-12-07 11:00 UTC is already 8 December in Kiritimati (UTC+14).
        let now = try #require(Timestamp.date(from: "2026-12-07T11:00:00Z"))
        let context = try MessageContext.build(
            payer: payer, creditor: Creditor(), caseRef: nil, data: "{}", today: now, deadlineDays: 8)
        let deadline = try #require(context["payment_deadline"] as? LocalDate)
        #expect(deadline.iso == "2026-12-16")
        #expect(throws: TemplateError.self) {
            _ = try MessageContext.build(
                payer: payer, creditor: Creditor(), caseRef: nil, data: #"{"payment_deadline": "2026-12-15"}"#,
                today: now, deadlineDays: 8)
        }
    }
}

@Suite("Job data shapes")
struct DataShapeTests {
    static let invoice =
        #"{"number": "F-1", "issue_date": "2026-09-15", "due_date": "2026-10-15", "#
        + #""amount": {"amount": "100.00", "currency": "EUR"}, "balance": {"amount": "60.00", "currency": "EUR"}}"#

    @Test(
        "what would print as a program's dump, or as a wrong demand, is refused with its pointer",
        arguments: [
            (#"{"total_due": {"amount": "6386.00", "currency": "EUR", "x": 1}}"#, "/data/total_due"),
            (#"{"payment_deadline": {"date": "2027-12-15"}}"#, "/data/payment_deadline"),
            (#"{"payment_deadline": ["2027-12-15"]}"#, "/data/payment_deadline"),
            (#"{"payment_deadline": "9999-12-31"}"#, "/data/payment_deadline"),
            (#"{"invoices": [{"number": {"x": 1}}]}"#, "/data/invoices/0/number"),
            (#"{"invoices": [{"number": "F-1\nBcc: x"}]}"#, "/data/invoices/0/number"),
            (#"{"invoices": [{"due_date": ["2026-10-15"]}]}"#, "/data/invoices/0/due_date"),
            (#"{"invoices": [{"balance": "1250.00"}]}"#, "/data/invoices/0/balance"),
            (#"{"invoices": ["F-1"]}"#, "/data/invoices/0"),
            (#"{"invoices": "F-1"}"#, "/data/invoices"),
            (#"{"invoices": [{"issue_date": "2026-11-01", "due_date": "2026-10-01"}]}"#, "/data/invoices/0/issue_date"),
            (#"{"payment": {"amount": "10.00", "date": "2026-11-01"}}"#, "/data/payment/amount"),
            (#"{"invoices": [\#(invoice)], "total_due": {"amount": "1.00", "currency": "EUR"}}"#, "/data/total_due"),
            (#"{"invoices": [\#(invoice)], "total_due": {"amount": "60.00", "currency": "USD"}}"#, "/data/total_due"),
        ])
    func refused(json: String, pointer: String) throws {
        let errors = MessageContext.check(data: try JSONValue.parse(json), pointer: "/data")
        #expect(errors.map(\.pointer) == [pointer], "\(errors)")
    }

    @Test("the balances add up to the total; the amount counts when there is no balance")
    func consistent() throws {
        let json =
            #"{"invoices": [\#(Self.invoice), {"number": "F-2", "amount": {"amount": "40.00", "currency": "EUR"}}], "#
            + #""total_due": {"amount": "100.00", "currency": "EUR"}, "#
            + #""payment": {"amount": {"amount": "5.00", "currency": "EUR"}, "date": "2026-11-01"}}"#
        #expect(MessageContext.check(data: try JSONValue.parse(json), pointer: "/data") == [])
    }
}
