import Foundation
import RelanceStore

/// Outstanding amounts by age: how long past its due date each open balance is, in the
/// five bands credit managers use. Pure.
public struct Aging: Sendable, Equatable {
    public enum Band: Int, Sendable, CaseIterable {
        case notDue, days1to30, days31to60, days61to90, over90

        /// The band of a balance `days` past due (negative or zero: not yet due).
        public static func of(daysLate days: Int) -> Band {
            switch days {
            case ...0: return .notDue
            case 1...30: return .days1to30
            case 31...60: return .days31to60
            case 61...90: return .days61to90
            default: return .over90
            }
        }
    }

    /// Currency → amount and invoice count in each band, in `Band` order.
    public var amounts: [String: [Decimal]]
    public var counts: [String: [Int]]

    /// `today` is `YYYY-MM-DD`; a due date that is not a date counts as not yet due, so
    /// that nothing is dropped silently (the row rules refuse such dates at the door).
    public init(_ balances: [OpenBalance], today: String) {
        var amounts: [String: [Decimal]] = [:]
        var counts: [String: [Int]] = [:]
        let todayDay = Self.dayNumber(today)
        for balance in balances {
            var band = Band.notDue
            if let todayDay, let due = Self.dayNumber(balance.dueDate) { band = .of(daysLate: todayDay - due) }
            amounts[balance.currency, default: Array(repeating: 0, count: Band.allCases.count)][band.rawValue] +=
                balance.balance
            counts[balance.currency, default: Array(repeating: 0, count: Band.allCases.count)][band.rawValue] += 1
        }
        self.amounts = amounts
        self.counts = counts
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian), or nil.
    static func dayNumber(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1
        else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        // Howard Hinnant's days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
