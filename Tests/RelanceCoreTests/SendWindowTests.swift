import Foundation
import RelanceCore
import Testing

private func utc(_ text: String) -> Date { Timestamp.date(from: text)! }
private func zone(_ identifier: String) -> TimeZone { TimeZone(identifier: identifier)! }

@Suite("SendWindow")
struct SendWindowTests {
    /// From `at` (UTC), the next opening is `opens` (UTC); equal when the window is open.
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var zone: String = "Europe/Paris"
        var at: String
        var opens: String
        var testDescription: String { label }
    }

    // Europe/Paris is UTC+2 from 29 March to 25 October 2026, UTC+1 otherwise.
    static let smsCases: [Case] = [
        Case(label: "Tuesday 11:00 is open", at: "2026-06-09T09:00:00Z", opens: "2026-06-09T09:00:00Z"),
        Case(label: "Tuesday 10:00 sharp is open", at: "2026-06-09T08:00:00Z", opens: "2026-06-09T08:00:00Z"),
        Case(label: "Tuesday 19:59:59 is open", at: "2026-06-09T17:59:59Z", opens: "2026-06-09T17:59:59Z"),
        Case(label: "Tuesday 09:59 opens at 10:00", at: "2026-06-09T07:59:00Z", opens: "2026-06-09T08:00:00Z"),
        Case(label: "Tuesday 13:00 sharp opens at 14:00", at: "2026-06-09T11:00:00Z", opens: "2026-06-09T12:00:00Z"),
        Case(label: "Tuesday 13:30 opens at 14:00", at: "2026-06-09T11:30:00Z", opens: "2026-06-09T12:00:00Z"),
        Case(label: "Tuesday 20:00 opens Wednesday", at: "2026-06-09T18:00:00Z", opens: "2026-06-10T08:00:00Z"),
        Case(label: "Friday 20:30 opens Monday", at: "2026-06-12T18:30:00Z", opens: "2026-06-15T08:00:00Z"),
        Case(label: "Saturday opens Monday", at: "2026-06-13T10:00:00Z", opens: "2026-06-15T08:00:00Z"),
        Case(label: "Sunday 23:59 opens Monday", at: "2026-06-14T21:59:00Z", opens: "2026-06-15T08:00:00Z"),
        Case(
            label: "Easter Sunday opens Tuesday, Easter Monday skipped", at: "2026-04-05T10:00:00Z",
            opens: "2026-04-07T08:00:00Z"),
        Case(label: "14 July opens 15 July", at: "2026-07-14T09:00:00Z", opens: "2026-07-15T08:00:00Z"),
        Case(
            label: "Christmas Eve 21:00 opens Monday 28 December", at: "2026-12-24T20:00:00Z",
            opens: "2026-12-28T09:00:00Z"),
        Case(
            label: "the evening before Ascension opens on Friday", at: "2026-05-13T18:30:00Z",
            opens: "2026-05-15T08:00:00Z"),
        Case(label: "1 May on a Friday opens Monday", at: "2026-04-30T18:30:00Z", opens: "2026-05-04T08:00:00Z"),
        Case(
            label: "New Year's Day local while still 31 December in UTC", at: "2026-12-31T23:30:00Z",
            opens: "2027-01-04T09:00:00Z"),
        Case(
            label: "Friday before the October change opens Monday 10:00 CET", at: "2026-10-23T19:00:00Z",
            opens: "2026-10-26T09:00:00Z"),
        Case(
            label: "Friday before the March change opens Monday 10:00 CEST", at: "2026-03-27T20:00:00Z",
            opens: "2026-03-30T08:00:00Z"),
        // One instant, Tuesday 9 June 2026 09:00 UTC, for payers around the world.
        Case(label: "Paris 11:00", at: "2026-06-09T09:00:00Z", opens: "2026-06-09T09:00:00Z"),
        Case(
            label: "Martinique 05:00 opens at 10:00 local", zone: "America/Martinique", at: "2026-06-09T09:00:00Z",
            opens: "2026-06-09T14:00:00Z"),
        Case(
            label: "Noumea 20:00 opens Wednesday 10:00 local", zone: "Pacific/Noumea", at: "2026-06-09T09:00:00Z",
            opens: "2026-06-09T23:00:00Z"),
        Case(
            label: "Reunion 13:00 opens at 14:00 local", zone: "Indian/Reunion", at: "2026-06-09T09:00:00Z",
            opens: "2026-06-09T10:00:00Z"),
        Case(label: "UTC 09:00 opens at 10:00", zone: "UTC", at: "2026-06-09T09:00:00Z", opens: "2026-06-09T10:00:00Z"),
        // Holidays on the payer's local date: 14 July 2026 23:30 UTC.
        Case(label: "Paris, 15 July 01:30", at: "2026-07-14T23:30:00Z", opens: "2026-07-15T08:00:00Z"),
        Case(
            label: "Noumea, 15 July 10:30 is open", zone: "Pacific/Noumea", at: "2026-07-14T23:30:00Z",
            opens: "2026-07-14T23:30:00Z"),
        Case(
            label: "Martinique, still 14 July", zone: "America/Martinique", at: "2026-07-14T23:30:00Z",
            opens: "2026-07-15T14:00:00Z"),
        Case(
            label: "Noumea, 14 July already", zone: "Pacific/Noumea", at: "2026-07-13T17:00:00Z",
            opens: "2026-07-14T23:00:00Z"),
    ]

    @Test("the default SMS window", arguments: smsCases)
    func defaultSMS(c: Case) {
        let window = SendWindow.defaultSMS
        let at = utc(c.at)
        let opens = window.nextOpening(atOrAfter: at, timeZone: zone(c.zone))
        #expect(opens == utc(c.opens))
        #expect(window.isOpen(at: at, timeZone: zone(c.zone)) == (c.at == c.opens))
        if let opens {
            #expect(window.isOpen(at: opens, timeZone: zone(c.zone)))
            #expect(!window.isOpen(at: opens.addingTimeInterval(-1), timeZone: zone(c.zone)) || opens == at)
        }
    }

    static let everyDay2to4 = try! SendWindow.parse(days: "all", hours: ["02:00-04:00"], holidays: "none")
    static let everyDay230to4 = try! SendWindow.parse(days: "all", hours: ["02:30-04:00"], holidays: "none")
    static let everyDay2to230 = try! SendWindow.parse(days: "all", hours: ["02:00-02:30"], holidays: "none")

    struct ClockChangeCase: Sendable, CustomTestStringConvertible {
        var label: String
        var window: SendWindow
        var at: String
        var opens: String
        var testDescription: String { label }
    }

    // Paris, 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    // Paris, 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:00-03:00 happens twice.
    static let clockChangeCases: [ClockChangeCase] = [
        ClockChangeCase(
            label: "the day before spring forward, 02:00 CET is open", window: everyDay2to4,
            at: "2026-03-28T01:00:00Z", opens: "2026-03-28T01:00:00Z"),
        ClockChangeCase(
            label: "02:00 does not exist: opens at 03:00 CEST, the end of the gap", window: everyDay2to4,
            at: "2026-03-29T00:30:00Z", opens: "2026-03-29T01:00:00Z"),
        ClockChangeCase(
            label: "from the previous day, opens at the end of the gap", window: everyDay2to4,
            at: "2026-03-28T03:30:00Z", opens: "2026-03-29T01:00:00Z"),
        ClockChangeCase(
            label: "02:30 does not exist: opens at 03:00 CEST", window: everyDay230to4,
            at: "2026-03-29T00:00:00Z", opens: "2026-03-29T01:00:00Z"),
        ClockChangeCase(
            label: "03:30 CEST is open", window: everyDay2to4, at: "2026-03-29T01:30:00Z",
            opens: "2026-03-29T01:30:00Z"),
        ClockChangeCase(
            label: "04:00 CEST is closed, opens the next day at 02:00 CEST", window: everyDay2to4,
            at: "2026-03-29T02:00:00Z", opens: "2026-03-30T00:00:00Z"),
        ClockChangeCase(
            label: "an interval entirely in the gap is skipped that day", window: everyDay2to230,
            at: "2026-03-29T00:30:00Z", opens: "2026-03-30T00:00:00Z"),
        ClockChangeCase(
            label: "fall back: the first 02:00, in CEST", window: everyDay2to230,
            at: "2026-10-24T23:00:00Z", opens: "2026-10-25T00:00:00Z"),
        ClockChangeCase(
            label: "fall back: 02:10 CEST is open", window: everyDay2to230,
            at: "2026-10-25T00:10:00Z", opens: "2026-10-25T00:10:00Z"),
        ClockChangeCase(
            label: "fall back: 02:45 CEST opens again at 02:00 CET", window: everyDay2to230,
            at: "2026-10-25T00:45:00Z", opens: "2026-10-25T01:00:00Z"),
        ClockChangeCase(
            label: "fall back: 02:10 CET is open", window: everyDay2to230,
            at: "2026-10-25T01:10:00Z", opens: "2026-10-25T01:10:00Z"),
        ClockChangeCase(
            label: "fall back: 02:30 CET opens the next day at 02:00 CET", window: everyDay2to230,
            at: "2026-10-25T01:30:00Z", opens: "2026-10-26T01:00:00Z"),
    ]

    @Test("clock changes in Europe/Paris", arguments: clockChangeCases)
    func clockChanges(c: ClockChangeCase) {
        let paris = zone("Europe/Paris")
        let opens = c.window.nextOpening(atOrAfter: utc(c.at), timeZone: paris)
        #expect(opens == utc(c.opens))
        #expect(c.window.isOpen(at: utc(c.opens), timeZone: paris))
        #expect(c.window.isOpen(at: utc(c.at), timeZone: paris) == (c.at == c.opens))
    }

    @Test("the gap itself is closed, its end is open")
    func springForwardEdges() {
        let paris = zone("Europe/Paris")
        #expect(Self.everyDay2to4.isOpen(at: utc("2026-03-29T00:59:59Z"), timeZone: paris) == false)
        #expect(Self.everyDay2to4.isOpen(at: utc("2026-03-29T01:00:00Z"), timeZone: paris))
    }

    /// Around each clock change of 2026, from many starting instants: the next opening is open and
    /// nothing opens before it (checked every 10 minutes, as all openings here fall on such a boundary).
    @Test(
        "cross-check against a scan every 10 minutes around clock changes",
        arguments: ["Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "America/Havana"])
    func scan(zoneName: String) throws {
        let timeZone = zone(zoneName)
        let windows = [
            SendWindow.defaultSMS, Self.everyDay2to230, Self.everyDay230to4,
            try SendWindow.parse(days: "all", hours: ["00:00-01:00", "23:30-24:00"], holidays: "none"),
        ]
        var transitions: [Date] = []
        var cursor = utc("2026-01-01T00:00:00Z")
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor), next < utc("2027-01-01T00:00:00Z") {
            transitions.append(next)
            cursor = next
        }
        #expect(transitions.count == 2)
        let step: TimeInterval = 600
        for transition in transitions {
            let first = (transition.timeIntervalSince1970 / step).rounded(.down) * step - 30 * 3600
            for sample in 0..<40 {
                let start = Date(timeIntervalSince1970: first + Double(sample) * 97 * 60)
                for window in windows {
                    let opens = try #require(window.nextOpening(atOrAfter: start, timeZone: timeZone))
                    #expect(opens >= start)
                    #expect(window.isOpen(at: opens, timeZone: timeZone), "\(window) from \(start)")
                    var probe = (start.timeIntervalSince1970 / step).rounded(.down) * step + step
                    while probe < opens.timeIntervalSince1970 {
                        let instant = Date(timeIntervalSince1970: probe)
                        #expect(!window.isOpen(at: instant, timeZone: timeZone), "\(window) open at \(instant)")
                        probe += step
                    }
                }
            }
        }
    }

    @Test(
        "the always window is open at any instant, anywhere",
        arguments: [
            "2026-01-01T00:00:00Z", "2026-03-29T01:00:00Z", "2026-07-14T12:00:00Z", "2026-10-25T01:30:00Z",
            "2026-12-25T23:59:59Z",
        ], ["Europe/Paris", "Pacific/Noumea", "America/Martinique", "UTC"])
    func always(at: String, zoneName: String) {
        #expect(SendWindow.always.isOpen(at: utc(at), timeZone: zone(zoneName)))
        #expect(SendWindow.always.nextOpening(atOrAfter: utc(at), timeZone: zone(zoneName)) == utc(at))
    }

    @Test("a window open one minute a week, except holidays, still opens")
    func sparse() throws {
        let window = try SendWindow.parse(days: "sun", hours: ["23:59-24:00"], holidays: "fr-alsace-moselle")
        let opens = window.nextOpening(atOrAfter: utc("2026-06-09T09:00:00Z"), timeZone: zone("Europe/Paris"))
        #expect(opens == utc("2026-06-14T21:59:00Z"))
        #expect(window.isOpen(at: utc("2026-06-14T21:59:59Z"), timeZone: zone("Europe/Paris")))
        #expect(!window.isOpen(at: utc("2026-06-14T22:00:00Z"), timeZone: zone("Europe/Paris")))
    }

    // MARK: - Parsing

    struct DaysCase: Sendable, CustomTestStringConvertible {
        var text: String
        var days: Set<Weekday>
        var testDescription: String { "'\(text)'" }
    }

    static let daysCases: [DaysCase] = [
        DaysCase(text: "mon-fri", days: [.mon, .tue, .wed, .thu, .fri]),
        DaysCase(text: "sat-sun", days: [.sat, .sun]),
        DaysCase(text: "all", days: Set(Weekday.allCases)),
        DaysCase(text: "mon,tue,thu", days: [.mon, .tue, .thu]),
        DaysCase(text: " Mon - Wed , FRI ", days: [.mon, .tue, .wed, .fri]),
        DaysCase(text: "sun", days: [.sun]),
        DaysCase(text: "mon-sun", days: Set(Weekday.allCases)),
    ]

    @Test("days", arguments: daysCases)
    func days(c: DaysCase) throws {
        #expect(try SendWindow.parseDays(c.text) == c.days)
    }

    @Test("days as a list")
    func daysList() throws {
        let window = try SendWindow.parse(days: ["mon", "tue"], hours: ["09:00-12:00"], holidays: "none")
        #expect(window.days == [.mon, .tue])
        let mixed = try SendWindow.parse(days: ["mon-wed", "sat"], hours: ["09:00-12:00"], holidays: "none")
        #expect(mixed.days == [.mon, .tue, .wed, .sat])
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var days: String = "mon-fri"
        var hours: [String] = ["10:00-13:00"]
        var holidays: String = "fr"
        var message: String
        var testDescription: String { message }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            days: "fri-mon",
            message: "days 'fri-mon': the range 'fri-mon' goes backwards; ranges run from mon to sun, "
                + "write fri-sun,mon instead"),
        ErrorCase(
            days: "sat-tue",
            message: "days 'sat-tue': the range 'sat-tue' goes backwards; ranges run from mon to sun, "
                + "write sat-sun,mon-tue instead"),
        ErrorCase(
            days: "funday", message: "days 'funday': unknown day 'funday'; expected mon, tue, wed, thu, fri, sat or sun"
        ),
        ErrorCase(
            days: "monday-friday",
            message: "days 'monday-friday': unknown day 'monday'; expected mon, tue, wed, thu, fri, sat or sun"),
        ErrorCase(days: "", message: "days '': no day given; use e.g. mon-fri, sat-sun, all or mon,tue,thu"),
        ErrorCase(days: "mon,,tue", message: "days 'mon,,tue': a day is missing between commas"),
        ErrorCase(days: "mon,mon", message: "days 'mon,mon': 'mon' is given twice"),
        ErrorCase(days: "mon-wed,tue", message: "days 'mon-wed,tue': 'tue' is given twice"),
        ErrorCase(days: "all,sat", message: "days 'all,sat': 'all' cannot be combined with other days"),
        ErrorCase(
            days: "mon-tue-wed", message: "days 'mon-tue-wed': 'mon-tue-wed' is not a day or a range such as mon-fri"),
        ErrorCase(hours: ["14:00-13:00"], message: "hours '14:00-13:00': the start must be before the end"),
        ErrorCase(hours: ["10:00-10:00"], message: "hours '10:00-10:00': the start must be before the end"),
        ErrorCase(hours: ["10:00-13:00", "12:00-14:00"], message: "hours '10:00-13:00' and '12:00-14:00' overlap"),
        ErrorCase(hours: ["14:00-20:00", "08:00-15:00"], message: "hours '08:00-15:00' and '14:00-20:00' overlap"),
        ErrorCase(
            hours: ["25:00-26:00"],
            message: "hours '25:00-26:00': '25:00' is not a time between 00:00 and 24:00 (HH:MM)"),
        ErrorCase(hours: ["10h-12h"], message: "hours '10h-12h': '10h' is not a time between 00:00 and 24:00 (HH:MM)"),
        ErrorCase(
            hours: ["9:00-12:00"], message: "hours '9:00-12:00': '9:00' is not a time between 00:00 and 24:00 (HH:MM)"),
        ErrorCase(
            hours: ["10:60-11:00"],
            message: "hours '10:60-11:00': '10:60' is not a time between 00:00 and 24:00 (HH:MM)"
        ),
        ErrorCase(hours: ["10:00"], message: "hours '10:00': expected HH:MM-HH:MM, e.g. 10:00-13:00"),
        ErrorCase(hours: ["24:00-24:00"], message: "hours '24:00-24:00': 24:00 can only end an interval"),
        ErrorCase(hours: [], message: "hours: no interval given; use 00:00-24:00 for the whole day"),
        ErrorCase(holidays: "de", message: "holidays 'de': unknown calendar; expected fr, fr-alsace-moselle or none"),
        ErrorCase(holidays: "", message: "holidays '': unknown calendar; expected fr, fr-alsace-moselle or none"),
    ]

    @Test("parse errors say what is wrong", arguments: errorCases)
    func parseErrors(c: ErrorCase) {
        #expect(throws: SendWindowError(c.message)) {
            try SendWindow.parse(days: c.days, hours: c.hours, holidays: c.holidays)
        }
        #expect(SendWindowError(c.message).description == c.message)
    }

    @Test("the parsed default equals defaultSMS; hours are sorted, adjacent ones allowed")
    func parse() throws {
        let sms = try SendWindow.parse(days: "mon-fri", hours: ["14:00-20:00", "10:00-13:00"], holidays: "FR")
        #expect(sms == .defaultSMS)
        #expect(sms.intervals.map(\.description) == ["10:00-13:00", "14:00-20:00"])
        let oneString = try SendWindow.parse(days: "mon-fri", hours: ["10:00-13:00,14:00-20:00"], holidays: "fr")
        #expect(oneString == .defaultSMS)
        let adjacent = try SendWindow.parse(days: "all", hours: ["10:00-13:00", "13:00-14:00"], holidays: "none")
        #expect(adjacent.isOpen(at: utc("2026-06-09T11:00:00Z"), timeZone: zone("Europe/Paris")))
        let wholeDay = try SendWindow.parse(days: "all", hours: ["00:00-24:00"], holidays: "none")
        #expect(wholeDay == .always)
        #expect(wholeDay.isAlways)
        #expect(!SendWindow.defaultSMS.isAlways)
    }

    @Test("building a window or an interval directly is validated too")
    func initValidation() {
        #expect(throws: SendWindowError("days: no day given, the window would never open")) {
            try SendWindow(days: [], intervals: [.wholeDay])
        }
        #expect(throws: SendWindowError("hours: no interval given; use 00:00-24:00 for the whole day")) {
            try SendWindow(days: [.mon], intervals: [])
        }
        #expect(throws: SendWindowError("hours '10:00-10:00': the start must be before the end")) {
            try LocalTimeInterval(start: 600, end: 600)
        }
        #expect(throws: SendWindowError("minutes -1 to 10: times must be between 00:00 and 24:00")) {
            try LocalTimeInterval(start: -1, end: 10)
        }
    }

    struct DescriptionCase: Sendable, CustomTestStringConvertible {
        var days: String
        var hours: [String]
        var holidays: String
        var description: String
        var testDescription: String { description }
    }

    static let descriptionCases: [DescriptionCase] = [
        DescriptionCase(
            days: "mon-fri", hours: ["10:00-13:00", "14:00-20:00"], holidays: "fr",
            description: "mon-fri 10:00-13:00,14:00-20:00 except fr holidays"),
        DescriptionCase(
            days: "fri,mon-wed", hours: ["09:00-12:00"], holidays: "none", description: "mon-wed,fri 09:00-12:00"),
        DescriptionCase(
            days: "sat,mon", hours: ["08:00-20:00"], holidays: "fr-alsace-moselle",
            description: "mon,sat 08:00-20:00 except fr-alsace-moselle holidays"),
        DescriptionCase(
            days: "sat-sun", hours: ["00:00-24:00"], holidays: "fr",
            description: "sat-sun 00:00-24:00 except fr holidays"),
        DescriptionCase(
            days: "mon-sun", hours: ["00:00-24:00"], holidays: "fr", description: "all 00:00-24:00 except fr holidays"),
        DescriptionCase(days: "all", hours: ["00:00-24:00"], holidays: "none", description: "always"),
    ]

    @Test("a compact description that parses back", arguments: descriptionCases)
    func description(c: DescriptionCase) throws {
        let window = try SendWindow.parse(days: c.days, hours: c.hours, holidays: c.holidays)
        #expect(window.description == c.description)
        let words = c.description.split(separator: " ").map(String.init)
        if words.count >= 2 {
            let again = try SendWindow.parse(
                days: words[0], hours: [words[1]], holidays: words.count == 5 ? words[3] : "none")
            #expect(again == window)
        }
    }

    @Test("Foundation weekday numbers", arguments: [(1, Weekday.sun), (2, .mon), (4, .wed), (7, .sat)])
    func weekday(number: Int, day: Weekday) {
        #expect(Weekday(gregorianWeekday: number) == day)
    }

    @Test("weekday numbers out of range", arguments: [0, 8, -1])
    func badWeekday(number: Int) {
        #expect(Weekday(gregorianWeekday: number) == nil)
    }
}
