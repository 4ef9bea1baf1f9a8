import CProcessTuning
import Foundation
import Logging
import RelanceAPI
import RelanceConsole
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceStore
import RelanceStorePostgres
import RelanceTemplates
import RelanceTransport
import ServiceLifecycle

/// Everything `relance` needs, built from configuration: what tests and the CLI call.
public struct Runtime: Sendable {
    public let config: RelanceConfig
    public let store: any JobStore
    public let logger: Logger
    /// "Now" for the store, the dispatcher and the invoice desk alike.
    public var clock: any WallClock { store.clock }

    /// Opens the store for an already loaded configuration.
    public static func open(
        config: RelanceConfig, logger: Logger, migrate: Bool = true, logTrace: Bool = false,
        clock: any WallClock = SystemWallClock()
    ) async throws -> Runtime {
        let traceLogger = TraceLogger(logger: logger)
        var sink: (@Sendable ([DeliveryEvent]) -> Void)?
        if logTrace { sink = { events in traceLogger.log(events) } }
        let store = try openStore(config: config, logger: logger, clock: clock, eventSink: sink)
        if migrate { try await store.migrate() }
        return Runtime(config: config, store: store, logger: logger)
    }

    /// The backend the configuration names: PostgreSQL with `database.url`, else SQLite.
    static func openStore(
        config: RelanceConfig, logger: Logger, clock: any WallClock = SystemWallClock(),
        eventSink: (@Sendable ([DeliveryEvent]) -> Void)? = nil
    ) throws -> any JobStore {
        if let postgres = config.postgres {
            var poolLogger = logger
            // The pool logs every failed connection attempt at info: the daemon says it once.
            poolLogger.logLevel = max(logger.logLevel, .warning)
            return try PostgresJobStore(
                settings: postgres, clock: clock, defaultMaxAttempts: config.retry.maxAttempts,
                sinkEnqueued: logger.logLevel <= .info, logger: poolLogger, eventSink: eventSink)
        }
        return try SQLiteJobStore(
            path: config.databasePath, busyTimeout: config.busyTimeout, defaultMaxAttempts: config.retry.maxAttempts,
            clock: clock, sinkEnqueued: logger.logLevel <= .info, eventSink: eventSink)
    }

    /// Where the jobs are, for messages: the SQLite file or the PostgreSQL URL without its password.
    public var storeName: String { config.postgres?.redacted ?? config.databasePath }

    public func loadCatalog() throws -> TemplateCatalog {
        try TemplateCatalog.load(directory: config.templatesDirectory, defaultLocale: config.defaultLocale)
    }

    public func composer() throws -> MessageComposer {
        let catalog = try loadCatalog()
        return MessageComposer(
            catalog: catalog, creditor: config.creditor, email: config.email, sms: config.sms.text,
            letters: config.letters, scenarios: try? Self.scenarios(config, against: catalog).get(),
            deadlineDays: config.deadlineDays,
            payments: config.payments)
    }

    /// The dunning scenarios, when they load and every step's message has the parts its
    /// channels need in `catalog` (what `relance scenarios check` says); else why not.
    public static func scenarios(_ config: RelanceConfig, against catalog: TemplateCatalog) -> Result<
        ScenarioCatalog, ScenarioError
    > {
        do {
            let scenarios = try ScenarioCatalog.load(
                directory: config.scenariosDirectory, overrides: config.scenarioOffsets)
            let problems = scenarios.check(against: catalog)
            return problems.isEmpty ? .success(scenarios) : .failure(ScenarioError(problems.joined(separator: "; ")))
        } catch let error as ScenarioError {
            return .failure(error)
        } catch {
            return .failure(ScenarioError("\(error)"))
        }
    }

    public func makeLetterTransport() throws -> any LetterTransport {
        try Self.letterTransport(config.letters)
    }

    static func letterTransport(_ letters: LetterSettings) throws -> any LetterTransport {
        if letters.transport == .httpUpload, let url = letters.uploadURL {
            return HTTPUploadTransport(
                settings: HTTPUploadSettings(url: url, headers: letters.uploadHeaders, idField: letters.uploadIDField),
                http: letters.http)
        }
        return try SpoolTransport(directory: letters.spoolDirectory)
    }

    public func makeSMSTransport() throws -> any SMSTransport {
        try Self.smsTransport(config.sms)
    }

    static func smsTransport(_ sms: RelanceConfig.SMSConfig) throws -> any SMSTransport {
        if let kannel = sms.kannel {
            return KannelTransport(settings: kannel, http: sms.http, callbacks: sms.callbacks)
        }
        if let twilio = sms.twilio {
            return TwilioTransport(settings: twilio, http: sms.http, callbacks: sms.callbacks)
        }
        if let webhook = sms.webhook {
            return WebhookTransport(settings: webhook, http: sms.http, callbacks: sms.callbacks)
        }
        return try SMSOutboxTransport(directory: sms.outboxDirectory)
    }

    public func makeEmailTransport() throws -> any EmailTransport {
        if config.email.transport == .smtp, let smtp = config.smtp {
            return SMTPTransport(settings: smtp)
        }
        return try OutboxTransport(directory: config.email.outboxDirectory)
    }

    /// The daemon: dispatcher, lease sweeper and pruning, under one service group.
    /// `api`: whether the HTTP API runs (when configured).
    public func serviceGroup(untilIdle: Bool, api runAPI: Bool = true, configPath: String? = nil) throws -> (
        ServiceGroup, Dispatcher
    ) {
        removeStaleFiles()
        if let sqlite = store as? SQLiteJobStore, ServeLock.held == nil {
            // Shared with other daemons on the file; `relance db copy` waits for none of them.
            guard let lock = try ServeLock.take(path: sqlite.lockPath, exclusive: false) else {
                throw MoveError("\(sqlite.path) is being copied by `relance db copy` (it holds \(sqlite.lockPath))")
            }
            ServeLock.held = lock
        }
        // Freed memory stays with the process up to 128 MB a heap, and blocks up to 8 MB
        // come from the heap rather than a mapping each (malloc_tuning.c).
        _ = relance_keep_freed_memory(128 << 20, 8 << 20)
        let metrics = RelanceMetrics()
        let composer = try composer()
        let dispatcher = Dispatcher(
            store: store, composer: composer,
            transports: Transports(
                email: try makeEmailTransport(), sms: try makeSMSTransport(),
                smsLimiter: RateLimiter(rate: config.sms.transport == .outbox ? nil : config.sms.rate),
                letters: try makeLetterTransport()),
            windows: config.windows, settings: config.dispatcher,
            retry: config.retry, untilIdle: untilIdle, logger: logger, metrics: metrics, clock: clock)
        let store = self.store
        let logger = self.logger
        let maxAge = config.retry.maxAge
        let maxAttempts = config.retry.maxAttempts
        let sweeper = PeriodicService(name: "sweeper", interval: config.sweepInterval, logger: logger) {
            let result = try await store.sweep(maxAge: maxAge, maxAttempts: maxAttempts)
            if result != SweepResult() {
                logger.notice(
                    "sweep",
                    metadata: [
                        "requeued": "\(result.requeued)", "uncertain": "\(result.uncertain)", "dead": "\(result.dead)",
                    ])
            }
        }
        let retention = config.retention
        let archiveRetention = config.archiveRetention
        let pruner = PeriodicService(name: "pruner", interval: config.pruneInterval, logger: logger) {
            var total = 0
            while true {
                let n = try await store.prune(retention: retention, batch: 500)
                total += n
                if n < 500 { break }
            }
            if total > 0 { logger.info("pruned finished jobs", metadata: ["jobs": "\(total)"]) }
            var archived = 0
            while true {
                let n = try await store.pruneArchive(retention: archiveRetention, batch: 500)
                archived += n
                if n < 500 { break }
            }
            if archived > 0 { logger.info("pruned archived messages", metadata: ["messages": "\(archived)"]) }
        }
        // The trace's hash chain: events sealed a moment after they are written.
        let sealer = PeriodicService(name: "sealer", interval: 1, logger: logger) {
            // Batches of 500: on SQLite the writer is held a few milliseconds at a time.
            while try await store.sealTrace(batch: 500) == 500 {}
        }
        // The storage's own care (`StoreHousekeeping`): on SQLite, the write-ahead log
        // copied into the file off the write path (`SQLiteJobStore.checkpoint`).
        let checkpointer = PeriodicService(name: "checkpointer", interval: 0.25, logger: logger) {
            try await store.housekeep()
        }
        // On SIGTERM the group stops services one at a time, last first: systemd hears
        // STOPPING=1 at once, then the dispatcher stops claiming and drains, then the
        // reloader, the API (which accepted jobs until then), the checkpointer, pruning
        // and the sweeper.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: sweeper), .init(service: pruner), .init(service: sealer), .init(service: checkpointer),
        ]
        if let notifications = store as? any JobNotifications {
            services.append(
                .init(
                    service: JobListener(notifications: notifications, logger: logger) { lag in
                        dispatcher.wake()
                        if let lag { metrics.notified(lag: lag) }
                    }))
        }
        // Like the API, not with `--until-idle` (it runs beside a daemon that listens).
        if runAPI, let listen = config.lmtpListen {
            let store = self.store
            services.append(
                .init(
                    service: LMTPListener(host: listen.host, port: listen.port, logger: logger) {
                        let composer = dispatcher.currentComposer
                        return composer.email.bounces.map {
                            BounceDesk(store: store, composer: composer, addresses: $0)
                        }
                    }))
        }
        if runAPI, let api = config.api {
            services.append(.init(service: try apiApplication(api, dispatcher: dispatcher, metrics: metrics)))
        }
        if runAPI, let console = config.console {
            services.append(.init(service: consoleApplication(console, dispatcher: dispatcher)))
        }
        let notifier = SystemdNotifier()
        services.append(
            .init(service: Reloader(configPath: configPath, dispatcher: dispatcher, notifier: notifier, logger: logger))
        )
        services.append(.init(service: dispatcher, successTerminationBehavior: .gracefullyShutdownGroup))
        services.append(
            .init(
                service: NotifyService(notifier: notifier, dispatcher: dispatcher, logger: logger) {
                    guard let w = try? await store.workload() else { return nil }
                    return "\(w.due) due, \(w.running) running, \(w.scheduled) scheduled"
                }))
        var configuration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int(config.dispatcher.drainTimeout * 1000))
        let group = ServiceGroup(configuration: configuration)
        dispatcher.onIdle { await group.triggerGracefulShutdown() }
        return (group, dispatcher)
    }
}

extension Runtime {
    /// From now until the daemon runs, SIGTERM and SIGINT stop it cleanly instead of
    /// killing it: call first thing in `serve`.
    public static func catchEarlySignals() { relance_catch_early_signals() }

    /// Runs the daemon's service group; a SIGTERM or SIGINT received while it was starting
    /// shuts it down gracefully (the group installs its own handlers when it starts).
    public static func run(_ group: ServiceGroup) async throws {
        if relance_early_signal() != 0 { await group.triggerGracefulShutdown() }
        let watcher = Task {
            // Until the group's handlers are surely in place: a signal in between is
            // caught by ours, and passed on here.
            for _ in 0..<100 where !Task.isCancelled {
                if relance_early_signal() != 0 {
                    await group.triggerGracefulShutdown()
                    return
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { watcher.cancel() }
        try await group.run()
    }

    /// Temporary files a killed process left in the outbox and spool folders.
    func removeStaleFiles() {
        var folders: Set<String> = []
        if config.email.transport == .outbox { folders.insert(config.email.outboxDirectory) }
        if config.sms.transport == .outbox { folders.insert(config.sms.outboxDirectory) }
        if config.letters.transport == .spool { folders.insert(config.letters.spoolDirectory) }
        for folder in folders.sorted() {
            let removed = OutboxFile.removeStale(in: folder)
            if !removed.isEmpty {
                logger.notice(
                    "removed temporary files left by a stopped process",
                    metadata: ["folder": "\(folder)", "files": "\(removed.count)"])
            }
        }
    }

    /// Invoices over the API need the scenarios: when they did not load, the routes answer
    /// 404 until a reload brings them, and the log says why.
    func warnIfScenariosMissing(_ composer: MessageComposer) {
        // The composer loaded and checked them; asked again only to say why they are missing.
        guard composer.scenarios == nil else { return }
        var why = "not loaded"
        if case .failure(let error) = Self.scenarios(config, against: composer.catalog) { why = "\(error)" }
        logger.warning("dunning scenarios not loaded; /v1/invoices is unavailable", metadata: ["error": "\(why)"])
    }

    /// The HTTP API, sharing the daemon's store and waking its dispatcher.
    func apiApplication(_ api: RelanceConfig.APIConfig, dispatcher: Dispatcher, metrics: RelanceMetrics) throws
        -> any Service
    {
        let store = self.store
        let document =
            (try? String(contentsOfFile: api.openAPIFile, encoding: .utf8))
            ?? "# OpenAPI document not found at \(api.openAPIFile)\n"
        if api.tokens.count == 0 {
            logger.warning("HTTP API has no tokens (api.tokens_file): every /v1 request will be refused")
        }
        logger.info(
            "HTTP API starting",
            metadata: ["address": "\(api.settings.host):\(api.settings.port)", "tokens": "\(api.tokens.count)"])
        let templatesDirectory = config.templatesDirectory
        warnIfScenariosMissing(dispatcher.currentComposer)
        var environment = APIEnvironment(
            store: store, composer: { dispatcher.currentComposer }, maxAge: config.retry.maxAge, tokens: api.tokens,
            openAPIDocument: document,
            readiness: {
                var checks: [String: String?] = [:]
                do {
                    // Answered within 3 s whatever the database does: a readiness probe
                    // that hangs is worse than one that says no.
                    try await Deadline.run(seconds: 3, error: { ReadinessTimeout() }) {
                        _ = try await store.workload()
                        try await store.checkWritable()
                    }
                    checks["database"] = .some(nil)
                } catch {
                    checks["database"] = "\(error)"
                }
                checks["templates"] =
                    dispatcher.currentComposer.catalog.messages.isEmpty
                    ? "no template loaded from \(templatesDirectory)" : .some(nil)
                return checks
            },
            metricsText: { await metrics.text(store: store) },
            onEnqueued: { channels, due in
                for channel in channels { metrics.enqueued(channel: channel) }
                if due { dispatcher.wake() }
            },
            onResponse: { method, route, status in metrics.httpResponse(method: method, route: route, status: status) },
            callbackSigner: config.sms.callbacks?.signer)
        environment.clock = store.clock
        environment.twilioAuthToken = config.sms.twilio?.authToken
        environment.callbackBaseURL = config.sms.callbacks?.baseURL
        return APIServer.makeApplication(settings: api.settings, environment: environment, logger: logger)
    }
}

extension Runtime {
    /// The web console, sharing the daemon's store and waking its dispatcher after a
    /// job is put back in the queue.
    func consoleApplication(_ settings: ConsoleSettings, dispatcher: Dispatcher) -> any Service {
        if settings.usersFile == nil {
            logger.warning("web console has no users (console.users_file): nobody can sign in")
        }
        logger.info("web console starting", metadata: ["address": "\(settings.host):\(settings.port)"])
        let environment = ConsoleEnvironment(
            store: store, composer: { dispatcher.currentComposer }, clock: store.clock,
            templatesDirectory: config.templatesDirectory, onRequeued: { dispatcher.wake() })
        return ConsoleServer.makeApplication(settings: settings, environment: environment, logger: logger)
    }
}

struct ReadinessTimeout: Error, CustomStringConvertible {
    var description: String { "the database did not answer within 3 s" }
}
