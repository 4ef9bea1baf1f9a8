import Foundation
import Logging
import RelanceDunning
import RelanceTemplates
import ServiceLifecycle
import UnixSignals

/// SIGHUP: reloads the configuration file and the templates, atomically. Both are
/// loaded and checked first; only when everything loads does the daemon switch, from
/// the next job on (jobs in flight finish with what they started with). A broken file
/// is refused with its name and line and the previous set stays in force.
///
/// What a reload changes: templates, creditor, e-mail headers, SMS text settings, send
/// windows. Transports, database, dispatcher sizes and the API address need a restart.
final class Reloader: Service {
    let configPath: String?
    let dispatcher: Dispatcher
    let notifier: SystemdNotifier
    let logger: Logger

    init(configPath: String?, dispatcher: Dispatcher, notifier: SystemdNotifier, logger: Logger) {
        self.configPath = configPath
        self.dispatcher = dispatcher
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                await reload()
            }
        } onGracefulShutdown: {
        }
    }

    func reload() async {
        let now = DispatchTime.now().uptimeNanoseconds / 1000
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(now)")
        logger.notice("SIGHUP: reloading configuration and templates", metadata: ["config": "\(configPath ?? "-")"])
        do {
            let config: RelanceConfig
            do { config = try await RelanceConfig.load(path: configPath) } catch {
                throw ReloadError("configuration: \(error)")
            }
            let catalog = try TemplateCatalog.load(
                directory: config.templatesDirectory, defaultLocale: config.defaultLocale)
            let report = TemplateChecker(catalog: catalog, creditor: config.creditor, sms: config.sms.text).run()
            if !report.problems.isEmpty {
                throw ReloadError("templates: " + report.problems.joined(separator: "; "))
            }
            // Scenarios reload with the templates they use; once in force, broken ones refuse
            // the reload (a segment they name would otherwise be known but not served).
            var scenarios: ScenarioCatalog?
            switch Runtime.scenarios(config, against: catalog) {
            case .success(let loaded): scenarios = loaded
            case .failure(let error):
                if dispatcher.currentComposer.scenarios != nil { throw ReloadError("scenarios: \(error)") }
            }
            dispatcher.replace(
                composer: MessageComposer(
                    catalog: catalog, creditor: config.creditor, email: config.email, sms: config.sms.text,
                    letters: config.letters, scenarios: scenarios, deadlineDays: config.deadlineDays,
                    payments: config.payments),
                windows: config.windows)
            logger.notice(
                "reloaded",
                metadata: [
                    "templates": "\(config.templatesDirectory)", "messages": "\(catalog.messages.count)",
                    "parts_checked": "\(report.rendered)",
                ])
        } catch {
            logger.error(
                "reload refused; the previous configuration and templates stay in force",
                metadata: ["error": "\(error)"])
        }
        notifier.notify("READY=1")
    }
}

struct ReloadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
