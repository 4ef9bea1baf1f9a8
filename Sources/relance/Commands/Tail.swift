import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the delivery trace, one line per event.")
    @OptionGroup var options: GlobalOptions
    @Flag(name: .shortAndLong, help: "Keep printing new events.") var follow = false
    @Flag var json = false
    @Option(name: .customLong("case")) var caseRef: String?
    @Option var channel: String?
    @Option(name: .shortAndLong, help: "How many recent events to print first.") var lines: Int = 100

    func validate() throws {
        if let channel, Channel(rawValue: channel) == nil {
            throw ValidationError(
                "--channel: unknown channel '\(channel)' (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more") }
    }

    func run() async throws {
        let runtime = try await options.runtime()
        let filter = EventFilter(caseRef: caseRef, channel: channel)
        // Find where the last `lines` events start, then print forward.
        var after: Int64 = 0
        var recent: [DeliveryEvent] = []
        while true {
            let batch = try await runtime.store.events(after: after, filter: filter, limit: 5000)
            recent += batch
            if recent.count > lines { recent.removeFirst(recent.count - lines) }
            guard let last = batch.last else { break }
            after = last.id
        }
        for event in recent { emit(event) }
        guard follow else { return }
        while !Task.isCancelled {
            let batch = try await runtime.store.events(after: after, filter: filter, limit: 1000)
            for event in batch { emit(event) }
            if let last = batch.last { after = last.id } else { try await Task.sleep(for: .milliseconds(250)) }
        }
    }

    func emit(_ event: DeliveryEvent) {
        // Written straight away (not buffered) so that `tail -f | grep` sees each event.
        let line = (json ? TraceFormatter.json(event) : TraceFormatter.line(event)) + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
