import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceStore

struct InvoiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice", abstract: "Invoices looked after by a dunning scenario.",
        subcommands: [Open.self, Pay.self, Hold.self, Show.self])

    /// The desk with the scenarios the daemon would use: loaded and checked against the
    /// templates (`relance scenarios check`), or refused with why.
    static func desk(_ runtime: Runtime) throws -> InvoiceDesk {
        let composer = try runtime.composer()
        // The composer holds them when they loaded and passed the check; else say why.
        if let scenarios = composer.scenarios {
            return InvoiceDesk(store: runtime.store, composer: composer, scenarios: scenarios, clock: runtime.clock)
        }
        if case .failure(let error) = Runtime.scenarios(runtime.config, against: composer.catalog) {
            throw CLIError("dunning scenarios: \(error)")
        }
        throw CLIError("dunning scenarios: not loaded")
    }

    static func decimal(_ text: String, _ name: String) throws -> Decimal {
        guard let value = Invoice.parseAmount(text) else {
            throw CLIError("--\(name): '\(text)' is not a decimal amount such as 1250.00")
        }
        return value
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an invoice and schedule its scenario's steps (repeating it changes nothing).")
        @OptionGroup var options: GlobalOptions
        @Option var payer: String
        @Option(help: "The invoice number: the case_ref of its jobs.") var number: String
        @Option var amount: String
        @Option var currency: String = "EUR"
        @Option(help: "YYYY-MM-DD") var issued: String
        @Option(help: "YYYY-MM-DD") var due: String
        @Option(help: "A scenario by name (default: the payer's segment's).") var scenario: String?
        func run() async throws {
            let runtime = try await options.runtime()
            let opening = try await InvoiceCommand.desk(runtime).open(
                ref: number, payerRef: payer, amount: try InvoiceCommand.decimal(amount, "amount"),
                currency: currency, issueDate: issued, dueDate: due, scenario: scenario)
            print(
                "invoice \(opening.invoice.ref) \(opening.created ? "registered" : "already registered") "
                    + "(scenario \(opening.invoice.scenario), balance \(Invoice.text(opening.invoice.balance)) \(opening.invoice.currency))"
            )
            for (job, result) in zip(opening.planned, opening.results) {
                print(
                    "\(result.id) \(result.created ? "scheduled" : "exists   ") \(job.day) \(job.step) \(job.message) \(job.channel.rawValue)"
                )
            }
            for reason in opening.skipped { print("skipped \(reason)") }
        }
    }

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Record a payment: the balance later messages show; paid in full, pending steps are cancelled and the payer thanked once."
        )
        @OptionGroup var options: GlobalOptions
        @Option var number: String
        @Option var amount: String
        @Option(help: "YYYY-MM-DD (default: today in the payer's time zone)") var date: String?
        func run() async throws {
            let runtime = try await options.runtime()
            let outcome = try await InvoiceCommand.desk(runtime).pay(
                ref: number, amount: try InvoiceCommand.decimal(amount, "amount"), date: date)
            let invoice = outcome.invoice
            print(
                "invoice \(invoice.ref): balance \(Invoice.text(invoice.balance)) \(invoice.currency), \(invoice.status)"
            )
            if outcome.settled {
                print(
                    "cancelled \(outcome.cancelled) pending job(s); thanks: "
                        + outcome.thanks.map { "\($0.id)\($0.created ? "" : " (exists)")" }.joined(separator: ", "))
            }
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold an invoice's pending steps through a date (dispute, promise to pay), or lift the hold.")
        @OptionGroup var options: GlobalOptions
        @Option var number: String
        @Option(help: "YYYY-MM-DD: the steps wait until the next morning.") var until: String?
        @Option(help: "dispute, promise-to-pay or other.") var reason: String = "dispute"
        @Flag(help: "Lift the hold: the steps are due again at their own time.") var lift = false
        func run() async throws {
            guard lift != (until != nil) else { throw CLIError("give --until YYYY-MM-DD, or --lift") }
            let runtime = try await options.runtime()
            let outcome = try await InvoiceCommand.desk(runtime).hold(
                ref: number, until: lift ? nil : until, reason: lift ? "lifted" : reason)
            print(
                lift
                    ? "invoice \(number): hold lifted, \(outcome.jobs) job(s) due again at their own time"
                    : "invoice \(number): held (\(reason)) until \(outcome.invoice.holdUntil ?? "?"), \(outcome.jobs) job(s) deferred"
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An invoice and its jobs.")
        @OptionGroup var options: GlobalOptions
        @Option var number: String
        func run() async throws {
            let runtime = try await options.runtime()
            guard let invoice = try await runtime.store.invoice(ref: number) else {
                throw CLIError("invoice \(number) is not registered")
            }
            print(
                "invoice \(invoice.ref) payer=\(invoice.payerRef) scenario=\(invoice.scenario) due=\(invoice.dueDate) "
                    + "amount=\(Invoice.text(invoice.amount)) balance=\(Invoice.text(invoice.balance)) \(invoice.currency) \(invoice.status)"
                    + (invoice.reference.map { " reference=\"\(RFReference.display($0))\"" } ?? "")
            )
            for job in try await runtime.store.jobs(JobFilter(caseRef: number, limit: 1000)) {
                print("\(job.id) \(job.state.rawValue) \(job.channel) \(job.template) run_at=\(job.runAt)")
            }
        }
    }
}
