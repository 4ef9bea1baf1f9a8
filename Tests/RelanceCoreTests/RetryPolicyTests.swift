import RelanceCore
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
    let policy = RetryPolicy(baseDelay: 30, maxDelay: 3600, maxAttempts: 8, maxAge: 86400)

    @Test(
        "the ceiling doubles from the base delay, then stays at the maximum",
        arguments: [
            (1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0), (5, 480.0), (6, 960.0), (7, 1920.0),
            (8, 3600.0), (9, 3600.0), (30, 3600.0), (1000, 3600.0),
        ])
    func ceiling(attempt: Int, expected: Double) {
        #expect(policy.ceiling(afterAttempt: attempt) == expected)
    }

    @Test("defaults: 30 s base, capped at one hour")
    func defaults() {
        let policy = RetryPolicy()
        #expect(policy.ceiling(afterAttempt: 1) == 30)
        #expect(policy.ceiling(afterAttempt: 20) == 3600)
        #expect(policy.maxAttempts == 8)
        #expect(policy.maxAge == 3 * 86400)
    }

    @Test("a nonsensical attempt number 0 or less gives the base delay, not less")
    func attemptZero() {
        #expect(policy.ceiling(afterAttempt: 0) == 30)
        #expect(policy.ceiling(afterAttempt: -5) == 30)
    }

    @Test("jitter stays within [ceiling/2, ceiling]", arguments: [0.0, 0.5, 0.999], 1...12)
    func jitterBounds(unit: Double, attempt: Int) {
        let ceiling = policy.ceiling(afterAttempt: attempt)
        let delay = policy.delay(afterAttempt: attempt, unit: unit)
        #expect(delay >= ceiling / 2)
        #expect(delay <= ceiling)
    }

    @Test("jitter is linear in the random unit")
    func jitterValues() {
        #expect(policy.delay(afterAttempt: 1, unit: 0) == 15)
        #expect(policy.delay(afterAttempt: 1, unit: 0.5) == 22.5)
        #expect(policy.delay(afterAttempt: 3, unit: 0) == 60)
        #expect(policy.delay(afterAttempt: 20, unit: 0.5) == 2700)
    }

    @Test("a random unit out of [0, 1] is clamped", arguments: [-3.0, 1.0, 7.5])
    func clampedUnit(unit: Double) {
        let delay = policy.delay(afterAttempt: 2, unit: unit)
        #expect(delay >= 30 && delay <= 60)
    }

    @Test("gives up once the attempts are used", arguments: [8, 9, 50])
    func giveUpOnAttempts(attempt: Int) {
        let decision = policy.decision(afterAttempt: attempt, age: 0, unit: 0.5)
        #expect(decision == .giveUp(reason: "no attempt left (\(attempt) of 8 used)"))
    }

    @Test("retries while attempts remain", arguments: 1...7)
    func retries(attempt: Int) {
        let decision = policy.decision(afterAttempt: attempt, age: 0, unit: 0)
        #expect(decision == .retry(after: policy.delay(afterAttempt: attempt, unit: 0)))
    }

    @Test("a per-job maximum overrides the policy, lower or higher")
    func override() {
        #expect(
            policy.decision(afterAttempt: 3, maxAttemptsOverride: 3, age: 0, unit: 0)
                == .giveUp(reason: "no attempt left (3 of 3 used)"))
        #expect(policy.decision(afterAttempt: 2, maxAttemptsOverride: 3, age: 0, unit: 0) == .retry(after: 30))
        // The policy says 8, the job says 12: attempt 8 is retried.
        #expect(policy.decision(afterAttempt: 8, maxAttemptsOverride: 12, age: 0, unit: 0) == .retry(after: 1800))
        #expect(
            policy.decision(afterAttempt: 1, maxAttemptsOverride: 1, age: 0, unit: 0)
                == .giveUp(reason: "no attempt left (1 of 1 used)"))
    }

    @Test("gives up when the retry would come after the maximum age")
    func giveUpOnAge() {
        // Attempt 1, unit 0: delay 15 s.
        #expect(
            policy.decision(afterAttempt: 1, age: 86400 - 10, unit: 0)
                == .giveUp(reason: "older than the maximum age of 86400 s"))
        #expect(policy.decision(afterAttempt: 1, age: 86400 - 15, unit: 0) == .retry(after: 15))
        #expect(policy.decision(afterAttempt: 1, age: 86400 - 20, unit: 0) == .retry(after: 15))
        #expect(
            policy.decision(afterAttempt: 1, age: 200_000, unit: 0)
                == .giveUp(reason: "older than the maximum age of 86400 s"))
    }

    @Test("attempts are checked before age")
    func attemptsFirst() {
        #expect(
            policy.decision(afterAttempt: 8, age: 1_000_000, unit: 0)
                == .giveUp(reason: "no attempt left (8 of 8 used)"))
    }
}
