import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue a job (flags), or many (JSON lines on stdin with --stdin): all or nothing.")
    @OptionGroup var options: GlobalOptions
    @Flag(help: "Read one JSON job per line from stdin.") var stdin = false
    @Option var payer: String?
    @Option var template: String?
    @Option var channel: String = "email"
    @Option(name: .customLong("case")) var caseRef: String?
    @Option(help: "Template variables as a JSON object.") var data: String = "{}"
    @Option(help: "Not before (ISO 8601).") var runAt: String?
    @Option var priority: Int = 0
    @Option var idempotencyKey: String?

    func validate() throws {
        let jobFlags = payer != nil || template != nil || caseRef != nil || runAt != nil || idempotencyKey != nil
        if stdin && (jobFlags || data != "{}" || channel != "email" || priority != 0) {
            throw ValidationError("--stdin reads every job from its JSON lines: give no job flag with it")
        }
    }

    func run() async throws {
        var requests: [(pointer: String, request: EnqueueRequest)] = []
        var errors: [String] = []
        let runtime = try await options.runtime()
        let country = runtime.config.sms.text.defaultCountry
        if stdin {
            let text = try standardInputText()
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                let pointer = "line \(index + 1): "
                do {
                    switch EnqueueRequest.parse(try JSONValue.parse(trimmed), defaultCountry: country) {
                    case .success(let r): requests.append((pointer, r))
                    case .failure(let e): errors += e.errors.map { pointer + $0.description }
                    }
                } catch {
                    errors.append(pointer + "\(error)")
                }
            }
        } else {
            var o: [String: JSONValue] = ["channel": .string(channel), "priority": .number(String(priority))]
            if let payer { o["payer_ref"] = .string(payer) }
            if let template { o["template"] = .string(template) }
            if let caseRef { o["case_ref"] = .string(caseRef) }
            if let runAt { o["run_at"] = .string(runAt) }
            if let idempotencyKey { o["idempotency_key"] = .string(idempotencyKey) }
            do { o["data"] = try JSONValue.parse(data) } catch { errors.append("--data: \(error)") }
            if errors.isEmpty {
                switch EnqueueRequest.parse(.object(o), defaultCountry: country) {
                case .success(let r): requests.append(("", r))
                case .failure(let e):
                    errors += e.errors.map {
                        "--"
                            + $0.pointer.dropFirst().replacingOccurrences(of: "_ref", with: "").replacingOccurrences(
                                of: "_", with: "-") + ": " + $0.message
                    }
                }
            }
        }
        if !errors.isEmpty { throw CLIError("nothing enqueued:\n  " + errors.joined(separator: "\n  ")) }
        if requests.isEmpty { throw CLIError("nothing to enqueue") }
        let enqueuer = Enqueuer(
            store: runtime.store, composer: try runtime.composer(), maxAge: runtime.config.retry.maxAge)
        do {
            let results = try await enqueuer.enqueue(
                requests.map { ($0.pointer.isEmpty ? "" : $0.pointer, $0.request) })
            for result in results {
                print(
                    "\(result.id) \(result.state.rawValue)\(result.created ? "" : " (existing job for this idempotency key)")"
                )
            }
        } catch let error as InvalidFields {
            throw CLIError("nothing enqueued:\n  " + error.errors.map(\.description).joined(separator: "\n  "))
        }
    }
}
