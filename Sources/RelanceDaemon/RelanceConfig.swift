import Configuration
import Foundation
import RelanceAPI
import RelanceCore
import RelanceEmail
import RelanceSMS
import RelanceTemplates
import SystemPackage
import Yams

/// The daemon's configuration: one YAML file, every key overridable by a
/// `RELANCE_*` environment variable (`smtp.host` ← `RELANCE_SMTP_HOST`), secrets read
/// from files so that systemd `LoadCredential=` works. See README, "Configuration".
public struct RelanceConfig: Sendable {
    public var stateDirectory: String
    public var databasePath: String
    public var busyTimeout: Double
    public var templatesDirectory: String
    public var defaultLocale: String
    /// `templates.deadline_days`: the least number of days between a message's date and the
    /// payment deadline it states (and the deadline it gets when its data has none).
    public var deadlineDays = PaymentDeadline.defaultDays
    public var creditor: Creditor
    public var email: EmailSettings
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
    public var letters: LettersConfig
    /// Where the dunning scenarios are (`<templates>/scenarios` by default).
    public var scenariosDirectory: String
    /// Step offsets overridden by configuration, by `<scenario>.<step>` (days).
    public var scenarioOffsets: [String: Int] = [:]
    /// When each channel may send, in the payer's time zone.
    public var windows: [Channel: SendWindow]
    /// Where each effective value came from, secrets redacted: for `relance config check`.
    public var effective: [(String, String)] = []

    public struct EmailSettings: Sendable {
        public var transport: String
        public var from: EmailAddress
        public var fromName: String
        public var replyTo: EmailAddress?
        public var messageIDDomain: String
        public var outboxDirectory: String
    }

    public struct APIConfig: Sendable {
        public var settings: APISettings
        public var tokens: APITokens
        /// The OpenAPI document served at /openapi.yaml.
        public var openAPIFile: String
    }

    /// How SMS text is prepared (the composer's part of the SMS settings).
    public struct SMSTextSettings: Sendable {
        public var sanitizing: SMSSanitizing
        public var maxSegments: Int
        /// For national numbers of payers whose locale has no region (`fr`).
        public var defaultCountry: String?

        public init(sanitizing: SMSSanitizing = .typography, maxSegments: Int = 6, defaultCountry: String? = nil) {
            self.sanitizing = sanitizing
            self.maxSegments = maxSegments
            self.defaultCountry = defaultCountry
        }
    }

    public struct SMSConfig: Sendable {
        /// outbox, kannel, twilio or webhook.
        public var transport: String
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

    public struct LettersConfig: Sendable {
        /// spool or http-upload.
        public var transport: String
        public var spoolDirectory: String
        /// fr-dl-right, uk-dl-left or din-5008-b.
        public var envelope: String
        public var maxPages: Int
        public var logo: String?
        /// The town in "Paris, le 23 novembre 2026".
        public var place: String
        public var font: String
        /// Where letters are posted from: a payer in another country gets international mail.
        public var senderCountry: String
        /// Templates whose e-mails carry the letter as a PDF attachment (a formal notice by both channels).
        public var attachToEmail: Set<String>
        public var http: HTTPSettings
        public var uploadURL: String?
        public var uploadHeaders: [(String, String)]
        public var uploadIDField: String?

        /// Letters as the daemon sends them without a `letters` section.
        public static let defaults = LettersConfig(
            transport: "spool", spoolDirectory: "var/spool", envelope: "fr-dl-right", maxPages: 10, logo: nil,
            place: "Paris", font: "DejaVu Sans", senderCountry: "FR", attachToEmail: [], http: HTTPSettings(),
            uploadURL: nil, uploadHeaders: [], uploadIDField: "id")
    }

    public struct DispatcherSettings: Sendable {
        public var concurrency: Int
        public var batchSize: Int
        public var pollInterval: Double
        public var lease: Double
        public var drainTimeout: Double
    }

    /// Every key the file may hold, with its type; anything else is a typo and refused.
    static let keys: [String: KeyKind] = [
        "state_directory": .string, "database.path": .string, "database.busy_timeout": .duration,
        "templates.directory": .string, "templates.default_locale": .string, "templates.deadline_days": .int,
        "creditor.name": .string, "creditor.email": .string, "creditor.phone": .string, "creditor.website": .string,
        "creditor.address": .stringList, "creditor.registration": .string, "creditor.iban": .string,
        "creditor.bic": .string,
        "email.transport": .string, "email.from": .string, "email.from_name": .string, "email.reply_to": .string,
        "email.message_id_domain": .string, "email.outbox_directory": .string,
        "smtp.host": .string, "smtp.port": .int, "smtp.security": .string, "smtp.username": .string,
        "smtp.password_file": .string, "smtp.helo_name": .string, "smtp.connect_timeout": .duration,
        "smtp.timeout": .duration, "smtp.data_timeout": .duration, "smtp.ca_file": .string,
        "dispatcher.concurrency": .int, "dispatcher.batch_size": .int, "dispatcher.poll_interval": .duration,
        "dispatcher.lease": .duration, "dispatcher.drain_timeout": .duration,
        "retry.base_delay": .duration, "retry.max_delay": .duration, "retry.max_attempts": .int,
        "retry.max_age": .duration,
        "sweeper.interval": .duration, "retention.finished_jobs": .duration, "retention.prune_interval": .duration,
        "log.level": .string, "log.format": .string,
        "api.enabled": .bool, "api.listen": .string, "api.tokens_file": .string, "api.open_health": .bool,
        "api.open_metrics": .bool, "api.max_body_bytes": .int, "api.openapi_file": .string,
        "sms.transport": .string, "sms.sender": .string, "sms.sanitize": .string, "sms.max_segments": .int,
        "sms.default_country": .string, "sms.rate": .string, "sms.connect_timeout": .duration,
        "sms.timeout": .duration, "sms.ca_file": .string, "sms.outbox_directory": .string,
        "sms.callback_base_url": .string, "sms.callback_secret_file": .string,
        "sms.kannel.url": .string, "sms.kannel.username": .string, "sms.kannel.password_file": .string,
        "sms.kannel.dlr_mask": .int, "sms.kannel.smsc": .string,
        "sms.twilio.url": .string, "sms.twilio.account_sid": .string, "sms.twilio.auth_token_file": .string,
        "sms.twilio.messaging_service_sid": .string,
        "sms.webhook.url": .string, "sms.webhook.headers": .stringList, "sms.webhook.headers_file": .string,
        "sms.webhook.to_field": .string, "sms.webhook.text_field": .string, "sms.webhook.sender_field": .string,
        "sms.webhook.reference_field": .string, "sms.webhook.callback_field": .string,
        "sms.webhook.encoding_field": .string, "sms.webhook.id_field": .string,
        "letters.transport": .string, "letters.spool_directory": .string, "letters.envelope": .string,
        "letters.max_pages": .int, "letters.logo": .string, "letters.place": .string, "letters.font": .string,
        "letters.sender_country": .string, "letters.attach_to_email": .stringList,
        "letters.connect_timeout": .duration, "letters.timeout": .duration, "letters.ca_file": .string,
        "letters.http_upload.url": .string, "letters.http_upload.headers": .stringList,
        "letters.http_upload.headers_file": .string, "letters.http_upload.id_field": .string,
        "scenarios.directory": .string, "scenarios.strategic_formal_notice": .string,
        "windows.email.days": .stringList, "windows.email.hours": .stringList, "windows.email.holidays": .string,
        "windows.sms.days": .stringList, "windows.sms.hours": .stringList, "windows.sms.holidays": .string,
        "windows.letter.days": .stringList, "windows.letter.hours": .stringList, "windows.letter.holidays": .string,
    ]

    enum KeyKind { case string, int, duration, stringList, bool }

    /// Loads `path` (if any) under the environment. Throws `ConfigError` naming the key and file.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws -> RelanceConfig
    {
        try checkEnvironment(environment)
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "relance")
        ]
        if let path {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigError("config file \(path) does not exist or is not readable")
            }
            // An empty file, or one of comments only, means the built-in defaults.
            if try checkKeys(inFile: path) {
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

    /// Refuses keys nobody reads (typos) and YAML syntax errors, with their line.
    /// Returns false when the file holds no value at all (empty, or comments only).
    @discardableResult
    static func checkKeys(inFile path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigError("config file \(path) does not exist or is not readable")
        }
        defer { try? handle.close() }
        let bytes = handle.readDataToEndOfFile()
        let text = try strictText(bytes, file: path)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError("config file \(path) is not valid YAML: \(error)")
        }
        guard let node, node.null == nil else { return false }
        guard let mapping = node.mapping else {
            throw ConfigError("config file \(path): the top level must be a mapping of keys")
        }
        var problems: [String] = []
        func walk(_ mapping: Node.Mapping, prefix: String) {
            for (keyNode, value) in mapping {
                let key = prefix + (keyNode.string ?? "?")
                let line = (keyNode.mark?.line).map { ":\($0)" } ?? ""
                if let nested = value.mapping, keys[key] == nil {
                    walk(nested, prefix: key + ".")
                } else if let kind = keys[key] {
                    // The value's shape: a list where one value belongs (or a mapping) is an
                    // error here, with its line, not a key silently left at its default.
                    let scalar = value.scalar != nil
                    let list = value.sequence.map { $0.allSatisfy { $0.scalar != nil } } ?? false
                    if kind == .stringList ? !(scalar || list) : !scalar {
                        let found =
                            value.mapping != nil ? "a mapping" : value.sequence != nil ? "a list" : "not a value"
                        let wanted =
                            switch kind {
                            case .stringList: "a value or a list of values"
                            case .int: "a whole number"
                            case .duration: "a duration"
                            case .bool: "true or false"
                            case .string: "a single value"
                            }
                        problems.append("\(path)\(line): \(key): \(found), where \(wanted) belongs")
                    }
                } else if value.null != nil, keys[key] == nil, keys.keys.contains(where: { $0.hasPrefix(key + ".") }) {
                    continue  // a section with every key commented out
                } else if keys[key] == nil, case let inside = keys.keys.filter({ $0.hasPrefix(key + ".") }),
                    !inside.isEmpty
                {
                    let names = inside.sorted().map { $0.dropFirst(key.count + 1) }
                    problems.append(
                        "\(path)\(line): '\(key)' is a section, not a value (its keys: \(names.joined(separator: ", ")))"
                    )
                } else if keys[key] == nil {
                    let section = keys.keys.filter { $0.hasPrefix(prefix) }.sorted().map { $0.dropFirst(prefix.count) }
                    problems.append(
                        "\(path)\(line): unknown key '\(key)'"
                            + (prefix.isEmpty ? "" : " (known in this section: \(section.joined(separator: ", ")))"))
                }
            }
        }
        walk(mapping, prefix: "")
        if !problems.isEmpty { throw ConfigError(problems.joined(separator: "\n")) }
        return true
    }

    static func build(_ r: Reader, environment: [String: String]) throws -> RelanceConfig {
        let checkoutTemplates =
            FileManager.default.fileExists(atPath: "Templates") ? "Templates" : "/usr/share/relance/templates"
        let state = try r.string("state_directory") ?? "var"
        let outbox = try r.string("email.outbox_directory") ?? state + "/outbox"
        let fromText = try r.string("email.from") ?? "relance@localhost.localdomain"
        let from: EmailAddress
        do { from = try EmailAddress(fromText) } catch {
            throw ConfigError("\(r.origin("email.from")): email.from: \(error)")
        }
        var replyTo: EmailAddress?
        if let text = try r.string("email.reply_to"), !text.isEmpty {
            do { replyTo = try EmailAddress(text) } catch {
                throw ConfigError("\(r.origin("email.reply_to")): email.reply_to: \(error)")
            }
        }
        var smtp: SMTPSettings?
        if let host = try r.string("smtp.host"), !host.isEmpty {
            let securityText = try r.string("smtp.security") ?? "starttls"
            guard let security = SMTPSettings.Security(rawValue: securityText) else {
                throw ConfigError(
                    "\(r.origin("smtp.security")): smtp.security: '\(securityText)' is not one of none, starttls, tls")
            }
            var password: String?
            if let file = try r.string("smtp.password_file"), !file.isEmpty {
                password = try readSecret(file, key: "smtp.password_file", environment: environment, configFile: r.file)
            }
            let port = try r.int("smtp.port") ?? (security == .tls ? 465 : 587)
            guard (1...65535).contains(port) else {
                throw ConfigError("\(r.origin("smtp.port")): smtp.port: \(port) is not a TCP port")
            }
            smtp = SMTPSettings(
                host: host, port: port, security: security, username: try r.string("smtp.username"), password: password,
                heloName: try r.string("smtp.helo_name"), connectTimeout: try r.duration("smtp.connect_timeout") ?? 10,
                timeout: try r.duration("smtp.timeout") ?? 60, dataTimeout: try r.duration("smtp.data_timeout") ?? 600,
                caFile: try r.string("smtp.ca_file"))
        }
        let transport = try r.string("email.transport") ?? (smtp == nil ? "outbox" : "smtp")
        guard ["outbox", "smtp"].contains(transport) else {
            throw ConfigError(
                "\(r.origin("email.transport")): email.transport: '\(transport)' is not one of outbox, smtp")
        }
        if transport == "smtp" && smtp == nil {
            throw ConfigError("\(r.origin("email.transport")): email.transport is smtp but smtp.host is not set")
        }
        let leaseGiven = try r.duration("dispatcher.lease")
        if let leaseGiven, leaseGiven <= 0 {
            throw ConfigError("\(r.origin("dispatcher.lease")): dispatcher.lease must be longer than 0 s")
        }
        let dispatcher = DispatcherSettings(
            concurrency: try r.int("dispatcher.concurrency", in: 1...256) ?? 4,
            batchSize: try r.int("dispatcher.batch_size", in: 1...1000) ?? 8,
            pollInterval: try r.duration("dispatcher.poll_interval") ?? 1,
            lease: leaseGiven ?? 0,
            drainTimeout: try r.duration("dispatcher.drain_timeout") ?? 30)
        let retry = RetryPolicy(
            baseDelay: try r.duration("retry.base_delay") ?? 30, maxDelay: try r.duration("retry.max_delay") ?? 3600,
            maxAttempts: try r.int("retry.max_attempts", in: 1...100) ?? 8,
            maxAge: try r.duration("retry.max_age") ?? 3 * 86400)
        let logFormat = try r.string("log.format") ?? "logfmt"
        guard ["logfmt", "json"].contains(logFormat) else {
            throw ConfigError("\(r.origin("log.format")): log.format: '\(logFormat)' is not logfmt or json")
        }
        let logLevel = try r.string("log.level") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigError(
                "\(r.origin("log.level")): log.level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        var config = RelanceConfig(
            stateDirectory: state, databasePath: try r.string("database.path") ?? state + "/relance.sqlite",
            busyTimeout: try r.duration("database.busy_timeout") ?? 10,
            templatesDirectory: try r.string("templates.directory") ?? checkoutTemplates,
            defaultLocale: try r.string("templates.default_locale") ?? "en",
            creditor: Creditor(
                name: try r.string("creditor.name") ?? "", email: try r.string("creditor.email") ?? "",
                phone: try r.string("creditor.phone") ?? "", website: try r.string("creditor.website") ?? "",
                address: try r.stringList("creditor.address") ?? [],
                registration: try r.string("creditor.registration") ?? "",
                iban: try r.string("creditor.iban") ?? "", bic: try r.string("creditor.bic") ?? ""),
            email: EmailSettings(
                transport: transport, from: from, fromName: try r.string("email.from_name") ?? "", replyTo: replyTo,
                messageIDDomain: try r.string("email.message_id_domain") ?? String(from.domain), outboxDirectory: outbox
            ),
            smtp: smtp, dispatcher: dispatcher, retry: retry, sweepInterval: try r.duration("sweeper.interval") ?? 5,
            retention: try r.duration("retention.finished_jobs") ?? 90 * 86400,
            pruneInterval: try r.duration("retention.prune_interval") ?? 3600, logLevel: logLevel, logFormat: logFormat,
            api: nil, sms: try smsConfig(r, state: state, environment: environment),
            letters: try lettersConfig(r, state: state, environment: environment), scenariosDirectory: "",
            windows: try windows(r))
        config.deadlineDays =
            try r.int("templates.deadline_days", in: PaymentDeadline.allowedDays) ?? PaymentDeadline.defaultDays
        config.scenariosDirectory = try r.string("scenarios.directory") ?? config.templatesDirectory + "/scenarios"
        if let text = try r.string("scenarios.strategic_formal_notice") {
            guard let days = Scenario.parseOffset(text), days > 0 else {
                throw ConfigError(
                    "\(r.origin("scenarios.strategic_formal_notice")): scenarios.strategic_formal_notice: '\(text)' is not a number of days (45d)"
                )
            }
            config.scenarioOffsets["strategic.formal-notice"] = days
        }
        config.api = try apiConfig(r, environment: environment)
        // The lease must outlast the longest send a worker may be in: connecting, writing,
        // and the whole wait for the answer, or a slow send would be taken for a lost worker.
        var budgets: [(keys: String, seconds: Double)] = []
        if transport == "smtp", let smtp {
            budgets.append(
                (
                    "smtp.connect_timeout + smtp.timeout + smtp.data_timeout",
                    smtp.connectTimeout + smtp.timeout + smtp.dataTimeout
                ))
        }
        if config.sms.transport != "outbox" {
            budgets.append(
                ("sms.connect_timeout + sms.timeout", config.sms.http.connectTimeout + config.sms.http.timeout))
        }
        if config.letters.transport == "http-upload" {
            budgets.append(
                (
                    "letters.connect_timeout + letters.timeout",
                    config.letters.http.connectTimeout + config.letters.http.timeout
                ))
        }
        if leaseGiven == nil {
            // Default: 300 s, or a minute more than the longest send.
            config.dispatcher.lease = max(300, (budgets.map(\.seconds).max() ?? 0) + 60)
        } else if let longest = budgets.max(by: { $0.seconds < $1.seconds }), config.dispatcher.lease <= longest.seconds
        {
            throw ConfigError(
                "\(r.origin("dispatcher.lease")): dispatcher.lease (\(config.dispatcher.lease) s) must be longer than \(longest.keys) (\(longest.seconds) s), or a slow send would be taken for a lost worker"
            )
        }
        config.effective = r.seen.sorted { $0.0 < $1.0 }
        return config
    }

    static func apiConfig(_ r: Reader, environment: [String: String]) throws -> APIConfig? {
        guard try r.bool("api.enabled") ?? true else { return nil }
        let listen = try r.string("api.listen") ?? "127.0.0.1:8425"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigError(
                "\(r.origin("api.listen")): api.listen: '\(listen)' is not HOST:PORT (e.g. 127.0.0.1:8425)")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var tokens = APITokens.none
        if let file = try r.string("api.tokens_file"), !file.isEmpty {
            let text = try readSecret(file, key: "api.tokens_file", environment: environment, configFile: r.file)
            do { tokens = try APITokens.parse(text, source: file) } catch {
                throw ConfigError("api.tokens_file: \(error)")
            }
        }
        let maxBody = try r.int("api.max_body_bytes", in: 1024...(64 << 20)) ?? (1 << 20)
        let defaultDocument =
            FileManager.default.fileExists(atPath: "openapi.yaml") ? "openapi.yaml" : "/usr/share/relance/openapi.yaml"
        return APIConfig(
            settings: APISettings(
                host: host.isEmpty ? "127.0.0.1" : host, port: port, openHealth: try r.bool("api.open_health") ?? true,
                openMetrics: try r.bool("api.open_metrics") ?? true, maxBodyBytes: maxBody),
            tokens: tokens, openAPIFile: try r.string("api.openapi_file") ?? defaultDocument)
    }

    static func smsConfig(_ r: Reader, state: String, environment: [String: String]) throws -> SMSConfig {
        let sanitizeText = try r.string("sms.sanitize") ?? "typography"
        guard let sanitizing = SMSSanitizing(rawValue: sanitizeText) else {
            throw ConfigError(
                "\(r.origin("sms.sanitize")): sms.sanitize: '\(sanitizeText)' is not one of \(SMSSanitizing.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        var country = try r.string("sms.default_country")
        if let given = country {
            country = given.uppercased()
            guard given.count == 2, given.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ConfigError(
                    "\(r.origin("sms.default_country")): sms.default_country: '\(given)' is not a two-letter country code (FR)"
                )
            }
        }
        let text = SMSTextSettings(
            sanitizing: sanitizing, maxSegments: try r.int("sms.max_segments", in: 1...20) ?? 6, defaultCountry: country
        )
        var rate: Double? = 10
        if let raw = try r.string("sms.rate") {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if ["none", "unlimited", "0"].contains(trimmed) {
                rate = nil
            } else if let value = Double(trimmed), value > 0, value.isFinite {
                rate = value
            } else {
                throw ConfigError(
                    "\(r.origin("sms.rate")): sms.rate: '\(raw)' is not a number of messages per second (or none)")
            }
        }
        let http = HTTPSettings(
            connectTimeout: try r.duration("sms.connect_timeout") ?? 5, timeout: try r.duration("sms.timeout") ?? 15,
            caFile: try r.string("sms.ca_file"))
        var callbacks: CallbackSettings?
        if let base = try r.string("sms.callback_base_url"), !base.isEmpty {
            guard base.hasPrefix("http://") || base.hasPrefix("https://"), URLComponents(string: base)?.host != nil
            else {
                throw ConfigError(
                    "\(r.origin("sms.callback_base_url")): sms.callback_base_url: '\(base)' is not an http(s) URL")
            }
            guard let file = try r.string("sms.callback_secret_file"), !file.isEmpty else {
                throw ConfigError(
                    "\(r.origin("sms.callback_base_url")): sms.callback_base_url is set but sms.callback_secret_file is not (the key that signs callback URLs)"
                )
            }
            let secret = try readSecret(
                file, key: "sms.callback_secret_file", environment: environment, configFile: r.file)
            guard secret.utf8.count >= 16 else {
                throw ConfigError("sms.callback_secret_file: the secret must be at least 16 bytes")
            }
            callbacks = CallbackSettings(baseURL: base, signer: CallbackSigner(secret: secret))
        }
        let transport = try r.string("sms.transport") ?? "outbox"
        let sender = try r.string("sms.sender")
        var config = SMSConfig(
            transport: transport, text: text, rate: rate, http: http,
            outboxDirectory: try r.string("sms.outbox_directory") ?? state + "/outbox", callbacks: callbacks)
        func required(_ key: String) throws -> String {
            guard let value = try r.string(key), !value.isEmpty else {
                throw ConfigError("\(r.origin("sms.transport")): sms.transport is \(transport) but \(key) is not set")
            }
            return value
        }
        func secret(_ key: String) throws -> String {
            try readSecret(try required(key), key: key, environment: environment, configFile: r.file)
        }
        switch transport {
        case "outbox": break
        case "kannel":
            config.kannel = KannelSettings(
                url: try required("sms.kannel.url"), username: try required("sms.kannel.username"),
                password: try secret("sms.kannel.password_file"), sender: sender,
                dlrMask: try r.int("sms.kannel.dlr_mask", in: 1...31) ?? 31, smsc: try r.string("sms.kannel.smsc"))
        case "twilio":
            let service = try r.string("sms.twilio.messaging_service_sid")
            if sender == nil && service == nil {
                throw ConfigError(
                    "\(r.origin("sms.transport")): sms.transport is twilio: set sms.sender or sms.twilio.messaging_service_sid"
                )
            }
            config.twilio = TwilioSettings(
                url: try r.string("sms.twilio.url") ?? "https://api.twilio.com",
                accountSID: try required("sms.twilio.account_sid"),
                authToken: try secret("sms.twilio.auth_token_file"), from: sender, messagingServiceSID: service)
        case "webhook":
            let headers = try httpHeaders(r, prefix: "sms.webhook", environment: environment)
            func field(_ key: String, _ fallback: String?) throws -> String? {
                guard let value = try r.string(key) else { return fallback }
                return value.isEmpty ? nil : value
            }
            config.webhook = WebhookSettings(
                url: try required("sms.webhook.url"), headers: headers,
                toField: try field("sms.webhook.to_field", "to") ?? "to",
                textField: try field("sms.webhook.text_field", "text") ?? "text",
                senderField: try field("sms.webhook.sender_field", "from"), sender: sender,
                referenceField: try field("sms.webhook.reference_field", "reference"),
                callbackField: try field("sms.webhook.callback_field", "callback_url"),
                encodingField: try field("sms.webhook.encoding_field", nil),
                idField: try field("sms.webhook.id_field", "id"))
        default:
            throw ConfigError(
                "\(r.origin("sms.transport")): sms.transport: '\(transport)' is not one of outbox, kannel, twilio, webhook"
            )
        }
        return config
    }

    static let envelopes = ["fr-dl-right", "uk-dl-left", "din-5008-b"]

    /// `<prefix>.headers` (a list of `Name: value`) and the secret file `<prefix>.headers_file`
    /// (one header a line, e.g. `Authorization: Bearer …`).
    static func httpHeaders(_ r: Reader, prefix: String, environment: [String: String]) throws -> [(String, String)] {
        var lines = try r.stringList(prefix + ".headers") ?? []
        if let file = try r.string(prefix + ".headers_file"), !file.isEmpty {
            lines += try readSecret(file, key: prefix + ".headers_file", environment: environment, configFile: r.file)
                .split(whereSeparator: \.isNewline).map(String.init)
        }
        var headers: [(String, String)] = []
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw ConfigError("\(r.file): \(prefix).headers: a header is 'Name: value'")
            }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return headers
    }

    static func lettersConfig(_ r: Reader, state: String, environment: [String: String]) throws -> LettersConfig {
        let transport = try r.string("letters.transport") ?? "spool"
        guard ["spool", "http-upload"].contains(transport) else {
            throw ConfigError(
                "\(r.origin("letters.transport")): letters.transport: '\(transport)' is not one of spool, http-upload")
        }
        let envelope = try r.string("letters.envelope") ?? "fr-dl-right"
        guard envelopes.contains(envelope) else {
            throw ConfigError(
                "\(r.origin("letters.envelope")): letters.envelope: '\(envelope)' is not one of \(envelopes.joined(separator: ", "))"
            )
        }
        let logo = try r.string("letters.logo")
        if let logo, !FileManager.default.isReadableFile(atPath: logo) {
            throw ConfigError("\(r.origin("letters.logo")): letters.logo: cannot read \(logo)")
        }
        let country = (try r.string("letters.sender_country") ?? "FR").uppercased()
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ConfigError(
                "\(r.origin("letters.sender_country")): letters.sender_country: '\(country)' is not a two-letter country code"
            )
        }
        let headers = try httpHeaders(r, prefix: "letters.http_upload", environment: environment)
        let url = try r.string("letters.http_upload.url")
        if transport == "http-upload" && (url ?? "").isEmpty {
            throw ConfigError(
                "\(r.origin("letters.transport")): letters.transport is http-upload but letters.http_upload.url is not set"
            )
        }
        return LettersConfig(
            transport: transport, spoolDirectory: try r.string("letters.spool_directory") ?? state + "/spool",
            envelope: envelope, maxPages: try r.int("letters.max_pages", in: 1...100) ?? 10, logo: logo,
            place: try r.string("letters.place") ?? "Paris", font: try r.string("letters.font") ?? "DejaVu Sans",
            senderCountry: country, attachToEmail: Set(try r.stringList("letters.attach_to_email") ?? []),
            http: HTTPSettings(
                connectTimeout: try r.duration("letters.connect_timeout") ?? 5,
                timeout: try r.duration("letters.timeout") ?? 30, caFile: try r.string("letters.ca_file")),
            uploadURL: url, uploadHeaders: headers, uploadIDField: try r.string("letters.http_upload.id_field") ?? "id")
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

    /// `text` as UTF-8, refused when it is not: a byte that is not UTF-8 (even in a
    /// comment) must not make the file read as empty, which would mean the defaults.
    static func strictText(_ bytes: Data, file: String) throws -> String {
        if let text = TextRules.strictUTF8(bytes) { return text }
        let (line, column) = TextRules.firstInvalidUTF8(bytes) ?? (1, 1)
        throw ConfigError("\(file):\(line):\(column): not valid UTF-8 (save the file as UTF-8)")
    }

    /// The environment variable that sets `key`: `smtp.host` → `RELANCE_SMTP_HOST`.
    static func variable(for key: String) -> String {
        "RELANCE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Variables starting with `RELANCE_` that are not a key's: refused, as an unknown key
    /// in the file is (a misspelt `RELANCE_SMTP_HOTS` would otherwise leave the default).
    /// `RELANCE_CONFIG` names the file; `RELANCE_BIN` and `RELANCE_TEST_*` belong to the
    /// test and benchmark harness.
    static func checkEnvironment(_ environment: [String: String]) throws {
        let known = Set(keys.keys.map(variable(for:)))
        var problems: [String] = []
        for name in environment.keys.sorted() where name.hasPrefix("RELANCE_") {
            if known.contains(name) || name == "RELANCE_CONFIG" || name == "RELANCE_BIN"
                || name.hasPrefix("RELANCE_TEST_")
            {
                continue
            }
            let closest = known.min { editDistance($0, name) < editDistance($1, name) }
            let hint = closest.flatMap { editDistance($0, name) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
            problems.append("environment: unknown variable \(name)\(hint)")
        }
        if !problems.isEmpty { throw ConfigError(problems.joined(separator: "\n")) }
    }

    /// Reads a secret file. A relative path is looked up in systemd's `$CREDENTIALS_DIRECTORY`
    /// first. The error names the file, never its content.
    static func readSecret(_ file: String, key: String, environment: [String: String], configFile: String? = nil)
        throws -> String
    {
        var path = file
        if !file.hasPrefix("/"), let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: credentials + "/" + file)
        {
            path = credentials + "/" + file
        }
        if let data = FileManager.default.contents(atPath: path), String(validating: data, as: UTF8.self) == nil {
            do { _ = try strictText(data, file: path) } catch let error as ConfigError {
                throw ConfigError("\(configFile.map { "\($0): " } ?? "")\(key): \(error.description)")
            }
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            let lookedIn =
                file.hasPrefix("/")
                ? "" : " (relative names are looked up in $CREDENTIALS_DIRECTORY, then the working directory)"
            throw ConfigError("\(configFile.map { "\($0): " } ?? "")\(key): cannot read secret file \(path)\(lookedIn)")
        }
        return text.trimmingCharacters(in: .newlines)
    }
}

/// A configuration problem, saying which key and which file.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Strict typed access: a value that is present but of the wrong type is an error,
/// not a silent default.
final class Reader {
    let config: ConfigReader
    let file: String
    let environment: [String: String]
    var seen: [(String, String)] = []

    init(config: ConfigReader, file: String, environment: [String: String] = [:]) {
        self.config = config
        self.file = file
        self.environment = environment
    }

    /// Where `key`'s value comes from, for an error: its environment variable when that
    /// is set (it wins over the file), else the file.
    func origin(_ key: String) -> String {
        let variable = "RELANCE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        return environment[variable] != nil ? "\(variable) (environment)" : file
    }

    /// Keys whose values are secrets themselves (headers carry API keys: `Authorization:
    /// Bearer …`). Secret *files* (`*_file`) are paths, shown; their content never is.
    static let secretKeys: Set<String> = ["sms.webhook.headers", "letters.http_upload.headers"]

    private func note(_ key: String, _ value: String) {
        let secret = Self.secretKeys.contains(key)
        seen.append((key, secret ? "<redacted>" : key.hasSuffix("url") ? Self.redactedURL(value) : value))
    }

    /// A URL as `config check` shows it: credentials in it (`user:password@`, the query,
    /// where gateways take API keys) replaced by `<redacted>`.
    static func redactedURL(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "<redacted>" }
        if components.user != nil || components.password != nil {
            components.user = "<redacted>"
            components.password = nil
        }
        if components.query != nil { components.query = "<redacted>" }
        if components.fragment != nil { components.fragment = "<redacted>" }
        return (components.string ?? "<redacted>").removingPercentEncoding ?? "<redacted>"
    }

    func string(_ key: String) throws -> String? {
        guard let value = config.string(forKey: ConfigKey(key)) else { return nil }
        try refuseControls(key, value)
        note(key, value)
        return value
    }

    /// No configuration value holds a line break, tab or other control character: many go
    /// into message headers (`email.message_id_domain`, `email.from_name`), where CRLF
    /// would start a header of its own.
    func refuseControls(_ key: String, _ value: String) throws {
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ConfigError(
                "\(origin(key)): \(key): contains a line break, tab or other control character")
        }
    }

    func int(_ key: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let raw = config.string(forKey: ConfigKey(key)) else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError("\(origin(key)): \(key): '\(raw)' is not a whole number")
        }
        if let range, !range.contains(value) {
            throw ConfigError("\(origin(key)): \(key): \(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        note(key, raw)
        return value
    }

    /// Seconds, written `90`, `1.5`, `30s`, `5m`, `2h` or `90d`.
    func duration(_ key: String) throws -> Double? {
        guard let raw = config.string(forKey: ConfigKey(key)) else { return nil }
        guard let value = Self.parseDuration(raw), value >= 0 else {
            throw ConfigError("\(origin(key)): \(key): '\(raw)' is not a duration (e.g. 30, 30s, 5m, 2h, 90d)")
        }
        note(key, raw)
        return value
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let value = config.stringArray(forKey: ConfigKey(key)) else {
            if let single = config.string(forKey: ConfigKey(key)) {
                try refuseControls(key, single)
                note(key, single)
                return [single]
            }
            return nil
        }
        for item in value { try refuseControls(key, item) }
        note(key, value.joined(separator: " | "))
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard let raw = config.string(forKey: ConfigKey(key)) else { return nil }
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": note(key, "true"); return true
        case "false", "no", "off", "0": note(key, "false"); return false
        default: throw ConfigError("\(origin(key)): \(key): '\(raw)' is not true or false")
        }
    }

    static func parseDuration(_ raw: String) -> Double? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)), n.isFinite { return n * factor }
        }
        if let n = Double(text), n.isFinite { return n }
        return nil
    }
}
