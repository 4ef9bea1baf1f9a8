import Logging
import ServiceLifecycle

/// Runs `tick` every `interval` seconds until graceful shutdown (sweeper, pruning).
public struct PeriodicService: Service {
    let name: String
    let interval: Double
    let logger: Logger
    let tick: @Sendable () async throws -> Void

    public init(name: String, interval: Double, logger: Logger, tick: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.tick = tick
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        try await tick()
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.error("\(name) failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }
}
