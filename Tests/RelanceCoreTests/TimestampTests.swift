import Foundation
import Testing

@testable import RelanceCore

@Suite struct TimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_795_435_200.0, "2026-11-23T12:00:00.000Z"),
        (1_795_435_200.123_9, "2026-11-23T12:00:00.123Z"),
        (951_868_799.999_5, "2000-02-29T23:59:59.999Z"),
        (-0.5, "1969-12-31T23:59:59.500Z"),
        (-86_400.001_5, "1969-12-30T23:59:59.998Z"),
        (4_102_444_800.0, "2100-01-01T00:00:00.000Z"),
    ])
    func formatsLikeSQLite(seconds: Double, expected: String) {
        #expect(Timestamp.string(from: Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test(arguments: [(2026, 11, 3, "2026-11-03"), (987, 1, 31, "0987-01-31"), (1, 12, 9, "0001-12-09")])
    func isoDates(year: Int, month: Int, day: Int, expected: String) {
        #expect(Timestamp.isoDate(year: year, month: month, day: day) == expected)
    }

    @Test(
        "containsBytes finds text as UTF-8 bytes, like contains(_:)",
        arguments: [
            ("{\"invoice_ref\": \"F-1\"}", "\"invoice_ref\"", true), ("a..b", "..", true), ("a.b.", "..", false),
            ("=?utf-8?", "=?", true), ("", "x", false), ("abc", "", true), ("Société", "été", true),
            ("ab", "abc", false),
            ("aab", "ab", true), ("abxyz", "xyz", true), ("abxy", "xyz", false), ("xyz", "xyz", true),
            ("\"\"\"\"invoice", "\"invoice_ref\"", false), ("x\"\"a\"ab\"abc\"", "\"abc\"", true),
        ])
    func containsBytes(text: String, needle: String, expected: Bool) {
        #expect(text.containsBytes(needle) == expected)
        #expect(text[...].containsBytes(needle) == expected)
    }

    @Test func roundTrips() throws {
        let date = Date(timeIntervalSince1970: 1_795_435_200.25)
        #expect(Timestamp.date(from: Timestamp.string(from: date)) == date)
    }

    @Test func aManualClockOnlyMovesForward() {
        let start = Date(timeIntervalSince1970: 1_795_435_200)
        let clock = ManualWallClock(start)
        clock.advance(by: 3600)
        #expect(clock.now() == start.addingTimeInterval(3600))
        clock.set(start)
        #expect(clock.now() == start.addingTimeInterval(3600))
    }
}

@Suite("Timestamp.strictInstant: RFC 3339, nothing rolled over")
struct StrictInstantTests {
    @Test(
        "accepted, read as the right instant",
        arguments: [
            ("2026-11-23T12:00:00Z", "2026-11-23T12:00:00.000Z"),
            ("2026-11-23 12:00:00z", "2026-11-23T12:00:00.000Z"),
            ("2026-11-23t13:30:00+01:30", "2026-11-23T12:00:00.000Z"),
            ("2026-11-23T11:00:00.250-01:00", "2026-11-23T12:00:00.250Z"),
            ("2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
            ("2999-12-31T23:59:59.999Z", "2999-12-31T23:59:59.999Z"),
            // make fuzz: .220 is 0.21999… in binary, and was written back as .219.
            ("2038-11-23T09:00:00.220250+01:30", "2038-11-23T07:30:00.220Z"),
            ("2038-11-23T07:30:00.220Z", "2038-11-23T07:30:00.220Z"),
        ])
    func accepted(text: String, stored: String) throws {
        let date = try #require(Timestamp.strictInstant(text))
        #expect(Timestamp.string(from: date) == stored)
    }

    @Test(
        "refused",
        arguments: [
            "2027-02-30T09:00:00Z", "2027-02-29T25:61:61Z", "2027-02-29T09:00:00Z", "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T12:60:00Z",
            "2026-11-23T12:00:60Z", "2026-11-23T12:00:00", "2026-11-23", "2026-11-23T12:00Z",
            "2026-11-23T12:00:00+1:00",
            "2026-11-23T12:00:00+24:00", "2026-11-23T12:00:00.Z", "2026-11-23T12:00:00Z ", "next tuesday", "",
            "2026-W48-1T12:00:00Z", "２０２６-11-23T12:00:00Z",
        ])
    func refused(text: String) {
        #expect(Timestamp.strictInstant(text) == nil)
    }
}
