import Foundation
import RelanceCore

/// The company sending the reminders, from configuration; shown in signatures and footers.
public struct Creditor: Sendable, Hashable {
    public var name: String
    public var email: String
    public var phone: String
    public var website: String
    public var address: [String]
    public var registration: String
    public var iban: String
    public var bic: String
    /// The country whose late-payment law applies (`creditor.jurisdiction`, `LatePaymentLaw`).
    public var jurisdiction: String

    public init(
        name: String = "", email: String = "", phone: String = "", website: String = "", address: [String] = [],
        registration: String = "", iban: String = "", bic: String = "",
        jurisdiction: String = LatePaymentLaw.defaultCode
    ) {
        self.jurisdiction = jurisdiction
        self.name = name
        self.email = email
        self.phone = phone
        self.website = website
        self.address = address
        self.registration = registration
        self.iban = iban
        self.bic = bic
    }

    /// Whether a field holds a line break.
    var hasLineBreaks: Bool {
        ([name, email, phone, website, registration, iban, bic] + address).contains {
            $0.contains(where: \.isNewline)
        }
    }
}

/// How long a payer has to pay from the day a message is dated: `templates.deadline_days`
/// (default 8). A `payment_deadline` in the data must be at least that far ahead, or the
/// message (a formal notice demanding payment "by 1 January 2020") is refused; without
/// one, the message gets the earliest allowed day, computed when it is sent.
public struct PaymentDeadline: Sendable, Equatable {
    public static let defaultDays = 8
    public static let allowedDays = 1...365
    public let days: Int

    public init(days: Int = defaultDays) { self.days = days }

    /// `today` (YYYY-MM-DD) plus `days`.
    public func earliest(after today: String) -> String {
        guard let day = Scenario.day(today) else { return today }
        return Scenario.format(day.addingTimeInterval(Double(days) * 86_400))
    }

    /// Why `value` cannot be the deadline of a message dated `today`; nil when it can, or
    /// is absent (a malformed date is the date rules' to report).
    public func problem(_ value: JSONValue?, today: String) -> String? {
        guard case .string(let text)? = value, Scenario.day(text) != nil else { return nil }
        let earliest = earliest(after: today)
        guard text < earliest else { return nil }
        return "\(text) leaves the payer less than \(days) days from \(today), the message's date "
            + "(templates.deadline_days): give \(earliest) or later, or leave it out to get that day"
    }
}

/// Builds the variables a template sees (documented in docs/TEMPLATES.md) from a
/// payer, the creditor and the job's JSON data.
public enum MessageContext {
    /// Upper bound on job data, so a hostile row cannot make rendering explode.
    public static let maximumDataBytes = EnqueueRequest.maximumDataBytes

    /// Invoice numbers for a subject line or a transfer's remittance information: at most
    /// three, then "et 57 autres" / "and 57 more", and never over 140 characters (what a
    /// SEPA transfer carries).
    static func briefList(_ numbers: [String], wording: Wording, limit: Int = 140) -> String {
        func text(_ shown: Int) -> String {
            let head = numbers.prefix(shown).joined(separator: ", ")
            let rest = numbers.count - shown
            guard rest > 0 else { return head }
            return head + wording.andMore(rest)
        }
        var shown = min(numbers.count, 3)
        while shown > 1 && text(shown).count > limit { shown -= 1 }
        let result = text(shown)
        return result.count > limit ? String(result.prefix(limit - 1)) + "…" : result
    }

    /// The `required` fields of `message` missing from `data` (null, or an empty list of
    /// invoices, counts as missing). With `exemptingInvoiceRef`, a job about a registered
    /// invoice (a non-empty `invoice_ref`) is not checked: it gets its invoices and total
    /// from the invoice when it is sent.
    public static func missingFields(
        _ required: [String], of message: String, in data: JSONValue, pointer: String,
        exemptingInvoiceRef: Bool = true
    ) -> [FieldError] {
        guard !required.isEmpty, case .object(let fields) = data else { return [] }
        if exemptingInvoiceRef, case .string(let ref)? = fields[Invoice.dataKey], !ref.isEmpty { return [] }
        return required.compactMap { name in
            switch fields[name] {
            case .none, .some(.null):
                return FieldError("\(pointer)/\(name)", "is required for '\(message)' (docs/TEMPLATES.md, Data fields)")
            case .some(.array(let items)) where name == "invoices" && items.isEmpty:
                return FieldError("\(pointer)/\(name)", "must list at least one invoice")
            default:
                return nil
            }
        }
    }

    /// The template context for `data`. `required`: the message's required data fields
    /// (`Templates/required-data.json`); with them, the data must also follow the
    /// conventions enqueue checks (amounts, dates), so a row written by SQL is held to the
    /// same rules as one that came through the CLI or the API.
    public static func build(
        payer: PayerProfile, creditor: Creditor, caseRef: String?, data: String, today: Date,
        required: [String]? = nil, message: String = "", deadlineDays: Int? = PaymentDeadline.defaultDays,
        language: MessageLanguage? = nil
    ) throws -> [String: Any] {
        guard data.utf8.count <= maximumDataBytes else {
            throw TemplateError.data("data is \(data.utf8.count) bytes, more than the \(maximumDataBytes) allowed")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw TemplateError.data("data is not valid JSON: \((error as? JSONParseError)?.message ?? "\(error)")")
        }
        guard case .object(var fields) = json else {
            throw TemplateError.data("data must be a JSON object, not \(json.jsonText.prefix(40))")
        }
        if let required {
            let problems =
                check(data: json, pointer: "/data") + missingFields(required, of: message, in: json, pointer: "/data")
            if !problems.isEmpty {
                throw TemplateError.data(problems.map(\.description).joined(separator: "; "))
            }
        }
        let language =
            language
            ?? MessageLanguage(
                textLocale: payer.locale, payerLocale: payer.locale,
                wording: Wording.builtIn[MessageLanguage.language(of: payer.locale)] ?? .english)
        let locale = Locale(identifier: language.formatLocale)
        let todayISO = Timestamp.isoDate(of: today, in: TimeZone(identifier: payer.timezone) ?? LocalDate.utc)
        let todayDate = LocalDate(iso: todayISO, locale: locale)!
        // The payer gets time to pay: a stated deadline is at least `deadlineDays` after the
        // message's date, and one left out is that day (docs/TEMPLATES.md). Without
        // `deadlineDays` (sample data, rendered by `templates check`) a stated one is kept.
        let deadline = PaymentDeadline(days: deadlineDays ?? PaymentDeadline.defaultDays)
        if deadlineDays != nil, let problem = deadline.problem(fields["payment_deadline"], today: todayISO) {
            throw TemplateError.data("/data/payment_deadline: \(problem)")
        }
        if fields["payment_deadline"] == nil || fields["payment_deadline"] == .null {
            fields["payment_deadline"] = .string(deadline.earliest(after: todayISO))
        }

        var context: [String: Any] = [:]
        for (key, value) in fields {
            context[key] = try convert(value, path: "data/\(key)", locale: locale, today: todayDate)
        }
        if let invoices = fields["invoices"]?.arrayValue {
            context["invoice_count"] = invoices.count
            let numbers = invoices.compactMap { $0["number"]?.stringValue }
            context["invoice_numbers"] = TemplateText(Self.briefList(numbers, wording: language.wording))
            context["invoice_numbers_all"] = TemplateText(numbers.joined(separator: ", "))
        }
        context["payer"] =
            [
                "ref": TemplateText(payer.ref), "name": TemplateText(payer.name),
                "segment": TemplateText(payer.segment), "locale": TemplateText(payer.locale),
                "is_business": payer.kind == .business, "kind": TemplateText(payer.kind.rawValue),
            ] as [String: Any]
        context["creditor"] = creditorContext(creditor)
        if let caseRef, !caseRef.isEmpty { context["case_ref"] = TemplateText(caseRef) }
        context["today"] = todayDate
        addLatePaymentLaw(to: &context, payer: payer, creditor: creditor, locale: locale)
        return context
    }

    /// What templates see as `creditor`.
    static func creditorContext(_ creditor: Creditor) -> [String: Any] {
        // Empty values are left out: Mustache treats "" as true in a section, so a
        // template's `{{#creditor.phone}}Tel: {{.}}{{/creditor.phone}}` would print "Tel: ".
        var fields: [String: Any] = [:]
        for (key, value) in [
            ("name", creditor.name), ("email", creditor.email), ("phone", creditor.phone),
            ("website", creditor.website),
            ("registration", creditor.registration), ("iban", creditor.iban), ("bic", creditor.bic),
        ] where !value.isEmpty {
            fields[key] = TemplateText(value)
        }
        if !creditor.address.isEmpty { fields["address"] = creditor.address.map(TemplateText.init) }
        return fields
    }

    static func convert(_ value: JSONValue, path: String, locale: Locale, today: LocalDate) throws -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n): return TemplateText(n)
        case .string(let s):
            if s.isEmpty { return NSNull() }
            if let date = LocalDate(iso: s, locale: locale) { return date }
            if looksLikeDate(s) { throw TemplateError.data("\(path): \(Problem.date(s))") }
            return TemplateText(s)
        case .array(let items):
            var out: [Any] = []
            for (i, item) in items.enumerated() {
                out.append(try convert(item, path: "\(path)/\(i)", locale: locale, today: today))
            }
            return out
        case .object(let fields):
            if let amountValue = fields["amount"], let currencyValue = fields["currency"], fields.count == 2 {
                let amountText: String
                switch amountValue {
                case .string(let s): amountText = s
                case .number(let n): amountText = n
                default: throw TemplateError.data("\(path)/amount: \(Problem.amountNotText)")
                }
                guard let amount = Money.parseAmount(amountText) else {
                    throw TemplateError.data("\(path)/amount: \(Problem.amount(amountText))")
                }
                guard let currency = currencyValue.stringValue, Money.isCurrencyCode(currency) else {
                    throw TemplateError.data("\(path)/currency: \(Problem.currency(currencyValue))")
                }
                return Money(amount: amount, currency: currency, locale: locale)
            }
            var out: [String: Any] = [:]
            for (key, item) in fields {
                out[key] = try convert(item, path: "\(path)/\(key)", locale: locale, today: today)
            }
            if let due = out["due_date"] as? LocalDate {
                let days = due.days(until: today)
                if out["days_overdue"] == nil { out["days_overdue"] = max(days, 0) }
                if out["days_until_due"] == nil { out["days_until_due"] = max(-days, 0) }
                if out["is_overdue"] == nil { out["is_overdue"] = days > 0 }
            }
            return out
        }
    }

    /// Checks job data against the conventions `build` applies (amounts, currencies,
    /// dates, size, depth) without formatting anything: cheap enough for every enqueue.
    /// `pointer` is the JSON pointer of the data in the request, e.g. `/data` or `/3/data`.
    public static func check(data: JSONValue, pointer: String) -> [FieldError] {
        guard case .object(let fields) = data else { return [FieldError(pointer, "must be a JSON object")] }
        var errors: [FieldError] = []
        var path: [String] = []
        check(data, base: pointer, path: &path, into: &errors)
        if errors.isEmpty { errors += invoiceErrors(fields, pointer: pointer) }
        if let problem = linkProblem(fields["payment_link"]) {
            errors.append(FieldError("\(pointer)/payment_link", problem))
        }
        return errors
    }

    /// `payment_link` goes into an `href` the payer clicks: an `https://` address (or
    /// `http://`), nothing a mail reader would run (`javascript:`, `data:`) or read
    /// another way (spaces, control characters, quotes, angle brackets).
    static func linkProblem(_ value: JSONValue?) -> String? {
        switch value {
        case .none, .null: return nil
        case .string(let link):
            if link.isEmpty { return nil }  // no link: the templates show none
            let lower = link.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
                return "must be an https:// address (a payment page), not '\(link.prefix(30))'"
            }
            if link.utf8.count > 2000 { return "must be at most 2,000 bytes" }
            if link.unicodeScalars.contains(where: {
                $0.value <= 0x20 || $0.value == 0x7F || "\"'<>\\`".unicodeScalars.contains($0)
            }) {
                return "must not contain spaces, control characters, quotes or angle brackets"
            }
            return nil
        default: return "must be an https:// address as a string"
        }
    }

    /// The invoices of a message and its total, against each other: each invoice an object
    /// whose number is one line of text and whose issue date is not after its due date; one
    /// currency; `total_due` the sum of the balances (a notice demanding 1,00 € while
    /// listing 6 386 € of invoices would be a wrong legal demand).
    static func invoiceErrors(_ fields: [String: JSONValue], pointer: String) -> [FieldError] {
        guard let value = fields["invoices"] else { return [] }
        guard case .array(let items) = value else {
            return value == .null ? [] : [FieldError("\(pointer)/invoices", "must be a list of invoice objects")]
        }
        var errors: [FieldError] = []
        var sum = Decimal(0)
        var currencies: Set<String> = []
        for (index, item) in items.enumerated() {
            let at = "\(pointer)/invoices/\(index)"
            guard case .object(let invoice) = item else {
                errors.append(
                    FieldError(at, "must be an invoice object {number, issue_date, due_date, amount, balance}"))
                continue
            }
            switch invoice["number"] {
            case .none, .null: break
            case .string(let number) where !number.isEmpty && !TextRules.hasControl(number): break
            default:
                errors.append(
                    FieldError("\(at)/number", "must be one line of text (no line break or control character)"))
            }
            if case .string(let issued)? = invoice["issue_date"], case .string(let due)? = invoice["due_date"],
                issued > due
            {
                errors.append(FieldError("\(at)/issue_date", "'\(issued)' is after the due date '\(due)'"))
            }
            for key in ["amount", "balance"] {
                if let money = moneyValue(invoice[key]) { currencies.insert(money.currency) }
            }
            if let money = moneyValue(invoice["balance"]) ?? moneyValue(invoice["amount"]) { sum += money.amount }
        }
        guard errors.isEmpty, let total = moneyValue(fields["total_due"]) else { return errors }
        currencies.insert(total.currency)
        if currencies.count > 1 {
            return [
                FieldError(
                    "\(pointer)/total_due",
                    "the invoices and the total are in several currencies (\(currencies.sorted().joined(separator: ", "))): one message, one currency"
                )
            ]
        }
        if !items.isEmpty, sum != total.amount {
            let digits = Money.minorUnits[total.currency] ?? 2
            let written = fields["total_due"]?.objectValue?["amount"]?.stringValue ?? "\(total.amount)"
            return [
                FieldError(
                    "\(pointer)/total_due",
                    "is \(written) \(total.currency) but the invoices' balances add up to "
                        + "\(Invoice.text(sum, decimals: digits)) \(total.currency)")
            ]
        }
        return []
    }

    /// A Money object already checked by `check`, as a number and a currency.
    static func moneyValue(_ value: JSONValue?) -> (amount: Decimal, currency: String)? {
        guard case .object(let money)? = value, let text = money["amount"]?.stringValue,
            let currency = money["currency"]?.stringValue, let amount = Money.parseAmount(text)
        else { return nil }
        return (amount, currency)
    }

    /// Keys whose value is an amount of money, wherever they are in the data.
    static let moneyKeys: Set<String> = ["amount", "balance", "total_due", "overdue_total"]

    /// Walks the data keeping the path as components; a pointer string is built only
    /// for an error (this runs for every job of every batch).
    static func check(_ value: JSONValue, base: String, path: inout [String], into errors: inout [FieldError]) {
        func pointer(_ last: String? = nil) -> String {
            base + (path + (last.map { [$0] } ?? [])).map { "/" + $0 }.joined()
        }
        // A field named as a date is a date string, and one named as an amount a Money
        // object: anything else would print as a program's dump ("["date": …]").
        if let key = path.last, value != .null {
            if isDateKey(key), value.stringValue == nil {
                errors.append(FieldError(pointer(), Problem.dateNotText))
                return
            }
            if moneyKeys.contains(key), !isMoneyShape(value) {
                // `payment.amount` is Money; so is every amount, balance and total.
                errors.append(FieldError(pointer(), Problem.moneyShape))
                return
            }
        }
        switch value {
        case .null, .bool, .number:
            return
        case .string(let s):
            if let key = path.last, isDateKey(key) {
                // A field named as a date is one, whatever it looks like: "9999-12-31T99:99"
                // or "2026-W05-1" would otherwise be printed as given; and a business date,
                // so "9999-12-31" is no deadline.
                if !isCalendarDate(s) {
                    errors.append(FieldError(pointer(), Problem.date(s)))
                } else if let problem = MoneyRules.dateProblem(s) {
                    errors.append(FieldError(pointer(), problem))
                }
            } else if looksLikeDate(s) && !isCalendarDate(s) {
                errors.append(FieldError(pointer(), Problem.date(s)))
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                path.append(String(i))
                check(item, base: base, path: &path, into: &errors)
                path.removeLast()
            }
        case .object(let fields):
            if fields["currency"] != nil, !isMoneyShape(value) {
                errors.append(FieldError(pointer(), Problem.moneyShape))
                return
            }
            if let amountValue = fields["amount"], let currencyValue = fields["currency"], fields.count == 2 {
                let currency = currencyValue.stringValue.flatMap { Money.isCurrencyCode($0) ? $0 : nil }
                // Decimal strings only: a JSON number (12.5) may already have lost digits.
                if let amountText = amountValue.stringValue {
                    if !Money.isAmount(amountText) {
                        errors.append(FieldError(pointer("amount"), Problem.amount(amountText)))
                    } else if amountText.hasPrefix("-") {
                        errors.append(FieldError(pointer("amount"), Problem.negative(amountText)))
                    } else if let currency, let digits = Money.minorUnits[currency],
                        Money.fractionDigits(amountText) > digits
                    {
                        // "12.505" EUR would print as 12,50 €: refused, not rounded.
                        errors.append(
                            FieldError(pointer("amount"), Problem.minorUnits(amountText, currency, digits)))
                    }
                } else {
                    errors.append(FieldError(pointer("amount"), Problem.amountNotText))
                }
                if currency == nil {
                    errors.append(FieldError(pointer("currency"), Problem.currency(currencyValue)))
                }
                return
            }
            for (key, item) in fields {
                path.append(key)
                check(item, base: base, path: &path, into: &errors)
                path.removeLast()
            }
        }
    }

    /// A real day of the proleptic Gregorian calendar, `YYYY-MM-DD`, year 1 or later.
    static func isCalendarDate(_ s: String) -> Bool {
        calendarDay(s) != nil
    }

    /// The year, month and day of a real `YYYY-MM-DD` day, read on bytes (this runs for
    /// every date of every job); nil for anything else.
    static func calendarDay(_ s: String) -> (year: Int, month: Int, day: Int)? {
        guard looksLikeDate(s) else { return nil }
        let b = Array(s.utf8).map { Int($0) - 48 }
        let (year, month, day) = (b[0] * 1000 + b[1] * 100 + b[2] * 10 + b[3], b[5] * 10 + b[6], b[8] * 10 + b[9])
        guard year >= 1, (1...12).contains(month) else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day) ? (year, month, day) : nil
    }

    /// The words of the data rules, shared by `check` (enqueue) and `build` (dispatch).
    enum Problem {
        static let amountNotText = "expected a decimal string such as \"1250.00\""
        static func amount(_ text: String) -> String {
            "'\(text)' is not a decimal amount (write it like \"1250.00\", below 10^15)"
        }
        static func currency(_ value: JSONValue) -> String {
            "\(value.jsonText) is not an active ISO 4217 currency code such as \"EUR\""
        }
        static func date(_ text: String) -> String { "'\(text)' is not a valid calendar date (YYYY-MM-DD)" }
        static let dateNotText = "expected a date string such as \"2026-11-23\""
        static let moneyShape =
            "expected a Money object {\"amount\": \"1250.00\", \"currency\": \"EUR\"} and nothing else"
        static func negative(_ text: String) -> String {
            "'\(text)' is negative: an amount in a reminder is what is owed, never less than zero"
        }
        static func minorUnits(_ text: String, _ currency: String, _ digits: Int) -> String {
            "'\(text)' has more decimals than \(currency) takes (\(digits)): write it to the \(digits == 0 ? "unit" : "cent")"
        }
    }

    /// An object of exactly `amount` and `currency` (their values are checked apart).
    static func isMoneyShape(_ value: JSONValue) -> Bool {
        guard case .object(let fields) = value else { return false }
        return fields.count == 2 && fields["amount"] != nil && fields["currency"] != nil
    }

    /// Fields whose value is a day: `due_date`, `issue_date`, `date`, `payment_deadline`, ….
    static func isDateKey(_ key: String) -> Bool {
        key == "date" || key.hasSuffix("_date") || key.hasSuffix("_deadline")
    }

    static func looksLikeDate(_ s: String) -> Bool {
        s.utf8.count == 10
            && s.utf8.enumerated().allSatisfy { i, c in
                (i == 4 || i == 7) ? c == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
            }
    }
}
