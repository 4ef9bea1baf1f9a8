import ArgumentParser
import Foundation
import Logging
import NIOCore
import RelanceCore
import RelanceDaemon
import RelanceStore
import RelanceTemplates
import RelanceTransport

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration.", subcommands: [Check.self])
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every key; print the effective values, secrets redacted.")
        @OptionGroup var options: GlobalOptions
        func run() async throws {
            do {
                let config = try await RelanceConfig.load(path: options.configPath)
                for (key, value) in config.effective { print("\(key) = \(value)") }
                print("database.path (effective) = \(config.databasePath)")
                print("templates.directory (effective) = \(config.templatesDirectory)")
                print("email.transport (effective) = \(config.email.transport)")
                print("dispatcher.lease (effective) = \(config.dispatcher.lease)")
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: config.templatesDirectory, isDirectory: &isDirectory),
                    isDirectory.boolValue
                else {
                    throw ConfigError(
                        "templates.directory: \(config.templatesDirectory) does not exist or is not a directory")
                }
                print("configuration ok")
            } catch {
                throw CLIError("configuration: \(error)")
            }
        }
    }
}
