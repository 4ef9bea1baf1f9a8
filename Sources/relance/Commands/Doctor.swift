import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check that this installation can work: database, templates, SMTP, SMS gateway, spool folders. Sends nothing."
    )
    @OptionGroup var options: GlobalOptions
    func run() async throws {
        let config: RelanceConfig
        do { config = try await RelanceConfig.load(path: options.configPath) } catch {
            print("FAIL configuration: \(error)")
            throw ExitCode.failure
        }
        let lines = await RelanceDaemon.Doctor(config: config).run()
        for line in lines { print(line) }
        if lines.contains(where: { $0.verdict == .fail }) { throw ExitCode.failure }
    }
}
