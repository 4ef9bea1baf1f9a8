/// A public holiday on a given local date of some year.
public struct Holiday: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var month: Int
    public var day: Int
    public var name: String

    public init(month: Int, day: Int, name: String) {
        self.month = month
        self.day = day
        self.name = name
    }

    public var description: String { "\(CivilDate.twoDigits(month))-\(CivilDate.twoDigits(day)) \(name)" }
}

/// Which public holidays close a send window. Holidays are decided on the payer's local date.
public enum HolidayCalendar: String, Sendable, Equatable, Hashable, CaseIterable {
    /// No holiday: only the days and hours of the window count.
    case none
    /// The eleven public holidays of metropolitan France.
    case fr
    /// France plus Good Friday and St Stephen's Day (26 December), as in Alsace and Moselle.
    case frAlsaceMoselle = "fr-alsace-moselle"

    /// Whether the local date `year`-`month`-`day` is a holiday of this calendar.
    public func isHoliday(year: Int, month: Int, day: Int) -> Bool {
        if self == .none { return false }
        return holidays(in: year).contains { $0.month == month && $0.day == day }
    }

    /// The holidays of `year`, sorted by date. Two holidays may share a date (Ascension falls on
    /// 1 May in 2008); both are listed.
    public func holidays(in year: Int) -> [Holiday] {
        switch self {
        case .none:
            return []
        case .fr:
            return Self.french(in: year, alsaceMoselle: false)
        case .frAlsaceMoselle:
            return Self.french(in: year, alsaceMoselle: true)
        }
    }

    /// The month and day of Easter Sunday in the Gregorian year `year`, by the anonymous
    /// Gregorian algorithm (Meeus/Jones/Butcher).
    public static func easterSunday(in year: Int) -> (month: Int, day: Int) {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let n = h + l - 7 * m + 114
        return (month: n / 31, day: n % 31 + 1)
    }

    private static func french(in year: Int, alsaceMoselle: Bool) -> [Holiday] {
        let sunday = easterSunday(in: year)
        let easter = CivilDate(year: year, month: sunday.month, day: sunday.day)
        func afterEaster(_ days: Int, _ name: String) -> Holiday {
            let date = easter.adding(days: days)
            return Holiday(month: date.month, day: date.day, name: name)
        }
        var list = [
            Holiday(month: 1, day: 1, name: "New Year's Day"),
            afterEaster(1, "Easter Monday"),
            Holiday(month: 5, day: 1, name: "Labour Day"),
            Holiday(month: 5, day: 8, name: "Victory in Europe Day"),
            afterEaster(39, "Ascension Day"),
            afterEaster(50, "Whit Monday"),
            Holiday(month: 7, day: 14, name: "Bastille Day"),
            Holiday(month: 8, day: 15, name: "Assumption Day"),
            Holiday(month: 11, day: 1, name: "All Saints' Day"),
            Holiday(month: 11, day: 11, name: "Armistice Day"),
            Holiday(month: 12, day: 25, name: "Christmas Day"),
        ]
        if alsaceMoselle {
            list.append(afterEaster(-2, "Good Friday"))
            list.append(Holiday(month: 12, day: 26, name: "St Stephen's Day"))
        }
        // A stable sort by date keeps the order above for holidays sharing a date.
        return list.enumerated()
            .sorted { ($0.element.month, $0.element.day, $0.offset) < ($1.element.month, $1.element.day, $1.offset) }
            .map(\.element)
    }
}

/// A date of the proleptic Gregorian calendar, with exact day arithmetic and no time zone.
public struct CivilDate: Sendable, Equatable, Hashable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// 1970-01-01 was a Thursday.
    var weekday: Weekday {
        let index = ((daysSinceEpoch % 7) + 7 + 3) % 7
        return Weekday.allCases[index]
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
