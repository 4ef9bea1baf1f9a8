import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct PayerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payer", abstract: "Manage payer profiles.", subcommands: [Upsert.self, Show.self])

    struct Upsert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a payer (flags, or --json).",
            discussion: """
                With flags, an existing payer keeps every field not given; a new one gets the \
                defaults shown. --json replaces the whole profile.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "The whole payer as JSON ('-' reads stdin); no other field flag with it.") var json: String?
        @Option var ref: String?
        @Option(help: "Required for a new payer.") var name: String?
        @Option(help: "BCP 47, e.g. fr-FR (new payer: fr-FR).") var locale: String?
        @Option(help: "IANA time zone (new payer: Europe/Paris).") var timezone: String?
        @Option(help: "new payer: standard") var segment: String?
        @Option var email: String?
        @Option(help: "E.164 (+33612345678), or national for the locale's country (06 12 34 56 78 with fr-FR).")
        var phone: String?
        @Option(name: .customLong("address-line"), help: "A postal address line (repeat; replaces the address).")
        var addressLines: [String] = []
        @Option(help: "Preferred channels, comma-separated (new payer: email).") var channels: String?
        @Option(help: "business or consumer: decides the legal texts (new payer: business).") var kind: String?

        func run() async throws {
            let given: [(String, JSONValue?)] = [
                ("name", name.map(JSONValue.string)), ("locale", locale.map(JSONValue.string)),
                ("timezone", timezone.map(JSONValue.string)), ("segment", segment.map(JSONValue.string)),
                ("email", email.map(JSONValue.string)), ("phone", phone.map(JSONValue.string)),
                (
                    "postal_address",
                    // JSONValue? (not JSONValue, whose nil literal is JSON null): no flag, no change.
                    addressLines.isEmpty ? JSONValue?.none : JSONValue.array(addressLines.map(JSONValue.string))
                ),
                (
                    "channels",
                    channels.map { .array($0.split(separator: ",").map { .string(String($0)) }) }
                ),
                ("kind", kind.map(JSONValue.string)),
            ]
            let value: JSONValue
            let runtime: Runtime
            if let json {
                if ref != nil || given.contains(where: { $0.1 != nil }) {
                    throw CLIError("--json holds the whole payer: give no other field flag with it")
                }
                let text =
                    json == "-" ? try standardInputText() : json
                do { value = try JSONValue.parse(text) } catch { throw CLIError("--json: \(error)") }
                runtime = try await options.runtime()
            } else {
                guard let ref else { throw CLIError("give --ref (and --name for a new payer), or --json") }
                runtime = try await options.runtime()
                var o: [String: JSONValue]
                if let existing = try await runtime.store.payer(ref: ref), case .object(let stored) = existing.jsonValue
                {
                    o = stored
                } else {
                    guard name != nil else { throw CLIError("payer \(ref) is new: give --name") }
                    o = [
                        "ref": .string(ref), "locale": .string("fr-FR"), "timezone": .string("Europe/Paris"),
                        "segment": .string("standard"), "channels": .array([.string("email")]),
                    ]
                }
                for case (let key, let field?) in given { o[key] = field }
                value = .object(o)
            }
            switch EnqueueRequest.parsePayer(value, pointer: "", defaultCountry: runtime.config.sms.text.defaultCountry)
            {
            case .failure(let errors): throw CLIError("invalid payer: \(errors)")
            case .success(let payer):
                let refused = Enqueuer(store: runtime.store, composer: try runtime.composer()).payerErrors(payer)
                if !refused.isEmpty { throw CLIError("invalid payer: \(refused)") }
                try await runtime.store.upsertPayer(payer)
                print("payer \(payer.ref) saved")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a payer as JSON.")
        @OptionGroup var options: GlobalOptions
        @Argument var ref: String
        func run() async throws {
            let runtime = try await options.runtime()
            guard let payer = try await runtime.store.payer(ref: ref) else {
                throw CLIError("payer \(ref) does not exist")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(payer), as: UTF8.self))
        }
    }
}
