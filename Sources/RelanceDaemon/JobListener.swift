import Logging
import RelanceStore
import ServiceLifecycle
import Synchronization

/// Wakes the dispatcher's idle workers when a job is enqueued anywhere (PostgreSQL's
/// LISTEN/NOTIFY: the API of any node, the CLI, another service's SQL). Polling stays
/// the fallback: while the listening connection is down the workers still find their
/// jobs at `dispatcher.poll_interval`, and the listener connects again with a growing
/// pause (1 s to 30 s), saying so once per outage.
public struct JobListener: Service {
    let notifications: any JobNotifications
    let wake: @Sendable (Double?) -> Void
    let logger: Logger

    public init(notifications: any JobNotifications, logger: Logger, wake: @escaping @Sendable (Double?) -> Void) {
        self.notifications = notifications
        self.wake = wake
        self.logger = logger
    }

    public func run() async throws {
        let failures = Mutex(0)
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        try await notifications.listenForJobs(
                            connected: {
                                let after = failures.withLock { count in
                                    defer { count = 0 }
                                    return count
                                }
                                if after > 0 {
                                    logger.notice(
                                        "listening for enqueued jobs again", metadata: ["after_failures": "\(after)"])
                                } else {
                                    logger.info("listening for enqueued jobs")
                                }
                            }, wake: wake)
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        let count = failures.withLock { count in
                            count += 1
                            return count
                        }
                        if count == 1 {
                            logger.warning(
                                "listening for enqueued jobs failed; polling meanwhile",
                                metadata: ["error": "\(error)"])
                        }
                        try await Task.sleep(for: .seconds(min(30, count)))
                    }
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }
}
