import ArgumentParser
import Foundation
import Logging
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore

@main
struct Relance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relance",
        abstract: "Sends payment reminders by e-mail, SMS and letter, and keeps a trace of every step.",
        subcommands: [
            Serve.self, Migrate.self, PayerCommand.self, Enqueue.self, Cancel.self, Jobs.self, Tail.self, Render.self,
            Templates.self, Scenarios.self, InvoiceCommand.self, Report.self, ConfigCommand.self, Doctor.self,
            DatabaseCommand.self, DKIMCommand.self, Bounce.self, PaymentsCommand.self, ConsoleCommand.self,
            CaseCommand.self,
        ])

    /// Arguments are checked as bytes first: Swift reads them with invalid UTF-8 repaired
    /// (U+FFFD), which would make two different keys or references the same.
    static func main() async {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
            if TextRules.strictUTF8(bytes) == nil {
                FileHandle.standardError.write(Data("Error: argument \(index) is not valid UTF-8\n".utf8))
                Foundation.exit(64)
            }
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: CLIError.mapped(error))
        }
    }
}

/// Standard input as text, refused when it is not UTF-8 (naming the line).
func standardInputText() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    if let text = TextRules.strictUTF8(data) { return text }
    throw CLIError("standard input, line \(TextRules.firstInvalidUTF8(data)?.line ?? 1): not valid UTF-8")
}

struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "YAML configuration file (default: $RELANCE_CONFIG, else built-in defaults and RELANCE_* variables).")
    var config: String?

    var configPath: String? { config ?? ProcessInfo.processInfo.environment["RELANCE_CONFIG"] }

    /// Opens the runtime; configuration errors become a clean message and exit code.
    func runtime(logTrace: Bool = false, bootstrapLogging: Bool = false, migrate: Bool = true) async throws -> Runtime {
        // Loaded once: it reads secret files, and logging must be set up before the first logger.
        let config = try await RelanceConfig.load(path: configPath)
        if bootstrapLogging { LogSetup.bootstrapOnce(format: config.logFormat, level: config.logLevel) }
        return try await Runtime.open(
            config: config, logger: Logger(label: "relance"), migrate: migrate, logTrace: logTrace)
    }
}

/// An error ArgumentParser prints as `Error: <message>` on stderr, with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    /// The one place an error a command did not handle becomes what the CLI prints (as
    /// `Error: …`, exit code 1). ArgumentParser's own errors, help and exit codes pass
    /// through unchanged.
    static func mapped(_ error: any Error) -> any Error {
        switch error {
        case let error as ConfigError: CLIError("configuration: \(error)")
        case let error as ScenarioError: CLIError(error.message)
        case let error as OperatorError: CLIError(error.message)
        case let error as InvalidFields: CLIError(error.errors.map(\.description).joined(separator: "\n"))
        default: error
        }
    }
}

/// The process's logging backend, set up once (named apart from the swift-log module).
enum LogSetup {
    nonisolated(unsafe) static var bootstrapped = false
    static func bootstrapOnce(format: String, level: String) {
        guard !bootstrapped else { return }
        bootstrapped = true
        LoggingSystem.bootstrap { label in
            LineLogHandler(
                label: label, format: LineLogHandler.Format(rawValue: format) ?? .logfmt,
                level: Logger.Level(rawValue: level) ?? .info)
        }
    }
}
