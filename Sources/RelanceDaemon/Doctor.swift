import Foundation
import Logging
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceStore
import RelanceStorePostgres
import RelanceTemplates

/// `relance doctor`: is this installation able to do its work? Each check is one line,
/// `ok` or `FAIL`, or `--` for what this configuration does not use.
public struct Doctor {
    public enum Verdict: String, Sendable { case ok, fail = "FAIL", skip = "--" }

    public struct Line: Sendable, CustomStringConvertible {
        public var verdict: Verdict
        public var check: String
        public var detail: String
        public var description: String {
            switch verdict {
            case .ok: "ok   \(check): \(detail)"
            case .fail: "FAIL \(check): \(detail)"
            case .skip: "--   \(check): \(detail)"
            }
        }
    }

    let config: RelanceConfig

    public init(config: RelanceConfig) {
        self.config = config
    }

    public func run() async -> [Line] {
        var lines: [Line] = []
        func add(_ verdict: Verdict, _ check: String, _ detail: String) {
            lines.append(Line(verdict: verdict, check: check, detail: detail))
        }
        add(.ok, "configuration", "every key valid")
        if config.creditor.name.trimmingCharacters(in: .whitespaces).isEmpty {
            add(.fail, "creditor", "creditor.name is not set: messages would not say who is writing")
        } else {
            add(.ok, "creditor", config.creditor.name)
        }

        // The database: reachable, writable, schema current (doctor never migrates).
        let database = config.postgres?.redacted ?? config.databasePath
        do {
            var quiet = Logger(label: "relance.doctor")
            quiet.logLevel = .critical
            let store = try Runtime.openStore(config: config, logger: quiet)
            defer { (store as? PostgresJobStore)?.close() }
            if try await store.isMigrated() {
                try await store.checkWritable()
                add(.ok, "database", "\(database) is writable and its schema is current")
                if let postgres = store as? PostgresJobStore {
                    for line in try await postgres.diagnose() { add(line.ok ? .ok : .fail, line.name, line.detail) }
                }
            } else {
                add(.fail, "database", "\(database): migrations pending; run `relance migrate`")
            }
        } catch {
            add(.fail, "database", "\(database): \(error)")
        }

        // Templates: every message × locale × part × variant renders with the sample data.
        do {
            let catalog = try TemplateCatalog.load(
                directory: config.templatesDirectory, defaultLocale: config.defaultLocale)
            let report = TemplateChecker(catalog: catalog, creditor: config.creditor, sms: config.sms.text).run()
            if report.problems.isEmpty {
                add(
                    .ok, "templates",
                    "\(catalog.messages.count) messages, \(report.rendered) parts rendered from \(config.templatesDirectory)"
                )
            } else {
                add(.fail, "templates", report.problems.joined(separator: "; "))
            }
        } catch {
            add(.fail, "templates", "\(error)")
        }

        // E-mail.
        if let dkim = config.email.dkim {
            for signing in dkim.signings {
                add(
                    .ok, "dkim \(signing.key.algorithm.rawValue)",
                    "signs as d=\(dkim.domain) s=\(signing.selector); publish TXT at \(signing.selector)._domainkey.\(dkim.domain): \(signing.key.dnsRecord())"
                )
            }
        } else {
            add(
                .skip, "dkim",
                "messages are not signed (email.dkim.*): the relay must sign them, or receivers may refuse them")
        }
        if let bounces = config.email.bounces {
            var text =
                "envelope senders \(bounces.local)+<job>-<attempt>-<mac>@\(bounces.domain); the MX of \(bounces.domain) must lead to "
            if let listen = config.lmtpListen {
                text += "the LMTP listener on \(listen.host):\(listen.port) (deploy/postfix/main-lmtp.cf)"
            } else {
                text += "`relance bounce` (deploy/postfix/main-pipe.cf)"
            }
            add(.ok, "bounces", text)
        } else {
            add(.skip, "bounces", "not read back (email.bounce_address): a dead mailbox counts as sent")
        }
        if config.email.transport == .smtp, let smtp = config.smtp {
            switch await SMTPTransport(settings: smtp).probe() {
            case .success(let probe):
                var what = "\(smtp.host):\(smtp.port) answers EHLO"
                if smtp.security != .none { what += ", TLS verified" }
                if smtp.username != nil { what += ", AUTH accepted" }
                what +=
                    probe.capabilities.pipelining
                    ? ", offers PIPELINING" : ", no PIPELINING (four round trips a message instead of two)"
                add(.ok, "smtp", "\(what) (\(probe.greeting.trimmingCharacters(in: .whitespaces)))")
            case .failure(let failure):
                add(.fail, "smtp", failure.message)
            }
        } else {
            add(.skip, "smtp", "e-mail goes to the outbox")
            lines.append(spool("e-mail outbox", config.email.outboxDirectory))
        }

        // SMS.
        if config.sms.transport == .outbox {
            add(.skip, "sms gateway", "SMS go to the outbox")
            lines.append(spool("sms outbox", config.sms.outboxDirectory))
        } else {
            do {
                let transport = try Runtime.smsTransport(config.sms)
                switch await transport.probe() {
                case .success(let text): add(.ok, "sms gateway", text)
                case .failure(let failure): add(.fail, "sms gateway", failure.message)
                }
            } catch {
                add(.fail, "sms gateway", "\(error)")
            }
            // Kannel answers "0: Accepted" even when its sendsms-user cuts a long message to
            // one part: nothing over sendsms tells, so doctor says what to check by hand.
            if config.sms.kannel != nil, config.sms.text.maxSegments > 1 {
                add(
                    .skip, "sms long messages",
                    "cannot be checked over sendsms: Kannel's sendsms-user needs concatenation = true and "
                        + "max-messages >= \(config.sms.text.maxSegments) (sms.max_segments), or it cuts longer "
                        + "messages and still answers 'Accepted' (deploy/kannel.conf, docs/SMS.md)")
            }
            if let callbacks = config.sms.callbacks {
                add(.ok, "delivery reports", "callbacks signed, to \(callbacks.baseURL)/v1/callbacks/…")
            } else {
                add(.skip, "delivery reports", "sms.callback_base_url not set: jobs stay 'sent'")
            }
        }
        // Letters.
        do {
            let transport = try Runtime.letterTransport(config.letters)
            switch await transport.probe() {
            case .success(let text):
                add(.ok, config.letters.transport == .spool ? "letter spool" : "print provider", text)
            case .failure(let failure):
                add(.fail, config.letters.transport == .spool ? "letter spool" : "print provider", failure.message)
            }
        } catch {
            add(.fail, "letter spool", "\(error)")
        }
        let fonts = LetterRenderer.availableFamilies()
        if fonts.contains(where: { $0.caseInsensitiveCompare(config.letters.font) == .orderedSame }) {
            add(.ok, "fonts", "'\(config.letters.font)' is installed (\(fonts.count) families)")
        } else {
            add(.fail, "fonts", "'\(config.letters.font)' (letters.font) is not installed; install fonts-dejavu-core")
        }
        return lines
    }

    /// A spool folder the daemon must be able to create and write.
    func spool(_ name: String, _ directory: String) -> Line {
        let probe = directory + "/.relance-doctor-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data("ok".utf8).write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
            return Line(verdict: .ok, check: name, detail: "\(directory) is writable")
        } catch {
            return Line(verdict: .fail, check: name, detail: "\(directory): \(FileErrors.describe(error))")
        }
    }
}
