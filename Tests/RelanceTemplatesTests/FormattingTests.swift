import Foundation
import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("Dates and amounts as templates show them")
struct FormattingTests {
    @Test(
        "days since 1970 by arithmetic",
        arguments: [
            ((1970, 1, 1), 0), ((1969, 12, 31), -1), ((2000, 2, 29), 11016), ((2000, 3, 1), 11017),
            ((2026, 11, 23), 20780), ((1600, 1, 1), -135140), ((2100, 3, 1), 47541), ((9999, 12, 31), 2_932_896),
        ])
    func daysSinceEpoch(day: (Int, Int, Int), expected: Int) {
        #expect(CivilDate(year: day.0, month: day.1, day: day.2).daysSinceEpoch == expected)
    }

    @Test("every fifth day from 1600 to 2400 is the instant Foundation's calendar gives")
    func matchesCalendar() throws {
        var checked = 0
        for days in stride(from: -135_140, through: 156_000, by: 5) {
            let date = Date(timeIntervalSince1970: Double(days) * 86400)
            let parts = LocalDate.calendar.dateComponents([.year, .month, .day], from: date)
            let iso = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
            let local = try #require(LocalDate(iso: iso, locale: Locale(identifier: "fr-FR")))
            #expect(local.date == date, "\(iso)")
            checked += 1
        }
        #expect(checked > 58_000)
    }

    @Test("before 1600 the date still comes from Foundation's calendar (Julian before October 1582)")
    func early() throws {
        let local = try #require(LocalDate(iso: "1500-03-01", locale: Locale(identifier: "en-GB")))
        let expected = LocalDate.calendar.date(from: DateComponents(year: 1500, month: 3, day: 1))
        #expect(local.date == expected)
    }

    @Test("an amount is formatted once however often a template shows it, and equality ignores that")
    func moneyOnce() {
        let money = Money(amount: Decimal(string: "1250.5")!, currency: "EUR", locale: Locale(identifier: "fr-FR"))
        let twin = Money(amount: Decimal(string: "1250.5")!, currency: "EUR", locale: Locale(identifier: "fr-FR"))
        #expect(money.renderText == "1\u{202F}250,50\u{A0}€")
        #expect(money.renderText == twin.renderText)
        #expect(money == twin)
        #expect(money != Money(amount: 1, currency: "EUR", locale: Locale(identifier: "fr-FR")))
    }
}
