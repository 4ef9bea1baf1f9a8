import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Which scenario steps bring cash in: sent, delivered, invoices paid within 7 and 30 days, amount recovered."
    )
    @OptionGroup var options: GlobalOptions
    @Option(help: "Steps sent since this date (YYYY-MM-DD); default: all.") var since: String?
    @Option var scenario: String?
    @Flag(help: "JSON lines instead of a table.") var json = false
    func run() async throws {
        let runtime = try await options.runtime()
        let scenarios = try ScenarioCatalog.load(
            directory: runtime.config.scenariosDirectory, overrides: runtime.config.scenarioOffsets)
        let figures = try await StepReport.figures(
            store: runtime.store, scenarios: scenarios, since: since, scenario: scenario)
        if json {
            for f in figures { print(f.jsonValue.jsonText) }
        } else {
            for line in StepReport.table(figures) { print(line) }
        }
    }
}
