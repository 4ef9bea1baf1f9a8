import ArgumentParser
import Foundation
import Logging
import RelanceCore
import RelanceDaemon
import RelanceStore
import RelanceTemplates
import RelanceTransport

@main
struct Relance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relance",
        abstract: "Sends payment reminders by e-mail, SMS and letter, and keeps a trace of every step.",
        subcommands: [
            Serve.self, Migrate.self, PayerCommand.self, Enqueue.self, Cancel.self, Jobs.self, Tail.self, Render.self,
            Templates.self, Scenarios.self, InvoiceCommand.self, Report.self, ConfigCommand.self, Doctor.self,
        ])

    /// Arguments are checked as bytes first: Swift reads them with invalid UTF-8 repaired
    /// (U+FFFD), which would make two different keys or references the same.
    static func main() async {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
            if TextRules.strictUTF8(bytes) == nil {
                FileHandle.standardError.write(Data("Error: argument \(index) is not valid UTF-8\n".utf8))
                Foundation.exit(64)
            }
        }
        await main(nil)
    }
}

/// Standard input as text, refused when it is not UTF-8 (naming the line).
func standardInputText() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    if let text = TextRules.strictUTF8(data) { return text }
    throw CLIError("standard input, line \(TextRules.firstInvalidUTF8(data)?.line ?? 1): not valid UTF-8")
}

struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "YAML configuration file (default: $RELANCE_CONFIG, else built-in defaults and RELANCE_* variables).")
    var config: String?

    var configPath: String? { config ?? ProcessInfo.processInfo.environment["RELANCE_CONFIG"] }

    /// Opens the runtime; configuration errors become a clean message and exit code.
    func runtime(logTrace: Bool = false, bootstrapLogging: Bool = false, migrate: Bool = true) async throws -> Runtime {
        do {
            // Loaded once: it reads secret files, and logging must be set up before the first logger.
            let config = try await RelanceConfig.load(path: configPath)
            if bootstrapLogging { Logging.bootstrapOnce(format: config.logFormat, level: config.logLevel) }
            return try await Runtime.open(
                config: config, logger: Logger(label: "relance"), migrate: migrate, logTrace: logTrace)
        } catch let error as ConfigError {
            throw CLIError("configuration: \(error)")
        }
    }
}

/// An error ArgumentParser prints as `Error: <message>` on stderr, with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Logging {
    nonisolated(unsafe) static var bootstrapped = false
    static func bootstrapOnce(format: String, level: String) {
        guard !bootstrapped else { return }
        bootstrapped = true
        LoggingSystem.bootstrap { label in
            LineLogHandler(
                label: label, format: LineLogHandler.Format(rawValue: format) ?? .logfmt,
                level: Logger.Level(rawValue: level) ?? .info)
        }
    }
}

// MARK: serve

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon: dispatcher, lease sweeper and pruning.")
    @OptionGroup var options: GlobalOptions
    @Flag(
        help: "Exit 0 once no due work remains (for demos, cron and tests). Without --api, the HTTP API is not started."
    )
    var untilIdle = false
    @Flag(help: "With --until-idle: run the HTTP API too (api.listen).")
    var api = false

    func run() async throws {
        Runtime.catchEarlySignals()
        let runtime = try await options.runtime(logTrace: true, bootstrapLogging: true)
        let (group, _) = try runtime.serviceGroup(
            untilIdle: untilIdle, api: !untilIdle || api, configPath: options.configPath)
        runtime.logger.info(
            "relance serving",
            metadata: [
                "database": "\(runtime.config.databasePath)", "templates": "\(runtime.config.templatesDirectory)",
            ])
        do {
            try await Runtime.run(group)
        } catch {
            if let api = runtime.config.api, "\(error)".contains("bind(") {
                throw CLIError(
                    "the HTTP API cannot listen on \(api.settings.host):\(api.settings.port) (api.listen): \(error)")
            }
            throw error
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")
    @OptionGroup var options: GlobalOptions
    func run() async throws {
        let runtime = try await options.runtime(migrate: false)
        let applied = try await runtime.store.migrate()
        let path = runtime.config.databasePath
        print(
            applied.isEmpty
                ? "database \(path) is up to date" : "database \(path): applied \(applied.joined(separator: ", "))")
    }
}

// MARK: payers

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

// MARK: enqueue

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

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel every job of a case not yet dispatched.")
    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("case")) var caseRef: String
    @Option(help: "paid, dispute or manual.") var reason: String = "manual"
    func run() async throws {
        guard ["paid", "dispute", "manual"].contains(reason) else {
            throw CLIError("--reason must be paid, dispute or manual")
        }
        let runtime = try await options.runtime()
        let result = try await runtime.store.cancelCase(caseRef, reason: reason)
        print(
            "\(result.total) job(s) of case \(caseRef) cancelled (\(result.cancelled) queued, \(result.inFlight) in flight)"
        )
    }
}

// MARK: jobs and trace

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect jobs.", subcommands: [List.self, Show.self, Resolve.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: GlobalOptions
        @Option var state: String?
        @Option(name: .customLong("case")) var caseRef: String?
        @Option var payer: String?
        @Option var limit: Int = 100
        @Flag var json = false
        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }
        func run() async throws {
            var filter = JobFilter(caseRef: caseRef, payerRef: payer, limit: limit)
            if let state {
                guard let s = JobState(rawValue: state) else {
                    throw CLIError(
                        "--state: unknown state '\(state)' (\(JobState.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                filter.state = s
            }
            let runtime = try await options.runtime()
            for job in try await runtime.store.jobs(filter) {
                print(json ? TraceFormatter.json(job).jsonText : TraceFormatter.summary(job))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int64
        @Flag var json = false
        func run() async throws {
            let runtime = try await options.runtime()
            guard let job = try await runtime.store.job(id: id) else { throw CLIError("job \(id) does not exist") }
            let events = try await runtime.store.events(jobID: id)
            if json {
                var o = TraceFormatter.json(job).objectValue!
                o["trace"] = .array(events.map { (try? JSONValue.parse(TraceFormatter.json($0))) ?? .null })
                print(JSONValue.object(o).jsonText)
                return
            }
            print(TraceFormatter.summary(job))
            for event in events { print("  " + TraceFormatter.line(event)) }
        }
    }
}

extension Jobs {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a finished job, typically an uncertain one: requeue, mark-sent or cancel.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int64
        @Argument(help: "requeue, mark-sent or cancel.") var decision: String
        @Option(help: "Why (kept in the trace).") var note: String = ""
        @Flag(help: "Also requeue a sent or cancelled job, mark a cancelled one sent, ... (refused otherwise).")
        var force = false
        func run() async throws {
            guard let decision = OperatorDecision(rawValue: decision) else {
                throw CLIError(
                    "decision must be one of \(OperatorDecision.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let runtime = try await options.runtime()
            do {
                guard let job = try await runtime.store.resolve(jobID: id, decision: decision, note: note, force: force)
                else {
                    throw CLIError("job \(id) does not exist")
                }
                print(TraceFormatter.summary(job))
            } catch let error as OperatorError {
                throw CLIError(error.message)
            }
        }
    }
}

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

// MARK: render and templates

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what would be sent for a job, or for a payer and template. Sends nothing.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A job id.") var job: Int64?
    @Option var payer: String?
    @Option var template: String?
    @Option var channel: String = "email"
    @Option(name: .customLong("case")) var caseRef: String?
    @Option var data: String?
    @Flag(help: "Print the whole MIME message.") var mime = false
    @Option(help: "For a letter: write the PDF here (a preview; nothing is sent).") var out: String?
    @Option(
        name: .customLong("repeat"),
        help: ArgumentHelp(
            "Render (and compose) it this many times and print the rate (benchmark).", visibility: .hidden)
    )
    var times: Int = 1

    func run() async throws {
        let runtime = try await options.runtime()
        let composer = try runtime.composer()
        var subject: Job
        if let id = job {
            guard let found = try await runtime.store.job(id: id) else { throw CLIError("job \(id) does not exist") }
            subject = found
        } else {
            guard let payer, let template else { throw CLIError("give a job id, or --payer and --template") }
            var dataText = data ?? "{}"
            if data == nil,
                let sample = try? String(
                    contentsOfFile: runtime.config.templatesDirectory + "/samples/\(template).json", encoding: .utf8)
            {
                dataText = sample
            }
            subject = Job(
                id: 0, payerRef: payer, caseRef: caseRef, channel: channel, template: template, data: dataText,
                runAt: "",
                dueAt: "", createdAt: "", updatedAt: "")
        }
        guard let payerProfile = try await runtime.store.payer(ref: subject.payerRef) else {
            throw CLIError("payer \(subject.payerRef) does not exist")
        }
        if subject.attempt == 0 { subject.attempt = 1 }
        if out != nil, subject.channel != Channel.letter.rawValue {
            throw CLIError(
                "--out writes a letter's PDF; this is \(subject.channel == "sms" ? "an SMS" : "an e-mail"): print it (--mime for the whole message) and redirect"
            )
        }
        do {
            if subject.channel == Channel.letter.rawValue {
                let started = ContinuousClock.now
                var (_, letter) = try composer.letter(job: subject, payer: payerProfile)
                for _ in 1..<max(1, times) { letter = try composer.letter(job: subject, payer: payerProfile).letter }
                if times > 1 {
                    let elapsed = (ContinuousClock.now - started).components
                    let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                    print(
                        "rendered \(times) letters of \(letter.pages) page(s) in \(String(format: "%.2f", seconds)) s: "
                            + String(format: "%.0f letters/s (one thread)", Double(times) / seconds))
                }
                guard let out else {
                    throw CLIError("a letter is a PDF: give --out FILE.pdf (\(letter.pages) page(s))")
                }
                do { try SafeFile.write(letter.pdf, to: out) } catch {
                    throw CLIError("\(error)")
                }
                // With `--out -` the PDF is standard output: the summary goes to standard error.
                let summary =
                    "\(out): \(letter.pages) page(s), \(letter.pdf.count) bytes, sha256 \(letter.sha256)\n"
                    + "address: " + letter.address.joined(separator: " / ") + "\n"
                if out == "-" {
                    FileHandle.standardError.write(Data(summary.utf8))
                } else {
                    print(summary, terminator: "")
                }
                return
            }
            if times > 1 {
                // The composition alone (render, context, MIME or SMS encoding), on one
                // thread: what `make bench` sets beside the end-to-end rate.
                let started = ContinuousClock.now
                var bytes = 0
                for _ in 0..<times {
                    if case .email(_, let text) = try composer.compose(job: subject, payer: payerProfile).payload {
                        bytes = text.utf8.count
                    }
                }
                let elapsed = (ContinuousClock.now - started).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                print(
                    "composed \(times) \(subject.channel) messages (\(bytes) bytes) in \(String(format: "%.2f", seconds)) s: "
                        + String(
                            format: "%.0f messages/s, %.1f µs each (one thread)", Double(times) / seconds,
                            seconds / Double(times) * 1e6))
                return
            }
            if mime || subject.channel == Channel.sms.rawValue {
                let composed = try composer.compose(job: subject, payer: payerProfile)
                switch composed.payload {
                case .email(_, let text): print(text.replacingOccurrences(of: "\r\n", with: "\n"))
                case .letter: break
                case .sms(let sms):
                    // What the gateway gets: sanitised text, its encoding and segment count.
                    print("# to \(sms.to), \(sms.encoding.rawValue), \(sms.segments) segment(s)")
                    print(sms.text)
                }
                return
            }
            let rendered = try composer.render(job: subject, payer: payerProfile)
            print(
                "# templates: \(rendered.files.joined(separator: ", ")) (locale \(rendered.locale)\(rendered.variant.map { ", variant \($0)" } ?? ""))"
            )
            for part in RelanceTemplatesParts.order where rendered.parts[part] != nil {
                print("----- \(part.rawValue)")
                print(rendered.parts[part]!)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("cannot render job: \(DispatchFailure.composing(error).message)")
        }
    }
}

enum RelanceTemplatesParts { static let order = TemplatePart.allCases }

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the template catalog.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse every template and render every message × locale × part × variant with sample data.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Templates directory (default: from configuration).") var directory: String?
        func run() async throws {
            let config: RelanceConfig
            do { config = try await RelanceConfig.load(path: options.configPath) } catch {
                throw CLIError("configuration: \(error)")
            }
            let catalog: TemplateCatalog
            do {
                catalog = try TemplateCatalog.load(
                    directory: directory ?? config.templatesDirectory, defaultLocale: config.defaultLocale)
            } catch {
                throw CLIError("\(error)")
            }
            let report = TemplateChecker(catalog: catalog, creditor: config.creditor, sms: config.sms.text).run()
            for (name, measure) in report.sms { print("sms \(name): \(measure)") }
            for problem in report.problems { print("FAIL \(problem)") }
            print(
                "\(catalog.messages.count) messages, \(catalog.locales.count) locales, \(report.rendered) parts rendered, \(report.problems.count) problem(s)"
            )
            if !report.problems.isEmpty { throw ExitCode.failure }
        }
    }
}

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
            do { config = try await RelanceConfig.load(path: options.configPath) } catch {
                throw CLIError("configuration: \(error)")
            }
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
            let (scenarios, templates) = try Scenarios.load(runtime.config)
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
                let part: TemplatePart = channel == .sms ? .sms : channel == .letter ? .letter : .emailText
                return
                    (try? templates.resolve(
                        message: message, part: part, locale: payerProfile.locale, segment: payerProfile.segment))
                    != nil
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

struct InvoiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice", abstract: "Invoices looked after by a dunning scenario.",
        subcommands: [Open.self, Pay.self, Hold.self, Show.self])

    static func desk(_ runtime: Runtime) throws -> InvoiceDesk {
        let scenarios: ScenarioCatalog
        do {
            scenarios = try ScenarioCatalog.load(
                directory: runtime.config.scenariosDirectory, overrides: runtime.config.scenarioOffsets)
        } catch {
            throw CLIError("\(error)")
        }
        return InvoiceDesk(
            store: runtime.store, composer: try runtime.composer(), scenarios: scenarios, clock: runtime.clock)
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
            let opening: InvoiceDesk.Opening
            do {
                opening = try await InvoiceCommand.desk(runtime).open(
                    ref: number, payerRef: payer, amount: try InvoiceCommand.decimal(amount, "amount"),
                    currency: currency, issueDate: issued, dueDate: due, scenario: scenario)
            } catch let error as ScenarioError {
                throw CLIError(error.message)
            }
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
            let outcome: PaymentOutcome
            do {
                outcome = try await InvoiceCommand.desk(runtime).pay(
                    ref: number, amount: try InvoiceCommand.decimal(amount, "amount"), date: date)
            } catch let error as ScenarioError {
                throw CLIError(error.message)
            } catch let error as OperatorError {
                throw CLIError(error.message)
            }
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
            let outcome: HoldOutcome
            do {
                outcome = try await InvoiceCommand.desk(runtime).hold(
                    ref: number, until: lift ? nil : until, reason: lift ? "lifted" : reason)
            } catch let error as ScenarioError {
                throw CLIError(error.message)
            } catch let error as OperatorError {
                throw CLIError(error.message)
            }
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
            )
            for job in try await runtime.store.jobs(JobFilter(caseRef: number, limit: 1000)) {
                print("\(job.id) \(job.state.rawValue) \(job.channel) \(job.template) run_at=\(job.runAt)")
            }
        }
    }
}

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
        let figures: [StepFigures]
        do {
            figures = try await StepReport.figures(
                store: runtime.store, scenarios: scenarios, since: since, scenario: scenario)
        } catch let error as ScenarioError {
            throw CLIError(error.message)
        }
        if json {
            for f in figures { print(f.jsonValue.jsonText) }
        } else {
            for line in StepReport.table(figures) { print(line) }
        }
    }
}

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check that this installation can work: database, templates, SMTP, SMS gateway, spool folders. Sends nothing."
    )
    @OptionGroup var options: GlobalOptions
    func run() async throws {
        let config: RelanceConfig
        do { config = try await RelanceConfig.load(path: options.configPath) } catch {
            print("FAIL configuration: \(error)")
            throw ExitCode.failure
        }
        let lines = await RelanceDaemon.Doctor(config: config).run()
        for line in lines { print(line) }
        if lines.contains(where: { $0.verdict == .fail }) { throw ExitCode.failure }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration.", subcommands: [Check.self])
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every key; print the effective values, secrets redacted.")
        @OptionGroup var options: GlobalOptions
        func run() async throws {
            do {
                let config = try await RelanceConfig.load(path: options.configPath)
                for (key, value) in config.effective { print("\(key) = \(value)") }
                print("database.path (effective) = \(config.databasePath)")
                print("templates.directory (effective) = \(config.templatesDirectory)")
                print("email.transport (effective) = \(config.email.transport)")
                print("dispatcher.lease (effective) = \(config.dispatcher.lease)")
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: config.templatesDirectory, isDirectory: &isDirectory),
                    isDirectory.boolValue
                else {
                    throw ConfigError(
                        "templates.directory: \(config.templatesDirectory) does not exist or is not a directory")
                }
                print("configuration ok")
            } catch {
                throw CLIError("configuration: \(error)")
            }
        }
    }
}
