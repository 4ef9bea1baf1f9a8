import Foundation
import Mustache
import RelanceCore
import Synchronization

/// A text of the context (job data, payer, creditor) as templates see it: shown as it
/// is, escaped in HTML parts like any value. swift-mustache renders a value it can cast
/// to `MustacheCustomRenderable` at once; a plain `String` went through three failed
/// protocol casts and `String(describing:)` first, for every variable of every message.
///
/// Values are `MustacheParent`s with the children they document (none for a text): a
/// name looked up while a value is the innermost section's context (`{{#creditor.iban}}
/// … {{invoice_numbers}} …`) is answered by `child(named:)` instead of swift-mustache
/// reflecting the value with `Mirror` at every level of every lookup.
public struct TemplateText: MustacheCustomRenderable, MustacheParent, Sendable, Equatable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var renderText: String { value }
    public var isNull: Bool { false }
    public var description: String { value }
    public func child(named: String) -> Any? { nil }
}

/// An amount of money in the payer's locale. `{{total_due}}` renders "1 250,00 €";
/// `{{total_due.amount}}` and `{{total_due.currency}}` give the raw parts.
public struct Money: MustacheCustomRenderable, MustacheParent, Sendable, Equatable {
    public let amount: Decimal
    public let currency: String
    public let locale: Locale
    /// The text, formatted the first time a template shows it: a total shows in the
    /// subject, the text and the HTML part, and ICU formatting is the costly part.
    private let text = FormattedOnce()

    /// Written without decimals ("40 €", "£100"): a sum the law states in whole units.
    let wholeUnits: Bool

    public init(amount: Decimal, currency: String, locale: Locale, wholeUnits: Bool = false) {
        self.amount = amount
        self.currency = currency
        self.locale = locale
        self.wholeUnits = wholeUnits
    }

    public var renderText: String {
        text.value {
            let style = Decimal.FormatStyle.Currency(code: currency).locale(locale)
            return wholeUnits
                ? amount.formatted(style.precision(.fractionLength(0))) : amount.formatted(style)
        }
    }

    public func child(named name: String) -> Any? {
        switch name {
        case "amount": TemplateText("\(amount)")
        case "currency": TemplateText(currency)
        default: nil
        }
    }

    public static func == (lhs: Money, rhs: Money) -> Bool {
        lhs.amount == rhs.amount && lhs.currency == rhs.currency && lhs.locale == rhs.locale
    }
    public var isNull: Bool { false }

    /// Active ISO 4217 codes, as ICU knows them (EUR, GBP, CHF, XOF, …).
    static let currencyCodes = Set(Locale.commonISOCurrencyCodes)

    static func isCurrencyCode(_ s: String) -> Bool {
        s.count == 3 && currencyCodes.contains(s)
    }

    /// Digits after the decimal point each currency takes (ISO 4217 minor units, as ICU
    /// knows them: EUR 2, JPY 0, BHD 3).
    static let minorUnits: [String: Int] = {
        var units: [String: Int] = [:]
        for code in currencyCodes {
            // ICU writes 1.5 with the currency's own number of decimals: "€1.50", "¥2", "BHD 1.500".
            let text = Decimal(string: "1.5")!.formatted(.currency(code: code).locale(posix))
            let digits = text.split(separator: ".").last.map { $0.prefix { $0.isNumber }.count } ?? 0
            units[code] = text.contains(".") ? digits : 0
        }
        return units
    }()

    /// Digits after the decimal point in an amount's text.
    static func fractionDigits(_ text: String) -> Int {
        guard let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")) else { return 0 }
        return text.utf8.distance(from: dot, to: text.utf8.endIndex) - 1
    }

    static let posix = Locale(identifier: "en_US_POSIX")

    /// No invoice comes near this; beyond it Decimal starts to lose digits.
    static let largestAmount = Decimal(string: "1000000000000000")!

    /// True when `parseAmount` accepts the text, found without building the Decimal
    /// (enqueue checks every amount of every job): digits with at most one '.', an
    /// optional leading '-', under 10^15.
    static func isAmount(_ text: String) -> Bool {
        var digits = 0
        var integerDigits = 0
        var seenDot = false
        var leadingZeros = true
        for (i, b) in text.utf8.enumerated() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                if !seenDot {
                    if b != UInt8(ascii: "0") { leadingZeros = false }
                    if !leadingZeros { integerDigits += 1 }
                }
            case UInt8(ascii: "."):
                if seenDot { return false }
                seenDot = true
            case UInt8(ascii: "-") where i == 0: break
            default: return false
            }
        }
        return digits > 0 && integerDigits <= 15
    }

    /// Parses a decimal amount written as text ("1250.00", "-3.5"): never through Double.
    static func parseAmount(_ text: String) -> Decimal? {
        // The form checked on bytes first; Decimal's own reading still bounds the value.
        guard isAmount(text), let value = Decimal(string: text, locale: posix), abs(value) < largestAmount
        else { return nil }
        return value
    }
}

/// A text computed once, on first use, by whichever thread asks first.
final class FormattedOnce: Sendable {
    private let text = Mutex<String?>(nil)

    func value(_ make: () -> String) -> String {
        if let text = text.withLock({ $0 }) { return text }
        let made = make()
        text.withLock { $0 = made }
        return made
    }
}

/// A calendar date (no time of day) shown as a long date in the payer's locale:
/// "15 octobre 2026", "15 October 2026". `{{due_date.iso}}` gives `2026-10-15`.
public struct LocalDate: MustacheCustomRenderable, MustacheParent, Sendable, Equatable {
    public let iso: String
    let date: Date
    let locale: Locale

    static let utc = TimeZone(identifier: "UTC")!
    /// Built once: creating a Calendar for every date of every message shows in profiles.
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        return calendar
    }()

    init?(iso: String, locale: Locale) {
        // The same rule as the enqueue-time check, so that what was accepted renders.
        guard let day = MessageContext.calendarDay(iso) else { return nil }
        let date: Date
        if day.year >= 1600 {
            // Midnight UTC by arithmetic: Calendar's date(from:) was most of the cost of
            // reading the dates of a message (the e-mail benchmark reads five a message).
            let civil = CivilDate(year: day.year, month: day.month, day: day.day)
            date = Date(timeIntervalSince1970: Double(civil.daysSinceEpoch) * 86400)
        } else {
            // Foundation's Gregorian calendar is Julian before October 1582.
            guard
                let julian = Self.calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
            else { return nil }
            date = julian
        }
        self.iso = iso
        self.date = date
        self.locale = locale
    }

    /// Long dates already written, by locale and day: a day's text never changes, and
    /// the messages of a run share few days. Bounded, as payers bring their locales.
    static let written = Mutex<[String: String]>([:])

    public var renderText: String {
        let key = locale.identifier + "\u{0}" + iso
        if let text = Self.written.withLock({ $0[key] }) { return text }
        let text = longDate()
        Self.written.withLock { written in
            if written.count >= 4096 { written.removeAll() }
            written[key] = text
        }
        return text
    }

    static let firstOrdinals = ["fr": "1er", "it": "1°"]

    func longDate() -> String {
        var style = Date.FormatStyle(date: .long, time: .omitted, locale: locale, timeZone: Self.utc)
        style.calendar = Self.calendar
        let text = date.formatted(style)
        // French and Italian write the first day of a month as an ordinal: "1er novembre
        // 2026", "1° novembre 2026".
        if text.hasPrefix("1 "), let ordinal = Self.firstOrdinals[locale.language.languageCode?.identifier ?? ""] {
            return ordinal + " " + text.dropFirst(2)
        }
        return text
    }
    public var isNull: Bool { false }
    public func child(named name: String) -> Any? { name == "iso" ? TemplateText(iso) : nil }

    /// Whole days from `self` to `other` (positive when `other` is later).
    func days(until other: LocalDate) -> Int {
        Int((other.date.timeIntervalSince(date) / 86400).rounded())
    }
}
