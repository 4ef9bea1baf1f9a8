import Foundation
import Logging
import RelanceCore
import RelanceEmail
import RelanceStore
import RelanceTemplates
import ServiceLifecycle

/// Everything `relance` needs, built from configuration: what tests and the CLI call.
public struct Runtime: Sendable {
    public let config: RelanceConfig
    public let store: SQLiteJobStore
    public let logger: Logger

    /// Loads the configuration, opens the store and (by default) runs migrations.
    public static func open(configPath: String?, logger: Logger, migrate: Bool = true, logTrace: Bool = false) async throws -> Runtime {
        let config = try await RelanceConfig.load(path: configPath)
        let traceLogger = TraceLogger(logger: logger)
        var sink: (@Sendable ([DeliveryEvent]) -> Void)?
        if logTrace { sink = { events in traceLogger.log(events) } }
        let store = try SQLiteJobStore(
            path: config.databasePath, busyTimeout: config.busyTimeout, defaultMaxAttempts: config.retry.maxAttempts,
            eventSink: sink)
        if migrate { try await store.migrate() }
        return Runtime(config: config, store: store, logger: logger)
    }

    public func loadCatalog() throws -> TemplateCatalog {
        try TemplateCatalog.load(directory: config.templatesDirectory, defaultLocale: config.defaultLocale)
    }

    public func composer() throws -> MessageComposer {
        MessageComposer(catalog: try loadCatalog(), creditor: config.creditor, email: config.email)
    }

    public func makeEmailTransport() throws -> any EmailTransport {
        if config.email.transport == "smtp", let smtp = config.smtp {
            return SMTPTransport(settings: smtp)
        }
        return try OutboxTransport(directory: config.email.outboxDirectory)
    }

    /// The daemon: dispatcher, lease sweeper and pruning, under one service group.
    public func serviceGroup(untilIdle: Bool) throws -> (ServiceGroup, Dispatcher) {
        let dispatcher = Dispatcher(
            store: store, composer: try composer(), transport: try makeEmailTransport(), settings: config.dispatcher,
            retry: config.retry, untilIdle: untilIdle, logger: logger)
        let store = self.store
        let logger = self.logger
        let maxAge = config.retry.maxAge
        let maxAttempts = config.retry.maxAttempts
        let sweeper = PeriodicService(name: "sweeper", interval: config.sweepInterval, logger: logger) {
            let result = try await store.sweep(maxAge: maxAge, maxAttempts: maxAttempts)
            if result != SweepResult() {
                logger.notice(
                    "sweep", metadata: ["requeued": "\(result.requeued)", "uncertain": "\(result.uncertain)", "dead": "\(result.dead)"])
            }
        }
        let retention = config.retention
        let pruner = PeriodicService(name: "pruner", interval: config.pruneInterval, logger: logger) {
            var total = 0
            while true {
                let n = try await store.prune(retention: retention, batch: 500)
                total += n
                if n < 500 { break }
            }
            if total > 0 { logger.info("pruned finished jobs", metadata: ["jobs": "\(total)"]) }
        }
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: dispatcher, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: sweeper), .init(service: pruner),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int(config.dispatcher.drainTimeout * 1000))
        return (ServiceGroup(configuration: configuration), dispatcher)
    }
}
