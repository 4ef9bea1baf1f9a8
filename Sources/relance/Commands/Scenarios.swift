import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceTemplates

struct Scenarios: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dunning scenarios: check them, or show the schedule one would give an invoice.",
        subcommands: [Check.self, Plan.self])

    static func load(_ config: RelanceConfig) throws -> (ScenarioCatalog, TemplateCatalog) {
        do {
            let scenarios = try ScenarioCatalog.load(
                directory: config.scenariosDirectory, overrides: config.scenarioOffsets)
            let templates = try TemplateCatalog.load(
                directory: config.templatesDirectory, defaultLocale: config.defaultLocale)
            return (scenarios, templates)
        } catch {
            throw CLIError("\(error)")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every scenario file and check each step's message has the parts its channels need.")
        @OptionGroup var options: GlobalOptions
        func run() async throws {
            let config: RelanceConfig
            config = try await RelanceConfig.load(path: options.configPath)
            let (scenarios, templates) = try Scenarios.load(config)
            let problems = scenarios.check(against: templates)
            for scenario in scenarios.scenarios {
                let steps = scenario.steps.map { "\($0.id) \($0.offsetDays >= 0 ? "D+" : "D")\($0.offsetDays)" }
                print(
                    "scenario \(scenario.name) [\(scenario.segments.joined(separator: ", "))]: \(steps.joined(separator: ", "))"
                )
            }
            for problem in problems { print("FAIL \(problem)") }
            print("\(scenarios.scenarios.count) scenario(s), \(problems.count) problem(s)")
            if !problems.isEmpty { throw ExitCode.failure }
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the jobs a scenario would schedule for an invoice of a payer. Enqueues nothing.")
        @OptionGroup var options: GlobalOptions
        @Option var payer: String
        @Option(help: "The invoice's due date, YYYY-MM-DD.") var due: String
        @Option(help: "The balance left, a decimal.") var balance: String = "0"
        @Option(help: "A scenario by name (default: the payer's segment's).") var scenario: String?
        @Option(name: .customLong("case"), help: "The invoice number (case_ref).") var caseRef: String = "CASE"
        func run() async throws {
            let runtime = try await options.runtime()
            let (scenarios, _) = try Scenarios.load(runtime.config)
            guard let payerProfile = try await runtime.store.payer(ref: payer) else {
                throw CLIError("payer \(payer) does not exist")
            }
            guard let chosen = scenarios.scenario(named: scenario, for: payerProfile) else {
                throw CLIError("no scenario '\(scenario ?? payerProfile.segment)'")
            }
            guard let amount = Invoice.parseAmount(balance) else {
                throw CLIError("--balance: '\(balance)' is not a decimal")
            }
            let composer = try runtime.composer()
            let desk = InvoiceDesk(store: runtime.store, composer: composer, scenarios: scenarios, clock: runtime.clock)
            let usable = desk.usableChannels(
                payerProfile, without: try await runtime.store.suppressedChannels(payerRef: payerProfile.ref))
            let plan = try chosen.plan(
                caseRef: caseRef, dueDay: due, balance: amount, payer: payerProfile, usable: usable
            ) { message, channel in
                composer.hasTemplate(message, for: channel, payerProfile)
            }
            print(
                "scenario \(chosen.name) for \(payerProfile.ref) (\(payerProfile.segment)), usable channels: "
                    + usable.map(\.rawValue).joined(separator: ", "))
            for job in plan.jobs {
                print("\(job.day)  \(job.step)  \(job.message)  \(job.channel.rawValue)  key=\(job.idempotencyKey)")
            }
            for reason in plan.skipped { print("skipped \(reason)") }
        }
    }
}
