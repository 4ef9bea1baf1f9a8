import Foundation
import RelanceCore

/// The rules for an amount of money, shared by every door that takes one (job data,
/// invoices, payments): what `MessageContext.check` applies inside job data.
public enum MoneyRules {
    /// Why `value` in `currency` cannot be taken (an invoice, a payment), or nil: an active
    /// ISO 4217 code, more than zero, below 10^15, no more decimals than the currency takes
    /// (counted on the value: `12.505` has three, `1250.00` none).
    public static func problem(value: Decimal, currency: String) -> String? {
        guard Money.isCurrencyCode(currency) else {
            return "'\(currency)' is not an active ISO 4217 currency code such as \"EUR\""
        }
        if value <= 0 { return "must be more than zero" }
        if value >= Money.largestAmount { return "must be below 10^15" }
        var compact = value
        NSDecimalCompact(&compact)
        let decimals = max(0, -Int(compact.exponent))
        if let digits = Money.minorUnits[currency], decimals > digits {
            return "\(compact) has more decimals than \(currency) takes (\(digits))"
        }
        return nil
    }

    /// Years a business date (an invoice's issue and due dates, a payment) may fall in.
    public static let dateYears = 1990...2999

    /// Why `text` cannot be a business date, or nil: a real `YYYY-MM-DD` day in `dateYears`.
    public static func dateProblem(_ text: String) -> String? {
        guard let day = MessageContext.calendarDay(text) else { return "'\(text)' is not a real YYYY-MM-DD day" }
        guard dateYears.contains(day.year) else {
            return "'\(text)' is outside the years \(dateYears.lowerBound) to \(dateYears.upperBound)"
        }
        return nil
    }
}
