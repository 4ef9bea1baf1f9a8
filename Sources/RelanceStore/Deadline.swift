import Foundation
import Synchronization

/// Runs `operation` and gives up on it after `seconds`: the caller hears `error()` then,
/// and the operation's task is cancelled (it may finish later; its result is dropped).
/// Outside structured concurrency on purpose: a task group would wait for an operation
/// that never ends (a statement on a connection a server restart cut, a lease from a
/// pool whose server is down).
public enum Deadline {
    /// `expired`: asked when the time is up; false lets the operation go on with no
    /// deadline (it is past the part the deadline was for, e.g. waiting for a connection).
    public static func run<T: Sendable>(
        seconds: Double, error: @escaping @Sendable () -> any Error,
        expired: @escaping @Sendable () -> Bool = { true }, onTimeout: @escaping @Sendable () -> Void = {},
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome(continuation)
            let work = Mutex<Task<Void, Never>?>(nil)
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                guard !Task.isCancelled, expired(), outcome.resume(with: .failure(error())) else { return }
                work.withLock { $0?.cancel() }
                onTimeout()
            }
            work.withLock {
                $0 = Task {
                    do {
                        outcome.resume(with: .success(try await operation()))
                    } catch {
                        outcome.resume(with: .failure(error))
                    }
                    timer.cancel()
                }
            }
        }
    }

    /// Resumes a continuation once, whoever comes first.
    final class Outcome<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>

        init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

        @discardableResult
        func resume(with result: Result<T, any Error>) -> Bool {
            guard
                let continuation = continuation.withLock({ c in
                    defer { c = nil }; return c
                })
            else { return false }
            continuation.resume(with: result)
            return true
        }
    }
}
