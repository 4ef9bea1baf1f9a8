/// When to try again after a transient failure, and when to give up.
///
/// Exponential backoff with "equal jitter": the delay for attempt n is
/// `d = min(cap, base · 2^(n-1))`, then a uniform draw in `[d/2, d]`, so retries of
/// many jobs failing together spread out but never come back at once.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay before the first retry, in seconds.
    public var baseDelay: Double
    /// Upper bound of any single delay, in seconds.
    public var maxDelay: Double
    /// A job is `dead` once this many attempts failed transiently.
    public var maxAttempts: Int
    /// A job is `dead` when a retry would come later than this long after it was due, in seconds.
    public var maxAge: Double

    public init(baseDelay: Double = 30, maxDelay: Double = 3600, maxAttempts: Int = 8, maxAge: Double = 3 * 86400) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
    }

    /// The upper bound of the delay after failed attempt `attempt` (1-based), before jitter.
    public func ceiling(afterAttempt attempt: Int) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 60)))
        return min(maxDelay, baseDelay * pow2(exponent))
    }

    /// The delay before the next try; `unit` is a uniform random number in [0, 1).
    public func delay(afterAttempt attempt: Int, unit: Double) -> Double {
        let ceiling = ceiling(afterAttempt: attempt)
        return ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1)
    }

    /// What to do after a transient failure of attempt `attempt` of a job due `age` seconds ago.
    public func decision(afterAttempt attempt: Int, maxAttemptsOverride: Int? = nil, age: Double, unit: Double)
        -> RetryDecision
    {
        let limit = maxAttemptsOverride ?? maxAttempts
        if attempt >= limit {
            return .giveUp(reason: "no attempt left (\(attempt) of \(limit) used)")
        }
        let delay = delay(afterAttempt: attempt, unit: unit)
        if age + delay > maxAge {
            return .giveUp(reason: "older than the maximum age of \(Int(maxAge)) s")
        }
        return .retry(after: delay)
    }

    private func pow2(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e) { r *= 2 }
        return r
    }
}

public enum RetryDecision: Sendable, Equatable {
    case retry(after: Double)
    case giveUp(reason: String)
}
