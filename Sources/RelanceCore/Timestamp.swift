import Foundation

/// The one textual time format stored in the database: ISO 8601 in UTC with
/// milliseconds, e.g. `2026-11-23T12:00:00.000Z`, which sorts as it compares.
/// It is SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', …)`.
public enum Timestamp {
    /// Formats `date`, milliseconds truncated. Written by hand: the store calls it for
    /// every row it stamps, and a format style costs microseconds a call.
    public static func string(from date: Date) -> String {
        // A microsecond of slack before flooring: 0.220 s is 0.21999… in binary, and an
        // instant read as .220 must be written back as .220 (found by `make fuzz`).
        let millis = Int64((date.timeIntervalSince1970 * 1000 + 0.001).rounded(.down))
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let fraction = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, _ width: Int, at offset: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, 4, at: 0)
        bytes[4] = UInt8(ascii: "-")
        put(Int(parts.tm_mon) + 1, 2, at: 5)
        bytes[7] = UInt8(ascii: "-")
        put(Int(parts.tm_mday), 2, at: 8)
        bytes[10] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), 2, at: 11)
        bytes[13] = UInt8(ascii: ":")
        put(Int(parts.tm_min), 2, at: 14)
        bytes[16] = UInt8(ascii: ":")
        put(Int(parts.tm_sec), 2, at: 17)
        bytes[19] = UInt8(ascii: ".")
        put(fraction, 3, at: 20)
        bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `YYYY-MM-DD`, zero-padded (years 0 to 9999), without `String(format:)`.
    public static func isoDate(year: Int, month: Int, day: Int) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// The day `date` falls on in `timeZone`, as `YYYY-MM-DD`.
    public static func isoDate(of date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return isoDate(year: c.year!, month: c.month!, day: c.day!)
    }

    /// Years an instant may fall in: before 1970 or after 2999, a `run_at` is a mistake.
    public static let instantYears = 1970...2999
    /// 3000-01-01T00:00:00Z in seconds since 1970-01-01.
    static let endOfInstantYears = 32_503_680_000

    /// An RFC 3339 date-time, read strictly: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`
    /// (`T` or a space), a real calendar day (no 30 February), hours 00–23, minutes and
    /// seconds 00–59, an offset within ±23:59, a year in `instantYears`. Nothing is
    /// rolled over: `2027-02-30T09:00:00Z` and `2027-02-29T25:61:61Z` are refused, not
    /// read as March.
    public static func strictInstant(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard i < b.count, (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = digits(0..<4), b[4] == UInt8(ascii: "-"), let month = digits(5..<7),
            b[7] == UInt8(ascii: "-"), let day = digits(8..<10),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]), let hour = digits(11..<13),
            b[13] == UInt8(ascii: ":"), let minute = digits(14..<16), b[16] == UInt8(ascii: ":"),
            let second = digits(17..<19)
        else { return nil }
        guard instantYears.contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60 else {
            return nil
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        guard (1...[31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]).contains(day) else {
            return nil
        }
        var index = 19
        // Milliseconds, as stored (finer digits are dropped, as SQLite's %f drops them).
        var milliseconds = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, (48...57).contains(b[index]) {
                if index - start < 3 { milliseconds = milliseconds * 10 + Int(b[index] - 48) }
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
            for _ in min(index - start, 3)..<3 { milliseconds *= 10 }
        }
        guard index < b.count else { return nil }
        var offset = 0
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
            guard index + 6 == b.count, let hours = digits(index + 1..<index + 3), b[index + 3] == UInt8(ascii: ":"),
                let minutes = digits(index + 4..<index + 6), hours < 24, minutes < 60
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        // Days since 1970-01-01 (proleptic Gregorian), without Calendar.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146097 + dayOfEra - 719468
        let whole = days * 86400 + hour * 3600 + minute * 60 + second - offset
        // In UTC too: `2999-12-31T23:59:59-12:00` is in the year 3000 once stored.
        guard whole >= 0, whole < Self.endOfInstantYears else { return nil }
        return Date(timeIntervalSince1970: Double(whole) + Double(milliseconds) / 1000)
    }

    public static func date(from string: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string) { return d }
        return try? Date.ISO8601FormatStyle().parse(string)
    }
}
