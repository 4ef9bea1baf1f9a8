import Foundation
import RelanceCore
import RelanceStore
import Synchronization

/// The overview's figures that count many rows (messages finished over 30 days, open
/// balances by age, the effect of each step over 90 days): computed at most once a
/// minute, and only while someone looks. A request gets the latest figures at once, with
/// the time they were computed; when they are older than `maxAge` it also starts their
/// refresh, in the background, one at a time. The very first request waits for them.
final class OverviewSnapshot: Sendable {
    struct Figures: Sendable {
        var computedAt: Date
        var today: [String: [String: Int]]
        var month: [String: [String: Int]]
        var balances: [OpenBalance]
        var steps: [StepFigures]
    }

    let maxAge: TimeInterval
    private let state = Mutex<(figures: Figures?, refreshing: Bool)>((nil, false))

    init(maxAge: TimeInterval = 60) { self.maxAge = maxAge }

    func figures(store: any JobStore, now: Date) async throws -> Figures {
        let (current, start) = state.withLock { state -> (Figures?, Bool) in
            // Figures much older than the minute (nobody looked for a while) are not
            // shown: counted again, now.
            guard let figures = state.figures, now.timeIntervalSince(figures.computedAt) <= 5 * maxAge else {
                return (nil, false)
            }
            let stale = now.timeIntervalSince(figures.computedAt) > maxAge
            let start = stale && !state.refreshing
            if start { state.refreshing = true }
            return (figures, start)
        }
        if let current {
            if start {
                Task {
                    let fresh = try? await Self.compute(store: store, now: now)
                    state.withLock { state in
                        if let fresh { state.figures = fresh }
                        state.refreshing = false
                    }
                }
            }
            return current
        }
        let fresh = try await Self.compute(store: store, now: now)
        state.withLock { $0.figures = fresh }
        return fresh
    }

    /// Starts counting in the background when nothing is counted yet: called by the sign-in
    /// page, so that the figures are ready when the overview is asked for a few seconds
    /// later (someone is about to look).
    func warm(store: any JobStore, now: Date) {
        let start = state.withLock { state -> Bool in
            guard state.figures == nil, !state.refreshing else { return false }
            state.refreshing = true
            return true
        }
        guard start else { return }
        Task {
            let fresh = try? await Self.compute(store: store, now: now)
            state.withLock { state in
                if let fresh, state.figures == nil { state.figures = fresh }
                state.refreshing = false
            }
        }
    }

    static func compute(store: any JobStore, now: Date) async throws -> Figures {
        let utc = TimeZone(identifier: "UTC")!
        async let today = store.finishedCounts(since: Timestamp.isoDate(of: now, in: utc) + "T00:00:00.000Z")
        async let month = store.finishedCounts(since: Timestamp.string(from: now.addingTimeInterval(-30 * 86400)))
        async let balances = store.openBalances()
        async let steps = store.stepReport(
            since: Timestamp.string(from: now.addingTimeInterval(-90 * 86400)), scenario: nil)
        return Figures(
            computedAt: now, today: try await today, month: try await month, balances: try await balances,
            steps: try await steps)
    }
}
