import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")
    @OptionGroup var options: GlobalOptions
    func run() async throws {
        let runtime = try await options.runtime(migrate: false)
        let applied = try await runtime.store.migrate()
        let path = runtime.storeName
        print(
            applied.isEmpty
                ? "database \(path) is up to date" : "database \(path): applied \(applied.joined(separator: ", "))")
    }
}
