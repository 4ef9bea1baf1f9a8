import ArgumentParser
import Foundation
import RelanceAPI
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon: dispatcher, lease sweeper and pruning.")
    @OptionGroup var options: GlobalOptions
    @Flag(
        help: "Exit 0 once no due work remains (for demos, cron and tests). Without --api, the HTTP API is not started."
    )
    var untilIdle = false
    @Flag(help: "With --until-idle: run the HTTP API too (api.listen).")
    var api = false

    func run() async throws {
        Runtime.catchEarlySignals()
        let runtime = try await options.runtime(logTrace: true, bootstrapLogging: true)
        let (group, _) = try runtime.serviceGroup(
            untilIdle: untilIdle, api: !untilIdle || api, configPath: options.configPath)
        runtime.logger.info(
            "relance serving",
            metadata: [
                "database": "\(runtime.storeName)", "templates": "\(runtime.config.templatesDirectory)",
            ])
        do {
            try await Runtime.run(group)
            // The trace's last events sealed before leaving (`--until-idle` stops within
            // the sealer's second); on PostgreSQL the next node seals the latest ones.
            while (try? await runtime.store.sealTrace(batch: 2000)) ?? 0 > 0 {}
        } catch {
            if let api = runtime.config.api, APIServer.isListenFailure(error) {
                throw CLIError(
                    "the HTTP API cannot listen on \(api.settings.host):\(api.settings.port) (api.listen): \(error)")
            }
            throw error
        }
    }
}
