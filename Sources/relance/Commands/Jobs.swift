import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore
import RelanceTransport

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect jobs.", subcommands: [List.self, Show.self, Resolve.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: GlobalOptions
        @Option var state: String?
        @Option(name: .customLong("case")) var caseRef: String?
        @Option var payer: String?
        @Option var limit: Int = 100
        @Flag var json = false
        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }
        func run() async throws {
            var filter = JobFilter(caseRef: caseRef, payerRef: payer, limit: limit)
            if let state {
                guard let s = JobState(rawValue: state) else {
                    throw CLIError(
                        "--state: unknown state '\(state)' (\(JobState.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                filter.state = s
            }
            let runtime = try await options.runtime()
            for job in try await runtime.store.jobs(filter) {
                print(json ? TraceFormatter.json(job).jsonText : TraceFormatter.summary(job))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int64
        @Flag var json = false
        @Flag(help: "Print the exact bytes sent (the MIME message, the SMS text, the letter's PDF), from the archive.")
        var content = false
        @Option(help: "With --content: this attempt rather than the last one sent.") var attempt: Int?
        @Option(help: "With --content: write the bytes to this file instead of standard output.") var out: String?
        func validate() throws {
            if !content, attempt != nil || out != nil { throw ValidationError("--attempt and --out go with --content") }
        }
        func run() async throws {
            let runtime = try await options.runtime()
            guard let job = try await runtime.store.job(id: id) else { throw CLIError("job \(id) does not exist") }
            if content { return try await printContent(runtime.store) }
            let events = try await runtime.store.events(jobID: id)
            if json {
                var o = TraceFormatter.json(job).objectValue!
                o["trace"] = .array(events.map { (try? JSONValue.parse(TraceFormatter.json($0))) ?? .null })
                print(JSONValue.object(o).jsonText)
                return
            }
            print(TraceFormatter.summary(job))
            for event in events { print("  " + TraceFormatter.line(event)) }
        }

        /// The archived bytes, checked against the trace's SHA-256 (the store refuses
        /// bytes that no longer match); what was checked goes to standard error.
        func printContent(_ store: any JobStore) async throws {
            let found = try await store.sentContent(jobID: id, attempt: attempt)
            guard case .found(_, let message) = found else { throw CLIError(found.explanation(jobID: id)) }
            if let out, out != "-" {
                do { try SafeFile.write(message.bytes, to: out) } catch { throw CLIError("\(error)") }
            } else {
                FileHandle.standardOutput.write(Data(message.bytes))
            }
            FileHandle.standardError.write(
                Data(
                    "\(found.explanation(jobID: id)), \(message.bytes.count) bytes, hash checked against the trace\n"
                        .utf8))
        }
    }
}

extension Jobs {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a finished job, typically an uncertain one: requeue, mark-sent or cancel.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int64
        @Argument(help: "requeue, mark-sent or cancel.") var decision: String
        @Option(help: "Why (kept in the trace).") var note: String = ""
        @Flag(help: "Also requeue a sent or cancelled job, mark a cancelled one sent, ... (refused otherwise).")
        var force = false
        func run() async throws {
            guard let decision = OperatorDecision(rawValue: decision) else {
                throw CLIError(
                    "decision must be one of \(OperatorDecision.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let runtime = try await options.runtime()
            guard let job = try await runtime.store.resolve(jobID: id, decision: decision, note: note, force: force)
            else {
                throw CLIError("job \(id) does not exist")
            }
            print(TraceFormatter.summary(job))
        }
    }
}
