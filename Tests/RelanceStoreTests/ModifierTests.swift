import Foundation
import Testing

@testable import RelanceStore

@Suite("SQLite date modifiers", .sqliteOnly)
struct ModifierTests {
    @Test(
        "seconds are written with a sign and milliseconds",
        arguments: [
            (120.0, "+120.000 seconds"), (0.25, "+0.250 seconds"), (-1.0, "-1.000 seconds"), (0.0, "+0.000 seconds"),
            (-2_592_000.0, "-2592000.000 seconds"), (59.9996, "+60.000 seconds"), (0.0123, "+0.012 seconds"),
            (-0.05, "-0.050 seconds"), (1e20, "+100000000000000000000.000 seconds"),
        ])
    func table(_ seconds: Double, _ expected: String) {
        #expect(SQLiteJobStore.modifier(seconds: seconds) == expected)
    }

    @Test("the same text as printf's %+.3f for 20,000 values from a fixed seed")
    func likePrintf() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(1 << 53)
            let seconds = (unit - 0.5) * 2 * pow(10, Double(state % 9))
            let expected = String(format: "%+.3f seconds", seconds)
            // printf keeps the sign of a value that rounds to zero; SQLite reads both alike.
            if expected.hasPrefix("-0.000") { continue }
            #expect(SQLiteJobStore.modifier(seconds: seconds) == expected, "\(seconds)")
        }
    }
}
