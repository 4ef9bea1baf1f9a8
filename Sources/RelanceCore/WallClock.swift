import Foundation
import Synchronization

/// The time of day as Relance sees it: when a job is due, when a send window opens,
/// the date printed on a letter, when a trace event happened. The daemon reads the
/// system clock; tests and simulations inject a clock they move themselves, so that
/// weeks of a dunning scenario play out in a second.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that stands still until it is set or advanced: for tests and simulations.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock to `date` (never backwards: time in the store only moves on).
    public func set(_ date: Date) {
        current.withLock { $0 = max($0, date) }
    }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
