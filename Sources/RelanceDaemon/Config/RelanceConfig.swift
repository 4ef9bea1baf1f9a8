import Configuration
import Foundation
import RelanceAPI
import RelanceConsole
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceStorePostgres
import RelanceTemplates
import RelanceTransport
import SystemPackage

/// The daemon's configuration: one YAML file, every key overridable by a
/// `RELANCE_*` environment variable (`smtp.host` ← `RELANCE_SMTP_HOST`), secrets read
/// from files so that systemd `LoadCredential=` works. See README, "Configuration".
public struct RelanceConfig: Sendable {
    public var stateDirectory: String
    public var databasePath: String
    public var busyTimeout: Double
    /// The PostgreSQL backend (`database.url`); nil for SQLite at `databasePath`.
    public var postgres: PostgresSettings?
    public var templatesDirectory: String
    public var defaultLocale: String
    /// `templates.deadline_days`: the least number of days between a message's date and the
    /// payment deadline it states (and the deadline it gets when its data has none).
    public var deadlineDays = PaymentDeadline.defaultDays
    public var creditor: Creditor
    /// The pay link and the QR code (`creditor.payment_url`, `creditor.qr_code`).
    public var payments = PaymentSettings.none
    public var email: EmailSettings
    /// The LMTP listener for bounces (`email.bounces.lmtp_listen`); nil: none.
    public var lmtpListen: (host: String, port: Int)?
    /// The web console (`console.*`); nil: off.
    public var console: ConsoleSettings?
    /// `archive.retention`: how long the exact bytes of a sent message are kept.
    public var archiveRetention: Double = 3650 * 86400
    public var smtp: SMTPSettings?
    public var dispatcher: DispatcherSettings
    public var retry: RetryPolicy
    public var sweepInterval: Double
    public var retention: Double
    public var pruneInterval: Double
    public var logLevel: String
    public var logFormat: String
    /// nil when the HTTP API is disabled.
    public var api: APIConfig?
    public var sms: SMSConfig
    public var letters: LetterSettings
    /// Where the dunning scenarios are (`<templates>/scenarios` by default).
    public var scenariosDirectory: String
    /// Step offsets overridden by configuration, by `<scenario>.<step>` (days).
    public var scenarioOffsets: [String: Int] = [:]
    /// When each channel may send, in the payer's time zone.
    public var windows: [Channel: SendWindow]
    /// Where each effective value came from, secrets redacted: for `relance config check`.
    public var effective: [(String, String)] = []

    public struct APIConfig: Sendable {
        public var settings: APISettings
        public var tokens: APITokens
        /// The OpenAPI document served at /openapi.yaml.
        public var openAPIFile: String
    }

    public struct SMSConfig: Sendable {
        public var transport: SMSTransportKind
        public var text: SMSTextSettings
        /// Messages per second across all workers; nil: no limit.
        public var rate: Double?
        public var http: HTTPSettings
        public var outboxDirectory: String
        public var callbacks: CallbackSettings?
        public var kannel: KannelSettings?
        public var twilio: TwilioSettings?
        public var webhook: WebhookSettings?
    }

    public struct DispatcherSettings: Sendable {
        public var concurrency: Int
        public var batchSize: Int
        public var pollInterval: Double
        public var lease: Double
        public var drainTimeout: Double
    }

    /// Loads `path` (if any) under the environment. Throws `ConfigError` naming the key and file.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws -> RelanceConfig
    {
        try ConfigSources.checkEnvironment(environment)
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "relance")
        ]
        if let path {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                FileManager.default.isReadableFile(atPath: path)
            else {
                throw ConfigError("config file \(path) does not exist or is not readable")
            }
            if isDirectory.boolValue { throw ConfigError("config file \(path) is a directory, not a file") }
            // An empty file, or one of comments only, means the built-in defaults.
            if try ConfigSources.checkKeys(inFile: path) {
                do {
                    providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
                } catch {
                    throw ConfigError("config file \(path): \(error)")
                }
            }
        }
        let reader = Reader(
            config: ConfigReader(providers: providers), file: path ?? "(no config file)", environment: environment)
        return try build(reader, environment: environment)
    }

    static func build(_ r: Reader, environment: [String: String]) throws -> RelanceConfig {
        try r.checkAll()
        let state = try r.string(defaulted: "state_directory")
        let smtp = try smtpSettings(r, environment: environment)
        let email = try emailSettings(r, state: state, smtp: smtp, environment: environment)
        let templates =
            try r.string("templates.directory")
            ?? (FileManager.default.fileExists(atPath: "Templates") ? "Templates" : "/usr/share/relance/templates")
        let leaseGiven = try r.duration("dispatcher.lease")
        if let leaseGiven, leaseGiven <= 0 {
            throw ConfigError("\(r.origin("dispatcher.lease")): dispatcher.lease must be longer than 0 s")
        }
        let dispatcher = DispatcherSettings(
            concurrency: try r.int(defaulted: "dispatcher.concurrency"),
            batchSize: try r.int(defaulted: "dispatcher.batch_size"),
            pollInterval: try r.duration(defaulted: "dispatcher.poll_interval"), lease: leaseGiven ?? 0,
            drainTimeout: try r.duration(defaulted: "dispatcher.drain_timeout"))
        let retry = RetryPolicy(
            baseDelay: try r.duration(defaulted: "retry.base_delay"),
            maxDelay: try r.duration(defaulted: "retry.max_delay"),
            maxAttempts: try r.int(defaulted: "retry.max_attempts"), maxAge: try r.duration(defaulted: "retry.max_age"))
        let postgres = try postgresSettings(r, environment: environment)
        var config = RelanceConfig(
            stateDirectory: state, databasePath: try r.string("database.path") ?? state + "/relance.sqlite",
            busyTimeout: try r.duration(defaulted: "database.busy_timeout"), postgres: postgres,
            templatesDirectory: templates,
            defaultLocale: try defaultLocale(r),
            deadlineDays: try r.int(defaulted: "templates.deadline_days"), creditor: try creditor(r), email: email,
            smtp: smtp, dispatcher: dispatcher, retry: retry,
            sweepInterval: try r.duration(defaulted: "sweeper.interval"),
            retention: try r.duration(defaulted: "retention.finished_jobs"),
            pruneInterval: try r.duration(defaulted: "retention.prune_interval"),
            logLevel: try r.string(defaulted: "log.level"), logFormat: try r.string(defaulted: "log.format"),
            api: try apiConfig(r, environment: environment),
            sms: try smsConfig(r, state: state, environment: environment),
            letters: try lettersConfig(r, state: state, environment: environment),
            scenariosDirectory: try r.string("scenarios.directory") ?? templates + "/scenarios",
            windows: try windows(r))
        config.lmtpListen = try lmtpListen(r)
        config.console = try consoleSettings(r, state: state, environment: environment)
        config.archiveRetention = try r.duration(defaulted: "archive.retention")
        config.payments = try payments(r, environment: environment)
        // The QR code carries the creditor's name and BIC: what the EPC refuses (a name over
        // 70 characters, none at all) is refused now rather than at each message.
        if config.payments.qrCode, let iban = IBAN(config.creditor.iban), !iban.isSEPA {
            throw ConfigError(
                "\(r.origin("creditor.iban")): creditor.iban is in \(iban.country), not a SEPA country: the EPC QR code is for SEPA transfers (set creditor.qr_code: false)"
            )
        }
        if config.payments.qrCode, let iban = IBAN(config.creditor.iban) {
            let probe = EPCPayment(
                name: config.creditor.name, iban: iban, bic: config.creditor.bic.isEmpty ? nil : config.creditor.bic,
                amount: 1)
            do { _ = try probe.payload() } catch {
                let key = error.field == .bic ? "creditor.bic" : "creditor.name"
                throw ConfigError(
                    "\(r.origin(key)): \(key): \(error.message) (the EPC QR code carries it; or set creditor.qr_code: false)"
                )
            }
        }
        if let text = try r.string("scenarios.strategic_formal_notice") {
            guard let days = Scenario.parseOffset(text), (1...3650).contains(days) else {
                throw ConfigError(
                    "\(r.origin("scenarios.strategic_formal_notice")): scenarios.strategic_formal_notice: '\(text)' is not a number of days (45d)"
                )
            }
            config.scenarioOffsets["strategic.formal-notice"] = days
        }
        try config.settleLease(given: leaseGiven, origin: r.origin("dispatcher.lease"))
        config.effective = r.seen.sorted { $0.0 < $1.0 }
        return config
    }

    /// The lease must outlast the longest send a worker may be in: connecting, writing,
    /// and the whole wait for the answer, or a slow send would be taken for a lost worker.
    /// Without one given: 300 s, or a minute more than the longest send.
    mutating func settleLease(given: Double?, origin: String) throws {
        var budgets: [(keys: String, seconds: Double)] = []
        if email.transport == .smtp, let smtp {
            budgets.append(
                (
                    "smtp.connect_timeout + smtp.timeout + smtp.data_timeout",
                    smtp.connectTimeout + smtp.timeout + smtp.dataTimeout
                ))
        }
        if sms.transport != .outbox {
            budgets.append(("sms.connect_timeout + sms.timeout", sms.http.connectTimeout + sms.http.timeout))
        }
        if letters.transport == .httpUpload {
            budgets.append(
                ("letters.connect_timeout + letters.timeout", letters.http.connectTimeout + letters.http.timeout))
        }
        guard let given else {
            dispatcher.lease = max(300, (budgets.map(\.seconds).max() ?? 0) + 60)
            return
        }
        if let longest = budgets.max(by: { $0.seconds < $1.seconds }), given <= longest.seconds {
            throw ConfigError(
                "\(origin): dispatcher.lease (\(given) s) must be longer than \(longest.keys) (\(longest.seconds) s), or a slow send would be taken for a lost worker"
            )
        }
    }

    static func creditor(_ r: Reader) throws -> Creditor {
        // An IBAN or a BIC mistyped in the configuration would be printed on every reminder
        // and in every QR code: refused here, with why.
        let ibanText = try r.string(defaulted: "creditor.iban")
        var iban = ibanText
        if !ibanText.isEmpty {
            if let problem = IBAN.problem(ibanText) {
                throw ConfigError("\(r.origin("creditor.iban")): creditor.iban '\(ibanText)': \(problem)")
            }
            iban = IBAN(ibanText)!.grouped
        }
        let bic = try r.string(defaulted: "creditor.bic")
        if !bic.isEmpty, !BankIdentifierCode.isValid(bic) {
            throw ConfigError(
                "\(r.origin("creditor.bic")): creditor.bic '\(bic)' is not a BIC (8 or 11 letters and digits: bank, country, place, branch)"
            )
        }
        return Creditor(
            name: try r.string(defaulted: "creditor.name"), email: try r.string(defaulted: "creditor.email"),
            phone: try r.string(defaulted: "creditor.phone"), website: try r.string(defaulted: "creditor.website"),
            address: try r.stringList(defaulted: "creditor.address"),
            registration: try r.string(defaulted: "creditor.registration"), iban: iban, bic: bic,
            jurisdiction: try jurisdiction(r))
    }

    static func payments(_ r: Reader, environment: [String: String]) throws -> PaymentSettings {
        var settings = PaymentSettings(qrCode: try r.bool(defaulted: "creditor.qr_code"))
        guard let template = try r.string("creditor.payment_url") else {
            if try r.string("creditor.payment_secret_file") != nil {
                throw ConfigError(
                    "\(r.origin("creditor.payment_secret_file")): creditor.payment_secret_file is set but creditor.payment_url is not"
                )
            }
            return settings
        }
        guard let file = try r.string("creditor.payment_secret_file") else {
            throw ConfigError(
                "\(r.origin("creditor.payment_url")): creditor.payment_url is set but creditor.payment_secret_file is not (the key of the links' tokens)"
            )
        }
        let secret = try ConfigSources.readSecret(
            file, key: "creditor.payment_secret_file", environment: environment,
            configFile: r.origin("creditor.payment_secret_file"))
        do { settings.payLink = try PayLink(template: template, secret: secret) } catch {
            throw ConfigError("\(r.origin(error.pointer)): \(error.pointer): \(error.message)")
        }
        return settings
    }

    static func emailAddress(_ r: Reader, _ key: String, _ text: String) throws -> EmailAddress {
        do { return try EmailAddress(text) } catch { throw ConfigError("\(r.origin(key)): \(key): \(error)") }
    }

    /// nil without `database.url`. The password comes from `database.password_file`, else
    /// from the file `PGPASSFILE` names (libpq's format), never from the URL's text in a log.
    static func postgresSettings(_ r: Reader, environment: [String: String]) throws -> PostgresSettings? {
        guard let url = try r.string("database.url") else { return nil }
        var settings = try PostgresSettings(url: url)
        if let ca = settings.caFile, !FileManager.default.isReadableFile(atPath: ca) {
            throw ConfigError("\(r.origin("database.url")): database.url: sslrootcert \(ca) is not a readable file")
        }
        // A password file wins over a password in the URL (which the docs advise against).
        if let password = try postgresPassword(
            file: try r.string("database.password_file"), settings: settings, environment: environment,
            configFile: r.origin("database.password_file"))
        {
            settings.password = password
        }
        return settings
    }

    /// The password from `file` (a secret file, `$CREDENTIALS_DIRECTORY` first), else from
    /// the file `PGPASSFILE` names when the URL has none; nil when neither gives one.
    public static func postgresPassword(
        file: String?, settings: PostgresSettings, environment: [String: String], configFile: String? = nil
    ) throws -> String? {
        if let file {
            return try ConfigSources.readSecret(
                file, key: "database.password_file", environment: environment, configFile: configFile)
        }
        if settings.password == nil, let passfile = environment["PGPASSFILE"] {
            let text = try ConfigSources.readSecret(
                passfile, key: "PGPASSFILE", environment: environment, configFile: configFile, lines: true)
            return PostgresSettings.passwordFromPGPass(text, settings: settings)
        }
        return nil
    }

    /// nil without `smtp.host`.
    static func smtpSettings(_ r: Reader, environment: [String: String]) throws -> SMTPSettings? {
        guard let host = try r.string("smtp.host"), !host.isEmpty else { return nil }
        let security = try r.choice(defaulted: "smtp.security", as: SMTPSettings.Security.self)
        var password: String?
        if let file = try r.string("smtp.password_file"), !file.isEmpty {
            password = try ConfigSources.readSecret(
                file, key: "smtp.password_file", environment: environment, configFile: r.file)
        }
        if security == .none, !isLoopback(host) {
            throw ConfigError(
                "\(r.origin("smtp.security")): smtp.security: none sends in clear text, for a relay on this machine only; \(host) is not a loopback address (use starttls or tls)"
            )
        }
        let port = try r.int("smtp.port") ?? (security == .tls ? 465 : 587)
        return SMTPSettings(
            host: host, port: port, security: security, username: try r.string("smtp.username"), password: password,
            heloName: try r.string("smtp.helo_name"), connectTimeout: try r.duration(defaulted: "smtp.connect_timeout"),
            timeout: try r.duration(defaulted: "smtp.timeout"),
            dataTimeout: try r.duration(defaulted: "smtp.data_timeout"),
            caFile: try r.string("smtp.ca_file"))
    }

    /// `localhost`, an IPv4 address in 127.0.0.0/8 or the IPv6 address ::1 (in brackets or
    /// not), as the resolver reads addresses (`inet_pton`: `127.0.0.09` is a name, not one).
    static func isLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// `HOST:PORT` (`[::1]:PORT` for IPv6); an empty host means 127.0.0.1.
    static func hostPort(_ r: Reader, _ key: String, _ listen: String, example: String) throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigError("\(r.origin(key)): \(key): '\(listen)' is not HOST:PORT (e.g. \(example))")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }) else {
            throw ConfigError(
                "\(r.origin(key)): \(key): '\(listen)' is not HOST:PORT (a host name or an IP address)")
        }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    static func apiConfig(_ r: Reader, environment: [String: String]) throws -> APIConfig? {
        guard try r.bool(defaulted: "api.enabled") else { return nil }
        let (host, port) = try hostPort(
            r, "api.listen", try r.string(defaulted: "api.listen"), example: "127.0.0.1:8425")
        var tokens = APITokens.none
        if let file = try r.string("api.tokens_file"), !file.isEmpty {
            let text = try ConfigSources.readSecret(
                file, key: "api.tokens_file", environment: environment, configFile: r.file, lines: true)
            do { tokens = try APITokens.parse(text, source: file) } catch {
                throw ConfigError("api.tokens_file: \(error)")
            }
        }
        let defaultDocument =
            FileManager.default.fileExists(atPath: "openapi.yaml") ? "openapi.yaml" : "/usr/share/relance/openapi.yaml"
        return APIConfig(
            settings: APISettings(
                host: host, port: port,
                openHealth: try r.bool(defaulted: "api.open_health"),
                openMetrics: try r.bool(defaulted: "api.open_metrics"),
                maxBodyBytes: try r.int(defaulted: "api.max_body_bytes")),
            tokens: tokens, openAPIFile: try r.string("api.openapi_file") ?? defaultDocument)
    }

    /// `<prefix>.headers` (a list of `Name: value`) and the secret file `<prefix>.headers_file`
    /// (one header a line, e.g. `Authorization: Bearer …`).
    static func httpHeaders(_ r: Reader, prefix: String, environment: [String: String]) throws -> [(String, String)] {
        // Where each line came from, for an error that names it (never its value).
        var lines: [(line: String, from: String)] =
            (try r.stringList(prefix + ".headers") ?? []).enumerated().map {
                ($1, "\(r.origin(prefix + ".headers")): \(prefix).headers item \($0 + 1)")
            }
        if let file = try r.string(prefix + ".headers_file"), !file.isEmpty {
            let text = try ConfigSources.readSecret(
                file, key: prefix + ".headers_file", environment: environment, configFile: r.file, lines: true)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                lines.append((String(line), "\(prefix).headers_file \(file), line \(number + 1)"))
            }
        }
        var headers: [(String, String)] = []
        for (line, from) in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw ConfigError("\(from): a header is 'Name: value'")
            }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard name.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw ConfigError("\(from): that is not a header name")
            }
            // The request's own framing: set by the HTTP client, never by configuration.
            let framing = [
                "host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te", "trailer",
                "keep-alive", "proxy-connection",
            ]
            if framing.contains(name.lowercased()) {
                throw ConfigError("\(from): \(name) is set by the HTTP client, not by configuration")
            }
            if Reader.characterProblem(value) != nil {
                throw ConfigError("\(from): the value holds a control character")
            }
            headers.append((name, value))
        }
        return headers
    }

    static func lettersConfig(_ r: Reader, state: String, environment: [String: String]) throws -> LetterSettings {
        let transport = try r.choice(defaulted: "letters.transport", as: LetterTransportKind.self)
        let logo = try r.string("letters.logo")
        if let logo {
            // Read now, as every letter will: a file that is not a PNG would fail them all.
            do {
                _ = try ConfigSources.regularFile(logo, what: "logo", maxBytes: 10 << 20)
                try LetterLogo.check(path: logo)
            } catch {
                throw ConfigError("\(r.origin("letters.logo")): letters.logo: \(error)")
            }
        }
        let country = try r.string(defaulted: "letters.sender_country").uppercased()
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ConfigError(
                "\(r.origin("letters.sender_country")): letters.sender_country: '\(country)' is not a two-letter country code"
            )
        }
        let headers = try httpHeaders(r, prefix: "letters.http_upload", environment: environment)
        let url = try r.string("letters.http_upload.url")
        if transport == .httpUpload && (url ?? "").isEmpty {
            throw ConfigError(
                "\(r.origin("letters.transport")): letters.transport is http-upload but letters.http_upload.url is not set"
            )
        }
        return LetterSettings(
            transport: transport, spoolDirectory: try r.string("letters.spool_directory") ?? state + "/spool",
            envelope: try envelope(r), maxPages: try r.int(defaulted: "letters.max_pages"),
            logo: logo, place: try r.string(defaulted: "letters.place"), font: try r.string(defaulted: "letters.font"),
            senderCountry: country, attachToEmail: Set(try r.stringList("letters.attach_to_email") ?? []),
            http: HTTPSettings(
                connectTimeout: try r.duration(defaulted: "letters.connect_timeout"),
                timeout: try r.duration(defaulted: "letters.timeout"), caFile: try r.string("letters.ca_file")),
            uploadURL: url, uploadHeaders: headers,
            uploadIDField: try r.string(defaulted: "letters.http_upload.id_field"))
    }

    /// `letters.envelope`: one of `EnvelopePreset.all`, which the key's choices list.
    static func envelope(_ r: Reader) throws -> EnvelopePreset {
        let name = try r.string(defaulted: "letters.envelope")
        guard let preset = EnvelopePreset.named(name) else {
            throw ConfigError("\(r.origin("letters.envelope")): letters.envelope: '\(name)' is not a known envelope")
        }
        return preset
    }

    /// `windows.<channel>.days|hours|holidays`; a channel without any key keeps its
    /// default (SMS: Monday–Friday 10:00–13:00, 14:00–20:00, no French holiday; others: always).
    static func windows(_ r: Reader) throws -> [Channel: SendWindow] {
        var windows: [Channel: SendWindow] = [:]
        for channel in Channel.allCases {
            let prefix = "windows.\(channel.rawValue)."
            let fallback: SendWindow = channel == .sms ? .defaultSMS : .always
            let days = try r.stringList(prefix + "days")
            let hours = try r.stringList(prefix + "hours")
            let holidays = try r.string(prefix + "holidays")
            guard days != nil || hours != nil || holidays != nil else {
                windows[channel] = fallback
                continue
            }
            do {
                windows[channel] = try SendWindow.parse(
                    days: days ?? fallback.days.sorted().map(\.rawValue),
                    hours: hours ?? fallback.intervals.map(\.description),
                    holidays: holidays ?? fallback.holidays.rawValue)
            } catch {
                throw ConfigError("\(r.file): \(prefix.dropLast()): \(error)")
            }
        }
        return windows
    }
}
