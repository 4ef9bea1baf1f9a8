import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration; list its keys.",
        subcommands: [Check.self, Keys.self])
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every key; print the effective values, secrets redacted.")
        @OptionGroup var options: GlobalOptions
        func run() async throws {
            do {
                let config = try await RelanceConfig.load(path: options.configPath)
                for (key, value) in config.effective { print("\(key) = \(value)") }
                print("database (effective) = \(config.postgres?.redacted ?? config.databasePath)")
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

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every configuration key with its type, default and meaning.")
        @Flag(help: "As the README's Markdown table.") var markdown = false
        func run() {
            if markdown {
                print(ConfigKeys.markdownTable(), terminator: "")
                return
            }
            for spec in ConfigKeys.all {
                let value: String
                switch spec.defaultValue {
                case .value(let text): value = text.isEmpty ? "(empty)" : text
                case .derived(let text), .none(let text): value = text.replacingOccurrences(of: "`", with: "")
                }
                var limits = ""
                if let range = spec.range { limits = ", \(range.lowerBound)–\(range.upperBound)" }
                if let seconds = spec.seconds {
                    limits =
                        ", \(ConfigKeySpec.text(seconds: seconds.lowerBound))–\(ConfigKeySpec.text(seconds: seconds.upperBound))"
                }
                if let choices = spec.choices { limits = ": " + choices.joined(separator: ", ") }
                print("\(spec.key)  (\(spec.kind)\(limits))  default: \(value)")
                if !spec.doc.isEmpty { print("    " + spec.doc.replacingOccurrences(of: "`", with: "")) }
            }
        }
    }
}
