import ArgumentParser
import Foundation
import RelanceDunning
import RelanceTransport

/// `relance case export`: a case's history, messages and hash chain in one file.
struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "A case's evidence.", subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a case's history (every job and trace event, with the trace's hash chain), the exact messages sent and a checksum list to one ZIP file."
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case reference (the invoice number for a scenario).") var caseRef: String
        @Option(help: "The ZIP file to write.") var out: String

        func run() async throws {
            let runtime = try await options.runtime()
            let exported = try await CaseExport(store: runtime.store, clock: runtime.store.clock).export(
                caseRef: caseRef)
            do { try SafeFile.write(exported.zip, to: out) } catch { throw CLIError("\(error)") }
            print(
                "\(out): case \(caseRef), \(exported.sealed) sealed event(s), \(exported.messages) message(s), chain head \(exported.head ?? "none")"
            )
            if exported.unsealed > 0 {
                print("\(exported.unsealed) event(s) not sealed yet (the daemon seals them within seconds)")
            }
            for name in exported.missing { print("not archived: \(name)") }
            if !exported.problems.isEmpty {
                for problem in exported.problems { print("evidence: \(problem)") }
                throw CLIError(
                    "the evidence of case \(caseRef) was altered: a trace event changed or removed, or a message missing or corrupted (written to \(out) all the same)"
                )
            }
        }
    }
}
