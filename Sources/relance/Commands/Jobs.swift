import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore

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
        func run() async throws {
            let runtime = try await options.runtime()
            guard let job = try await runtime.store.job(id: id) else { throw CLIError("job \(id) does not exist") }
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
