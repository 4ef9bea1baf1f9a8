import Foundation

/// A day of the week, named as in configuration files.
public enum Weekday: String, Sendable, Hashable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    /// 0 for Monday through 6 for Sunday.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    /// From Foundation's `weekday` component, where 1 is Sunday and 7 is Saturday.
    public init?(gregorianWeekday: Int) {
        guard (1...7).contains(gregorianWeekday) else { return nil }
        self = Self.allCases[(gregorianWeekday + 5) % 7]
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.index < rhs.index }
}

/// A rejected send window setting, with a message that says what is wrong.
public struct SendWindowError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A range of local wall-clock time within a day: `start` and `end` are minutes since local
/// midnight, `start` included, `end` excluded, `0 <= start < end <= 1440`.
public struct LocalTimeInterval: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let start: Int
    public let end: Int

    public init(start: Int, end: Int) throws(SendWindowError) {
        if let problem = Self.problem(start: start, end: end) {
            let shown = (0...24 * 60).contains(start) && (0...24 * 60).contains(end)
            let what = shown ? "hours '\(Self.clock(start))-\(Self.clock(end))'" : "minutes \(start) to \(end)"
            throw SendWindowError("\(what): \(problem)")
        }
        self.start = start
        self.end = end
    }

    /// 00:00 to 24:00.
    public static let wholeDay = try! LocalTimeInterval(start: 0, end: 24 * 60)

    /// Whether the minute `minute` since local midnight lies in the interval.
    public func contains(minute: Int) -> Bool { start <= minute && minute < end }

    /// `HH:MM-HH:MM`, as parsed.
    public var description: String { "\(Self.clock(start))-\(Self.clock(end))" }

    /// Parses `HH:MM-HH:MM`, e.g. `10:00-13:00`; `24:00` is allowed as an end.
    public static func parse(_ text: String) throws(SendWindowError) -> LocalTimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw SendWindowError("hours '\(text)': expected HH:MM-HH:MM, e.g. 10:00-13:00")
        }
        var values: [Int] = []
        for part in parts {
            let time = part.trimmingCharacters(in: .whitespaces)
            guard let value = minutes(of: time) else {
                throw SendWindowError("hours '\(text)': '\(time)' is not a time between 00:00 and 24:00 (HH:MM)")
            }
            values.append(value)
        }
        if let problem = problem(start: values[0], end: values[1]) {
            throw SendWindowError("hours '\(text)': \(problem)")
        }
        return try LocalTimeInterval(start: values[0], end: values[1])
    }

    private static func problem(start: Int, end: Int) -> String? {
        if start == 24 * 60 { return "24:00 can only end an interval" }
        if start < 0 || start > 24 * 60 || end < 0 || end > 24 * 60 {
            return "times must be between 00:00 and 24:00"
        }
        if start >= end { return "the start must be before the end" }
        return nil
    }

    /// Minutes since midnight of `HH:MM` (two digits each), up to `24:00`.
    private static func minutes(of time: String) -> Int? {
        let chars = Array(time)
        guard chars.count == 5, chars[2] == ":" else { return nil }
        let digits = [chars[0], chars[1], chars[3], chars[4]].compactMap { $0.wholeNumberValue }
        guard digits.count == 4, [chars[0], chars[1], chars[3], chars[4]].allSatisfy(\.isASCII) else { return nil }
        let hour = digits[0] * 10 + digits[1]
        let minute = digits[2] * 10 + digits[3]
        guard minute < 60, hour < 24 || (hour == 24 && minute == 0) else { return nil }
        return hour * 60 + minute
    }

    static func clock(_ minutes: Int) -> String {
        "\(CivilDate.twoDigits(minutes / 60)):\(CivilDate.twoDigits(minutes % 60))"
    }
}

/// When messages of a channel may be sent, in the payer's local time: on some days of the week,
/// during some hours, except on the public holidays of a calendar.
///
/// A job due outside the window is deferred to `nextOpening(atOrAfter:timeZone:)`. Local
/// wall-clock times come from a Gregorian calendar in the payer's IANA time zone, so the same
/// window opens at a different UTC instant in summer and in winter.
public struct SendWindow: Sendable, Equatable, CustomStringConvertible {
    /// The days of the week the window opens; never empty.
    public let days: Set<Weekday>
    /// The open hours of each of those days, sorted, not overlapping; never empty.
    public let intervals: [LocalTimeInterval]
    /// The holidays on which the window stays closed all day.
    public let holidays: HolidayCalendar

    /// How far ahead `nextOpening(atOrAfter:timeZone:)` looks, in days.
    public static let maxSearchDays = 400

    /// Sorts `intervals`; rejects no day, no interval, or overlapping intervals.
    public init(days: Set<Weekday>, intervals: [LocalTimeInterval], holidays: HolidayCalendar = .none)
        throws(SendWindowError)
    {
        guard !days.isEmpty else {
            throw SendWindowError("days: no day given, the window would never open")
        }
        guard !intervals.isEmpty else {
            throw SendWindowError("hours: no interval given; use 00:00-24:00 for the whole day")
        }
        let sorted = intervals.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.end > later.start {
            throw SendWindowError("hours '\(earlier)' and '\(later)' overlap")
        }
        self.days = days
        self.intervals = sorted
        self.holidays = holidays
    }

    /// Always open: every day, all day, no holiday. The e-mail default.
    public static let always = try! SendWindow(days: Set(Weekday.allCases), intervals: [.wholeDay])

    /// Monday to Friday, 10:00-13:00 and 14:00-20:00, except French public holidays. The SMS default.
    public static let defaultSMS = try! SendWindow(
        days: [.mon, .tue, .wed, .thu, .fri],
        intervals: [LocalTimeInterval(start: 10 * 60, end: 13 * 60), LocalTimeInterval(start: 14 * 60, end: 20 * 60)],
        holidays: .fr)

    /// Whether the window is open at every instant.
    public var isAlways: Bool {
        days.count == Weekday.allCases.count && intervals == [.wholeDay] && holidays == .none
    }

    /// Whether a message may be sent at `date` to a payer in `timeZone`.
    public func isOpen(at date: Date, timeZone: TimeZone) -> Bool {
        if isAlways { return true }
        return isOpen(at: date, calendar: Self.calendar(in: timeZone))
    }

    /// The first instant at or after `date` when the window is open for a payer in `timeZone`:
    /// `date` itself when the window is open then. When an opening time does not exist on a
    /// day because the clocks go forward over it, the window opens at the first instant after
    /// the gap. Nil when nothing opens within `maxSearchDays` days.
    public func nextOpening(atOrAfter date: Date, timeZone: TimeZone) -> Date? {
        if isAlways { return date }
        let calendar = Self.calendar(in: timeZone)
        if isOpen(at: date, calendar: calendar) { return date }
        guard let today = Self.localTime(of: date, calendar: calendar)?.date else { return nil }
        // Starts the day before, and looks one day past the first find, in case clocks set back
        // across midnight make the end of a day come again after the next one began.
        var found: Date?
        for offset in -1...Self.maxSearchDays {
            if let opening = earliestOpening(on: today.adding(days: offset), notBefore: date, calendar: calendar) {
                if let earlier = found { return min(earlier, opening) }
                found = opening
            } else if found != nil {
                return found
            }
        }
        return found
    }

    /// Parses configuration values: `days` such as `mon-fri`, `sat-sun`, `all` or `mon,tue,thu`;
    /// `hours` such as `["10:00-13:00", "14:00-20:00"]`; `holidays` one of `fr`,
    /// `fr-alsace-moselle` or `none`.
    public static func parse(days: String, hours: [String], holidays: String) throws(SendWindowError) -> SendWindow {
        let parsedDays = try parseDays(days)
        var intervals: [LocalTimeInterval] = []
        for entry in hours {
            for part in entry.split(separator: ",", omittingEmptySubsequences: false) {
                intervals.append(try LocalTimeInterval.parse(String(part)))
            }
        }
        let calendar = try parseHolidays(holidays)
        return try SendWindow(days: parsedDays, intervals: intervals, holidays: calendar)
    }

    /// `days` as a list, e.g. `["mon", "tue"]` or `["mon-fri"]`.
    public static func parse(days: [String], hours: [String], holidays: String) throws(SendWindowError)
        -> SendWindow
    {
        try parse(days: days.joined(separator: ","), hours: hours, holidays: holidays)
    }

    /// Parses `mon-fri`, `sat-sun`, `all`, or a comma-separated list of day names and forward ranges.
    public static func parseDays(_ text: String) throws(SendWindowError) -> Set<Weekday> {
        let names = "mon, tue, wed, thu, fri, sat or sun"
        let items = text.lowercased().split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if items.allSatisfy(\.isEmpty) {
            throw SendWindowError("days '\(text)': no day given; use e.g. mon-fri, sat-sun, all or mon,tue,thu")
        }
        if items.contains("all") {
            guard items.count == 1 else {
                throw SendWindowError("days '\(text)': 'all' cannot be combined with other days")
            }
            return Set(Weekday.allCases)
        }
        var result: Set<Weekday> = []
        for item in items {
            guard !item.isEmpty else { throw SendWindowError("days '\(text)': a day is missing between commas") }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard bounds.count <= 2 else {
                throw SendWindowError("days '\(text)': '\(item)' is not a day or a range such as mon-fri")
            }
            var range: [Weekday] = []
            for bound in bounds {
                guard let day = Weekday(rawValue: bound) else {
                    throw SendWindowError("days '\(text)': unknown day '\(bound)'; expected \(names)")
                }
                range.append(day)
            }
            let first = range[0]
            let last = range[range.count - 1]
            guard first <= last else {
                throw SendWindowError(
                    "days '\(text)': the range '\(item)' goes backwards; ranges run from mon to sun, "
                        + "write \(first.rawValue)-sun,mon\(last == .mon ? "" : "-\(last.rawValue)") instead")
            }
            for day in Weekday.allCases[first.index...last.index] {
                guard result.insert(day).inserted else {
                    throw SendWindowError("days '\(text)': '\(day)' is given twice")
                }
            }
        }
        return result
    }

    /// Parses `fr`, `fr-alsace-moselle` or `none`.
    public static func parseHolidays(_ text: String) throws(SendWindowError) -> HolidayCalendar {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let calendar = HolidayCalendar(rawValue: name) else {
            throw SendWindowError("holidays '\(text)': unknown calendar; expected fr, fr-alsace-moselle or none")
        }
        return calendar
    }

    /// Compact and parseable again, e.g. `mon-fri 10:00-13:00,14:00-20:00 except fr holidays`;
    /// `always` for the always-open window.
    public var description: String {
        if isAlways { return "always" }
        var text = "\(Self.describe(days)) \(intervals.map(\.description).joined(separator: ","))"
        if holidays != .none { text += " except \(holidays.rawValue) holidays" }
        return text
    }

    // MARK: - Implementation

    private static func describe(_ days: Set<Weekday>) -> String {
        if days.count == Weekday.allCases.count { return "all" }
        var runs: [[Weekday]] = []
        for day in days.sorted() {
            if let last = runs.last?.last, last.index + 1 == day.index {
                runs[runs.count - 1].append(day)
            } else {
                runs.append([day])
            }
        }
        return runs.map { $0.count == 1 ? $0[0].rawValue : "\($0[0].rawValue)-\($0[$0.count - 1].rawValue)" }
            .joined(separator: ",")
    }

    private static func calendar(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The local date, weekday and minute since local midnight of `date`.
    private static func localTime(of date: Date, calendar: Calendar)
        -> (date: CivilDate, weekday: Weekday, minute: Int)?
    {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: date)
        guard let year = parts.year, let month = parts.month, let day = parts.day,
            let weekday = parts.weekday.flatMap(Weekday.init(gregorianWeekday:)),
            let hour = parts.hour, let minute = parts.minute
        else { return nil }
        return (CivilDate(year: year, month: month, day: day), weekday, hour * 60 + minute)
    }

    private func isOpen(at date: Date, calendar: Calendar) -> Bool {
        guard let local = Self.localTime(of: date, calendar: calendar) else { return false }
        return isOpen(on: local.date, weekday: local.weekday)
            && intervals.contains { $0.contains(minute: local.minute) }
    }

    private func isOpen(on date: CivilDate, weekday: Weekday) -> Bool {
        days.contains(weekday) && !holidays.isHoliday(year: date.year, month: date.month, day: date.day)
    }

    /// The earliest instant not before `notBefore` at which an interval of local date `day`
    /// starts and the window is open.
    private func earliestOpening(on day: CivilDate, notBefore: Date, calendar: Calendar) -> Date? {
        guard isOpen(on: day, weekday: day.weekday) else { return nil }
        return
            intervals
            .flatMap { Self.instants(showing: day, minute: $0.start, in: calendar.timeZone) }
            .filter { $0 >= notBefore && isOpen(at: $0, calendar: calendar) }
            .min()
    }

    /// The instants whose local wall-clock time in `timeZone` is `minute` on `day`: one
    /// usually, two when clocks set back repeat it, and the first instant after the gap when
    /// clocks set forward skip it.
    static func instants(showing day: CivilDate, minute: Int, in timeZone: TimeZone) -> [Date] {
        func offset(_ instant: Int) -> Int {
            timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
        }
        func date(_ instant: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(instant)) }
        // Wall-clock seconds since 1970-01-01T00:00 local; an instant showing it is within
        // 14 hours of it, so the offsets a day either side bracket every offset it may have.
        let local = day.daysSinceEpoch * 86_400 + minute * 60
        let before = offset(local - 86_400)
        let after = offset(local + 86_400)
        let candidates = Set([before, offset(local), after]).map { local - $0 }.filter { local - offset($0) == $0 }
        if !candidates.isEmpty { return candidates.sorted().map(date) }
        // Skipped: the transition lies in (local - after, local - before]; find its first second.
        var low = local - after
        var high = local - before
        guard after > before, offset(low) == before, offset(high) != before else {
            return [date(local - offset(local))]
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == before { low = middle } else { high = middle }
        }
        return [date(high)]
    }
}
