import RelanceCore
import Testing

@Suite("Holidays")
struct HolidayTests {
    struct EasterCase: Sendable, CustomTestStringConvertible {
        var year: Int
        var easter: String
        var goodFriday: String
        var easterMonday: String
        var ascension: String
        var whitMonday: String
        var testDescription: String { "\(year)" }
    }

    static let easterCases: [EasterCase] = [
        EasterCase(
            year: 2024, easter: "03-31", goodFriday: "03-29", easterMonday: "04-01", ascension: "05-09",
            whitMonday: "05-20"),
        EasterCase(
            year: 2025, easter: "04-20", goodFriday: "04-18", easterMonday: "04-21", ascension: "05-29",
            whitMonday: "06-09"),
        EasterCase(
            year: 2026, easter: "04-05", goodFriday: "04-03", easterMonday: "04-06", ascension: "05-14",
            whitMonday: "05-25"),
        EasterCase(
            year: 2027, easter: "03-28", goodFriday: "03-26", easterMonday: "03-29", ascension: "05-06",
            whitMonday: "05-17"),
        EasterCase(
            year: 2030, easter: "04-21", goodFriday: "04-19", easterMonday: "04-22", ascension: "05-30",
            whitMonday: "06-10"),
        EasterCase(
            year: 2038, easter: "04-25", goodFriday: "04-23", easterMonday: "04-26", ascension: "06-03",
            whitMonday: "06-14"),
        // The earliest and latest possible dates, and a year where Ascension is 1 May.
        EasterCase(
            year: 1818, easter: "03-22", goodFriday: "03-20", easterMonday: "03-23", ascension: "04-30",
            whitMonday: "05-11"),
        EasterCase(
            year: 1943, easter: "04-25", goodFriday: "04-23", easterMonday: "04-26", ascension: "06-03",
            whitMonday: "06-14"),
        EasterCase(
            year: 2008, easter: "03-23", goodFriday: "03-21", easterMonday: "03-24", ascension: "05-01",
            whitMonday: "05-12"),
        EasterCase(
            year: 2285, easter: "03-22", goodFriday: "03-20", easterMonday: "03-23", ascension: "04-30",
            whitMonday: "05-11"),
    ]

    static func monthDay(_ month: Int, _ day: Int) -> String {
        (month < 10 ? "0" : "") + "\(month)-" + (day < 10 ? "0" : "") + "\(day)"
    }

    static func dates(of calendar: HolidayCalendar, in year: Int, named name: String) -> [String] {
        calendar.holidays(in: year).filter { $0.name == name }.map { monthDay($0.month, $0.day) }
    }

    @Test("Easter Sunday by the anonymous Gregorian algorithm", arguments: easterCases)
    func easter(c: EasterCase) {
        let easter = HolidayCalendar.easterSunday(in: c.year)
        #expect(Self.monthDay(easter.month, easter.day) == c.easter)
    }

    @Test("the holidays that follow Easter", arguments: easterCases)
    func derived(c: EasterCase) {
        #expect(Self.dates(of: .fr, in: c.year, named: "Easter Monday") == [c.easterMonday])
        #expect(Self.dates(of: .fr, in: c.year, named: "Ascension Day") == [c.ascension])
        #expect(Self.dates(of: .fr, in: c.year, named: "Whit Monday") == [c.whitMonday])
        #expect(Self.dates(of: .fr, in: c.year, named: "Good Friday") == [])
        #expect(Self.dates(of: .frAlsaceMoselle, in: c.year, named: "Good Friday") == [c.goodFriday])
        #expect(Self.dates(of: .frAlsaceMoselle, in: c.year, named: "Easter Monday") == [c.easterMonday])
    }

    @Test("the eleven French public holidays of 2026, in date order")
    func french2026() {
        #expect(
            HolidayCalendar.fr.holidays(in: 2026).map(\.description) == [
                "01-01 New Year's Day", "04-06 Easter Monday", "05-01 Labour Day", "05-08 Victory in Europe Day",
                "05-14 Ascension Day", "05-25 Whit Monday", "07-14 Bastille Day", "08-15 Assumption Day",
                "11-01 All Saints' Day", "11-11 Armistice Day", "12-25 Christmas Day",
            ])
    }

    @Test("Alsace-Moselle adds Good Friday and 26 December")
    func alsaceMoselle2026() {
        let local = HolidayCalendar.frAlsaceMoselle.holidays(in: 2026)
        #expect(local.count == 13)
        #expect(
            local.map(\.description).prefix(3) == ["01-01 New Year's Day", "04-03 Good Friday", "04-06 Easter Monday"])
        #expect(local.last == Holiday(month: 12, day: 26, name: "St Stephen's Day"))
        #expect(Set(HolidayCalendar.fr.holidays(in: 2026)).isSubset(of: Set(local)))
    }

    @Test("a holiday falling on another one is listed twice, in a stable order")
    func sharedDate() {
        let may = HolidayCalendar.fr.holidays(in: 2008).filter { $0.month == 5 && $0.day == 1 }
        #expect(may.map(\.name) == ["Labour Day", "Ascension Day"])
    }

    @Test("no holiday in the calendar 'none'", arguments: [2008, 2026, 2038])
    func noneCalendar(year: Int) {
        #expect(HolidayCalendar.none.holidays(in: year).isEmpty)
        #expect(!HolidayCalendar.none.isHoliday(year: year, month: 12, day: 25))
        #expect(!HolidayCalendar.none.isHoliday(year: year, month: 1, day: 1))
    }

    struct DayCase: Sendable, CustomTestStringConvertible {
        var calendar: HolidayCalendar
        var year: Int
        var month: Int
        var day: Int
        var holiday: Bool
        var testDescription: String {
            "\(calendar.rawValue) \(year)-\(HolidayTests.monthDay(month, day)) \(holiday ? "holiday" : "working day")"
        }
    }

    static let dayCases: [DayCase] = [
        DayCase(calendar: .fr, year: 2026, month: 1, day: 1, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 1, day: 2, holiday: false),
        DayCase(calendar: .fr, year: 2026, month: 4, day: 3, holiday: false),
        DayCase(calendar: .frAlsaceMoselle, year: 2026, month: 4, day: 3, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 4, day: 5, holiday: false),
        DayCase(calendar: .fr, year: 2026, month: 4, day: 6, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 5, day: 8, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 5, day: 14, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 5, day: 25, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 7, day: 14, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 7, day: 15, holiday: false),
        DayCase(calendar: .fr, year: 2026, month: 8, day: 15, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 11, day: 1, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 11, day: 11, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 12, day: 25, holiday: true),
        DayCase(calendar: .fr, year: 2026, month: 12, day: 26, holiday: false),
        DayCase(calendar: .frAlsaceMoselle, year: 2026, month: 12, day: 26, holiday: true),
        DayCase(calendar: .fr, year: 2027, month: 3, day: 29, holiday: true),
        DayCase(calendar: .fr, year: 2038, month: 6, day: 3, holiday: true),
        DayCase(calendar: .none, year: 2026, month: 7, day: 14, holiday: false),
    ]

    @Test("isHoliday on a local date", arguments: dayCases)
    func isHoliday(c: DayCase) {
        #expect(c.calendar.isHoliday(year: c.year, month: c.month, day: c.day) == c.holiday)
    }

    @Test("configuration names")
    func rawValues() {
        #expect(HolidayCalendar(rawValue: "fr") == .fr)
        #expect(HolidayCalendar(rawValue: "fr-alsace-moselle") == .frAlsaceMoselle)
        #expect(HolidayCalendar(rawValue: "none") == HolidayCalendar.none)
        #expect(HolidayCalendar(rawValue: "de") == nil)
    }
}
