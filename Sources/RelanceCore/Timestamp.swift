import Foundation

/// The one textual time format stored in the database: ISO 8601 in UTC with
/// milliseconds, e.g. `2026-11-23T12:00:00.000Z`, which sorts as it compares.
/// It is SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', …)`.
public enum Timestamp {
    public static func string(from date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        )
    }

    public static func date(from string: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string) { return d }
        return try? Date.ISO8601FormatStyle().parse(string)
    }
}
