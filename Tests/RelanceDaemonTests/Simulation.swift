import Foundation
import Logging
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceEmail
import RelanceStore
import RelanceTestSupport

/// A Relance installation on a simulated clock: the real store, templates, scenarios,
/// invoice desk and dispatcher with the outbox transports (e-mail `.eml` files, SMS JSON,
/// letter PDFs in the spool), where weeks pass in a second. The clock jumps from one
/// moment something happens (a job falls due, a scripted payment or hold) to the next.
final class Simulation: @unchecked Sendable {
    let root: String
    let clock: ManualWallClock
    let runtime: Runtime
    let desk: InvoiceDesk
    let scenarios: ScenarioCatalog
    let dispatcher: Dispatcher
    let zones: [String: TimeZone]

    /// A step of the script: at `at` (UTC), do `action`.
    struct Action {
        var at: Date
        var label: String
        var action: (Simulation) async throws -> Void
    }

    /// What went out: one line of the expected tables.
    struct Sent: Equatable, CustomStringConvertible {
        var jobID: Int64
        var at: Date
        var payer: String
        var message: String
        var channel: String
        var cases: [String]
        var local: String

        var description: String {
            "\(local)  \(payer)  \(message)  \(channel)  \(cases.joined(separator: "+"))"
        }
    }

    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    init(start: String, payers: [PayerProfile], bouncing: Set<String> = []) async throws {
        root = NSTemporaryDirectory() + "relance-simulation-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let configPath = root + "/relance.yaml"
        try """
        state_directory: \(root)/state
        templates:
          directory: \(Self.repository)/Templates
          default_locale: en
        email:
          from: relances@lumen-conseil.fr
          from_name: "Lumen Conseil – Service clients"
        dispatcher:
          concurrency: 1
          poll_interval: 0.01
        api:
          enabled: false
        creditor:
          name: Lumen Conseil SAS
          email: compta@lumen-conseil.example
          phone: "+33 1 84 60 12 34"
          address: ["12 rue des Tanneurs", "69002 Lyon"]
          registration: SAS au capital de 50 000 EUR – RCS Lyon 812 345 678
          iban: FR76 3000 6000 0112 3456 7890 189
          bic: AGRIFRPP

        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let config = try await RelanceConfig.load(path: configPath, environment: [:])
        clock = ManualWallClock(Timestamp.date(from: start)!)
        let logger = Logger(label: "simulation") { _ in SwiftLogNoOpLogHandler() }
        runtime = try await Runtime.open(config: config, logger: logger, clock: clock)
        let composer = try runtime.composer()
        let scenarios = try ScenarioCatalog.load(
            directory: config.scenariosDirectory, overrides: config.scenarioOffsets)
        self.scenarios = scenarios
        desk = InvoiceDesk(store: runtime.store, composer: composer, scenarios: scenarios, clock: clock)
        let outbox = try runtime.makeEmailTransport()
        dispatcher = Dispatcher(
            store: runtime.store, composer: composer,
            transports: Transports(
                email: bouncing.isEmpty ? outbox : BouncingEmailTransport(outbox: outbox, bouncing: bouncing),
                sms: try runtime.makeSMSTransport(), letters: try runtime.makeLetterTransport()),
            windows: config.windows, settings: config.dispatcher, retry: config.retry, untilIdle: true,
            logger: logger, clock: clock)
        var zones: [String: TimeZone] = [:]
        for payer in payers {
            try await runtime.store.upsertPayer(payer)
            zones[payer.ref] = TimeZone(identifier: payer.timezone)!
        }
        self.zones = zones
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// `day` at `time` in the payer's time zone.
    func at(_ day: String, _ time: String, for payer: String) -> Date {
        let d = day.split(separator: "-").map { Int($0)! }
        let t = time.split(separator: ":").map { Int($0)! }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zones[payer]!
        return calendar.date(from: DateComponents(year: d[0], month: d[1], day: d[2], hour: t[0], minute: t[1]))!
    }

    /// Runs every due job, then moves the clock to the next moment something is due
    /// (a job or a scripted action), until `end`.
    func run(until end: Date, script: [Action]) async throws {
        var pending = script.sorted { $0.at < $1.at }
        var rounds = 0
        while true {
            rounds += 1
            precondition(rounds < 10_000, "the simulation does not converge")
            try await dispatcher.run()
            var next = try await runtime.store.workload().nextRunAt.flatMap(Timestamp.date(from:))
            if let action = pending.first { next = min(next ?? action.at, action.at) }
            guard let next, next <= end else { break }
            clock.set(next)
            while let action = pending.first, action.at <= clock.now() {
                try await action.action(self)
                pending.removeFirst()
            }
        }
        clock.set(end)
    }

    /// Every message handed to a transport, in order, with the local time it went out.
    func sent() async throws -> [Sent] {
        var result: [Sent] = []
        for job in try await runtime.store.jobs(JobFilter(limit: 10_000))
        where job.state == .sent || job.state == .delivered {
            let events = try await runtime.store.events(jobID: job.id)
            guard let accepted = events.last(where: { $0.kind == .accepted }),
                let at = Timestamp.date(from: accepted.at)
            else { continue }
            var cases = [job.caseRef ?? "-"]
            if let listed = events.compactMap({ $0.detail["cases"]?.arrayValue }).last {
                cases = listed.compactMap(\.stringValue)
            }
            let format = Date.VerbatimFormatStyle(
                format:
                    "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(weekday: .abbreviated) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: zones[job.payerRef]!,
                calendar: .init(identifier: .gregorian))
            result.append(
                Sent(
                    jobID: job.id, at: at, payer: job.payerRef, message: job.template, channel: job.channel,
                    cases: cases, local: at.formatted(format)))
        }
        return result.sorted { ($0.at, $0.payer, $0.channel, $0.message) < ($1.at, $1.payer, $1.channel, $1.message) }
    }

    /// The text of a sent e-mail's plain part, or of a sent SMS.
    func text(of sent: Sent) throws -> String {
        let state = root + "/state"
        switch sent.channel {
        case "sms":
            let data = try String(contentsOfFile: "\(state)/outbox/job-\(sent.jobID)-1.sms.json", encoding: .utf8)
            return (try JSONValue.parse(data))["text"]?.stringValue ?? ""
        default:
            let eml = try String(contentsOfFile: "\(state)/outbox/job-\(sent.jobID)-1.eml", encoding: .utf8)
            return MIMEText.plainPart(of: eml)
        }
    }
}

/// FAKE, named as such: the outbox e-mail transport, except that the listed addresses
/// answer as a mail server does for a mailbox that does not exist (550 5.1.1, a hard
/// bounce). The same bounce against a real SMTP server (aiosmtpd) is in
/// IntegrationTests/test_invoices.py; here it runs on the simulated clock.
struct BouncingEmailTransport: EmailTransport {
    let outbox: any EmailTransport
    let bouncing: Set<String>

    var summary: String { "outbox with simulated bounces" }

    func makeSession() throws -> any EmailSession {
        Session(outbox: try outbox.makeSession(), bouncing: bouncing)
    }

    struct Session: EmailSession {
        let outbox: any EmailSession
        let bouncing: Set<String>

        func send(_ email: OutgoingEmail, fence: DispatchFence) async -> DispatchOutcome {
            if let bounced = email.recipients.first(where: { bouncing.contains($0.value) }) {
                return SMTPClassification.classify(
                    reply: SMTPReply.last(in: "550 5.1.1 <\(bounced.value)>: mailbox unknown\r\n"),
                    transportError: nil)
            }
            return await outbox.send(email, fence: fence)
        }

        func close() async { await outbox.close() }
    }
}

/// The plain-text part of a message Relance wrote, decoded with the tests' own MIME
/// decoders (the strict parsing is Python's, in IntegrationTests).
enum MIMEText {
    static func plainPart(of eml: String) -> String {
        // Each chunk after a delimiter line is "<boundary>\r\n<headers>\r\n\r\n<body>".
        for chunk in eml.components(separatedBy: "\r\n--").dropFirst() {
            guard let newline = chunk.range(of: "\r\n"),
                let (headers, body) = MIMETestSupport.split(String(chunk[newline.upperBound...]))
            else { continue }
            let fields = Dictionary(
                MIMETestSupport.headerFields(headers).map { ($0.name.lowercased(), $0.value) },
                uniquingKeysWith: { a, _ in a })
            guard fields["content-type"]?.hasPrefix("text/plain") == true else { continue }
            let bytes: [UInt8]? =
                switch fields["content-transfer-encoding"] {
                case "quoted-printable": MIMETestSupport.decodeQuotedPrintable(body)
                case "base64": Data(base64Encoded: body.filter { !$0.isWhitespace }).map { Array($0) }
                default: Array(body.utf8)
                }
            return String(decoding: bytes ?? [], as: UTF8.self)
        }
        return ""
    }
}
