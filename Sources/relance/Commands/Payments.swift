import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelancePayments
import RelanceStore

struct PaymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments", abstract: "Bank statements matched to open invoices (lettrage, docs/PAYMENTS.md).",
        subcommands: [Import.self, Unmatched.self, Dismiss.self])

    /// The largest statement file read (a busy account's month is well under it).
    static let maxFileBytes = 64 << 20

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Read camt.053 statements (or camt.054 notifications): record the payments they identify, list the rest for review. Importing a file again changes nothing."
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "camt.053 / camt.054 XML files.") var files: [String]
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            // Every file is read and checked before anything is recorded: a broken file in
            // a batch changes nothing.
            var documents: [(String, CamtDocument)] = []
            for file in files {
                let bytes: [UInt8]
                do { bytes = try PaymentsCommand.read(file) } catch let error as CLIError { throw error }
                do { documents.append((file, try CamtReader.read(bytes))) } catch {
                    throw CLIError("\(file): \(error)")
                }
            }
            let runtime = try await options.runtime()
            let desk = PaymentDesk(store: runtime.store, invoices: try InvoiceCommand.desk(runtime))
            var reports: [JSONValue] = []
            for (file, document) in documents {
                let report = try await desk.importLines(document.lines)
                if json {
                    guard case .object(var body) = report.json else { continue }
                    body["file"] = .string(file)
                    reports.append(.object(body))
                } else {
                    let accounts = Set(document.statements.map(\.account)).sorted().joined(separator: ", ")
                    print(
                        "\(file): \(document.kind.rawValue).\(document.version) \(document.messageID), account \(accounts)"
                    )
                    for line in report.text.split(separator: "\n") { print(PaymentsCommand.shown(String(line))) }
                    // Matched all the same (a company may have several accounts), but said.
                    if let own = IBAN(runtime.config.creditor.iban),
                        let other = document.statements.first(where: { IBAN($0.account) != own })
                    {
                        print("note: account \(other.account) is not creditor.iban (\(own.grouped))")
                    }
                }
            }
            if json { print(JSONValue.array(reports).jsonText) }
        }
    }

    /// Text from a statement as a terminal shows it: control and format characters (a
    /// right-to-left override in a payer's name would reorder the line) become `?`.
    static func shown(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map {
                    [.control, .format].contains($0.properties.generalCategory) ? "?" : $0
                }))
    }

    static func read(_ file: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw CLIError("\(file): cannot be read") }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxFileBytes + 1) ?? Data() } catch {
            throw CLIError("\(file): \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw CLIError("\(file): more than \(maxFileBytes >> 20) MiB, not a statement Relance reads")
        }
        return Array(data)
    }

    struct Unmatched: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Statement lines waiting for review: not matched, ambiguous, overpaid, in another currency.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Every line imported, matched and dismissed ones too.") var all = false
        @Option(help: "At most this many lines.") var limit = 100

        func run() async throws {
            guard (1...100_000).contains(limit) else { throw CLIError("--limit: from 1 to 100000") }
            let runtime = try await options.runtime()
            let lines = try await runtime.store.bankLines(reviewOnly: !all, limit: limit)
            if json {
                print(JSONValue.array(lines.map(\.json)).jsonText)
                return
            }
            for stored in lines {
                let line = stored.line
                let who = [line.debtorName, line.debtorIBAN].compactMap { $0 }.joined(separator: " ")
                print(
                    PaymentsCommand.shown(
                        "\(line.id) \(stored.status.rawValue)\(stored.review.map { " " + $0.rawValue } ?? "") "
                            + "\(Invoice.text(line.amount)) \(line.currency) \(line.valueDate ?? line.bookingDate ?? "") "
                            + "\(who.isEmpty ? "" : "from \(who) ")— \(stored.note)"))
                let remittance = line.remittance
                if !remittance.isEmpty { print("    remittance: " + PaymentsCommand.shown(remittance)) }
            }
            if lines.isEmpty { print(all ? "no statement line imported" : "no statement line waits for review") }
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Take a line off the review list (after recording its payment with `invoice pay`, or when it is not for an invoice)."
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The line's id, as `payments unmatched` shows it.") var id: String
        @Option(help: "Why, kept with the line.") var note: String = ""

        func run() async throws {
            let runtime = try await options.runtime()
            guard try await runtime.store.dismissLine(id: id, note: note) else {
                throw CLIError("no statement line \(id) waits for review")
            }
            print("\(id): dismissed")
        }
    }
}
