import ArgumentParser
import Foundation
import Logging
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceEmail

/// One message that came back to the bounce address, read on stdin: for a Postfix `pipe`
/// transport or a `.forward` (docs/EMAIL.md). Exits 0 when the message was handled or
/// ignored (it names no job, it is no report), and 75 (`EX_TEMPFAIL`) when it could not
/// be recorded (configuration, database), so that the MTA keeps it and tries again.
struct Bounce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read one bounce, delay notice, complaint or automatic reply on stdin into its job.",
        discussion: "Exit status: 0 handled or ignored; 75 (EX_TEMPFAIL) when it could not be recorded.")
    @OptionGroup var options: GlobalOptions
    @Option(
        name: .customLong("recipient"),
        help: "The address the MTA delivered it to (Postfix: ${original_recipient}); repeatable.")
    var recipients: [String] = []
    @Flag(
        help:
            "Only classify: print what the parser reads as one JSON line (per file, or for stdin); no configuration or database."
    )
    var dryRun = false
    @Argument(help: "With --dry-run: message files to classify instead of stdin.") var files: [String] = []

    static let exitTemporaryFailure: Int32 = 75

    func run() async throws {
        if dryRun {
            if files.isEmpty {
                print(Self.json(BounceParser.parse(Self.readStandardInput(limit: BounceParser.maximumInput))).jsonText)
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CLIError("\(file): cannot read")
                }
                var report = Self.json(BounceParser.parse(Array(data.prefix(BounceParser.maximumInput))))
                report = .object((report.objectValue ?? [:]).merging(["file": .string(file)]) { $1 })
                print(report.jsonText)
            }
            return
        }
        guard files.isEmpty else { throw CLIError("message files are read with --dry-run only") }
        // Read first: whatever happens next, the MTA must not see a broken pipe.
        let bytes = Self.readStandardInput(limit: BounceParser.maximumInput)
        let handling: BounceDesk.Handling
        do {
            // Never a database created here by mistake (a wrong path, a relative
            // `state_directory` from another working directory): the bounce would be
            // "unmatched" and lost.
            let config = try await RelanceConfig.load(path: options.configPath)
            if config.postgres == nil, !FileManager.default.fileExists(atPath: config.databasePath) {
                throw CLIError(
                    "database \(config.databasePath) does not exist (state_directory or database.path, relative to \(FileManager.default.currentDirectoryPath)?)"
                )
            }
            let runtime = try await Runtime.open(config: config, logger: Logger(label: "relance"), migrate: false)
            guard try await runtime.store.isMigrated() else {
                throw CLIError("database \(runtime.storeName) holds no current Relance schema (run relance migrate)")
            }
            guard let addresses = runtime.config.email.bounces else {
                throw CLIError("email.bounce_address is not set: bounces cannot be matched to jobs")
            }
            let desk = BounceDesk(store: runtime.store, composer: try runtime.composer(), addresses: addresses)
            handling = try await desk.handle(bytes, envelopeRecipients: recipients)
        } catch {
            FileHandle.standardError.write(Data("relance bounce: deferred: \(CLIError.mapped(error))\n".utf8))
            throw ExitCode(Self.exitTemporaryFailure)
        }
        let job = handling.jobID.map { " job=\($0)" } ?? ""
        print("relance bounce: \(handling.kind)\(job): \(handling.summary)")
    }

    /// What the parser read, for `--dry-run`.
    static func json(_ report: BounceReport) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let recipients: [JSONValue] = report.recipients.map {
            .object([
                "address": .string($0.address), "action": text($0.action), "status": text($0.status),
                "diagnostic": text($0.diagnostic), "remote_mta": text($0.remoteMTA),
            ])
        }
        return .object([
            "kind": .string(report.kind.rawValue), "reason": .string(report.reason), "recipients": .array(recipients),
            "feedback_type": text(report.feedbackType), "original_message_id": text(report.originalMessageID),
            "delivered_to": .array(report.deliveredTo.map(JSONValue.string)),
        ])
    }

    /// Up to `limit` bytes; the rest is read and dropped (a DSN's report comes first; what
    /// follows is the returned message).
    static func readStandardInput(limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                // A message cut short could read as no bounce at all: the MTA must keep it.
                FileHandle.standardError.write(
                    Data("relance bounce: deferred: standard input: \(String(cString: strerror(errno)))\n".utf8))
                Foundation.exit(exitTemporaryFailure)
            }
            guard count > 0 else { break }
            if bytes.count < limit { bytes += buffer[..<min(count, limit - bytes.count)] }
        }
        return bytes
    }
}
