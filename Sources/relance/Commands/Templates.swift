import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceTemplates

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the template catalog.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse every template and render every message × locale × part × variant with sample data.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Templates directory (default: from configuration).") var directory: String?
        @Flag(help: "Also run hunspell over every template's text (docs/TEMPLATES.md, Spelling).")
        var spelling = false
        func run() async throws {
            let config: RelanceConfig
            config = try await RelanceConfig.load(path: options.configPath)
            let catalog: TemplateCatalog
            do {
                catalog = try TemplateCatalog.load(
                    directory: directory ?? config.templatesDirectory, defaultLocale: config.defaultLocale)
            } catch {
                throw CLIError("\(error)")
            }
            var report = TemplateChecker(catalog: catalog, creditor: config.creditor, sms: config.sms.text).run()
            if spelling {
                do {
                    let findings = try SpellingCheck(directory: catalog.directory).run()
                    report.problems += findings.map { "spelling: \($0)" }
                    print("spelling: \(findings.count) word(s) refused by hunspell")
                } catch {
                    report.problems.append("spelling: \(error)")
                }
            }
            for warning in catalog.wordingWarnings { print("WARN \(warning)") }
            for (name, measure) in report.sms { print("sms \(name): \(measure)") }
            for problem in report.problems { print("FAIL \(problem)") }
            print(
                "\(catalog.messages.count) messages, \(catalog.locales.count) locales, \(report.rendered) parts rendered, \(report.problems.count) problem(s)"
            )
            if !report.problems.isEmpty { throw ExitCode.failure }
        }
    }
}
