import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel every job of a case not yet dispatched.")
    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("case")) var caseRef: String
    @Option(help: "paid, dispute or manual.") var reason: String = "manual"
    func run() async throws {
        guard let reason = CancelReason(operatorChoice: reason) else {
            throw CLIError("--reason must be paid, dispute or manual")
        }
        let runtime = try await options.runtime()
        let result = try await runtime.store.cancelCase(caseRef, reason: reason)
        print(
            "\(result.total) job(s) of case \(caseRef) cancelled (\(result.cancelled) queued, \(result.inFlight) in flight)"
        )
    }
}
