import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceTemplates

/// One configuration key: its type, its default, what it means, and how `config check`
/// shows it. The reader takes the types, ranges, choices and literal defaults from here;
/// the README's table (`relance config keys --markdown`) is produced from here, and tests
/// check the README and `deploy/relance.yaml` against it.
public struct ConfigKeySpec: Sendable {
    public enum Kind: Sendable, Equatable {
        case string, int, duration, bool
        /// One value or a list of values.
        case list
    }

    public enum Default: Sendable {
        /// Read as if written in the file (`"4"`, `"30s"`, `""`).
        case value(String)
        /// Computed from other keys or the environment; the text says how.
        case derived(String)
        /// No value: the feature is off or the peer's own default applies; the text says which.
        case none(String)
    }

    /// How `config check` prints the value.
    public enum Shown: Sendable {
        case plain
        /// The value is itself a secret (headers carrying an API key).
        case redacted
        /// A URL: credentials, query and fragment redacted.
        case url
        /// Names a secret file: the path is shown, its content never.
        case secretFile
        /// A `postgres://` URL: checked by `PostgresSettings`, shown without its password.
        case databaseURL
    }

    public var key: String
    public var kind: Kind
    public var defaultValue: Default
    public var doc: String
    public var range: ClosedRange<Int>?
    /// For a duration: the seconds it may be (a zero interval would spin, a huge one
    /// overflow a timer, a zero timeout mean "none" to libcurl).
    public var seconds: ClosedRange<Double>?
    public var choices: [String]?
    public var shown: Shown

    init(
        _ key: String, _ kind: Kind, _ defaultValue: Default, _ doc: String, range: ClosedRange<Int>? = nil,
        seconds: ClosedRange<Double>? = nil, choices: [String]? = nil, shown: Shown = .plain
    ) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.range = range
        self.seconds = seconds
        self.choices = choices
        self.shown = shown
    }

    /// `0.1 s`, `30 s`, `1 h`, `365 d`: a duration bound as the README shows it.
    public static func text(seconds: Double) -> String {
        let units: [(Double, String)] = [(86400, "d"), (3600, "h"), (60, "min"), (1, "s")]
        for (size, unit) in units where seconds >= size && (seconds / size).rounded() == seconds / size {
            return "\(Int(seconds / size)) \(unit)"
        }
        if seconds == 0 { return "0 s" }
        return seconds >= 1 ? "\(seconds) s" : "\(Int((seconds * 1000).rounded())) ms"
    }

    /// Whether an empty value means something (no value, a field left out) rather than
    /// a mistake: keys whose default is empty or none, and the webhook's field names.
    public var mayBeEmpty: Bool {
        switch defaultValue {
        case .value(let text): text.isEmpty || key.hasSuffix("_field")
        case .none: true
        case .derived: false
        }
    }

    /// The literal default, when there is one.
    public var literalDefault: String? {
        if case .value(let text) = defaultValue { return text }
        return nil
    }
}

extension ConfigKeySpec {
    static func string(
        _ key: String, _ value: Default, _ doc: String, choices: [String]? = nil, shown: Shown = .plain
    ) -> Self {
        Self(key, .string, value, doc, choices: choices, shown: shown)
    }
    static func int(_ key: String, _ value: Default, _ doc: String, range: ClosedRange<Int>? = nil) -> Self {
        Self(key, .int, value, doc, range: range)
    }
    static func duration(_ key: String, _ value: Default, _ doc: String, seconds: ClosedRange<Double>) -> Self {
        Self(key, .duration, value, doc, seconds: seconds)
    }

    static func bool(_ key: String, _ value: Default, _ doc: String) -> Self { Self(key, .bool, value, doc) }
    static func list(_ key: String, _ value: Default, _ doc: String, shown: Shown = .plain) -> Self {
        Self(key, .list, value, doc, shown: shown)
    }
    static func secretFile(_ key: String, _ value: Default, _ doc: String) -> Self {
        Self(key, .string, value, doc, shown: .secretFile)
    }
    static func url(_ key: String, _ value: Default, _ doc: String) -> Self {
        Self(key, .string, value, doc, shown: .url)
    }
}

/// Every key the file may hold (anything else is a typo and refused), in the README's order.
public enum ConfigKeys {
    public static let all: [ConfigKeySpec] =
        general + email + smtp + dispatching + api + console + sms + smsGateways + letters + scenarios + windows

    static let day = 86400.0
    /// A timeout of a network step: 0 would mean "none" to libcurl.
    static let timeout = 0.1...day

    /// By key.
    public static let byKey: [String: ConfigKeySpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    static let general: [ConfigKeySpec] = [
        .string("state_directory", .value("var"), "where the database, the outbox and the spool live"),
        .string("database.path", .derived("`<state_directory>/relance.sqlite`"), "SQLite file (WAL mode)"),
        .duration("database.busy_timeout", .value("10"), "how long a writer waits for a lock", seconds: 0...day),
        .string(
            "database.url", .none("SQLite at `database.path`"),
            "`postgres://USER@HOST:PORT/DATABASE` selects the PostgreSQL backend; parameters `sslmode` (disable on loopback only, require, verify-full), `sslrootcert`, `schema` (relance), `pool_size` (10), `query_timeout` (30 s), `host` (a socket directory): README, \"On PostgreSQL\"",
            shown: .databaseURL),
        .secretFile(
            "database.password_file", .none("`PGPASSFILE`'s entry if set, else no password"),
            "the PostgreSQL password"),
        .string(
            "templates.directory", .derived("`./Templates` if present, else `/usr/share/relance/templates`"),
            "message templates (docs/TEMPLATES.md)"),
        .string(
            "templates.default_locale", .value("en-GB"),
            "the text (and formats) for a payer whose language has no templates (docs/TEMPLATES.md, Languages)"),
        .int(
            "templates.deadline_days", .value(String(PaymentDeadline.defaultDays)),
            "a `payment_deadline` is at least this many days after the message's date, else refused at enqueue and at dispatch; a message without one gets that day (docs/TEMPLATES.md)",
            range: PaymentDeadline.allowedDays),
        .string("creditor.name", .value(""), "the sender, shown in signatures and footers"),
        .string("creditor.email", .value(""), "shown in signatures and footers"),
        .string("creditor.phone", .value(""), "shown in signatures and footers"),
        .string("creditor.website", .value(""), "shown in signatures and footers"),
        .list("creditor.address", .value(""), "postal address lines (letters' sender block)"),
        .string("creditor.registration", .value(""), "legal mentions (footers)"),
        .string(
            "creditor.jurisdiction", .value("FR"),
            "whose late-payment law business payers are reminded of: FR, DE, ES, IT, NL, BE or GB (docs/LATE-PAYMENT.md)"
        ),
        .string(
            "creditor.iban", .value(""),
            "bank details for payment, checked (ISO 13616); with it, reminders in EUR carry an EPC QR code (docs/PAYMENTS.md)"
        ),
        .string("creditor.bic", .value(""), "bank details for payment (8 or 11 characters)"),
        .bool(
            "creditor.qr_code", .value("true"),
            "an EPC QR code (SEPA credit transfer) on letters and HTML e-mails when the amount due is in EUR and `creditor.iban` is set"
        ),
        .string(
            "creditor.payment_url", .none("no link unless the job's data has `payment_link`"),
            "the pay link put in reminders: an https URL naming `{case}` and `{token}` (and maybe `{amount}`, `{currency}`), e.g. `https://pay.example/{case}?t={token}` (docs/PAYMENTS.md)"
        ),
        .secretFile(
            "creditor.payment_secret_file", .none("—"),
            "the HMAC key of the pay links' tokens (at least 16 bytes), shared with the payment page; needed with `creditor.payment_url`"
        ),
    ]

    static let email: [ConfigKeySpec] = [
        .string(
            "email.transport", .derived("`smtp` if `smtp.host` is set, else `outbox`"),
            "`outbox` writes `.eml` files; `smtp` sends through `smtp.*`",
            choices: EmailTransportKind.allCases.map(\.rawValue)),
        .string("email.from", .value("relance@localhost.localdomain"), "sender; also the envelope sender (bounces)"),
        .string("email.from_name", .value(""), "display name of the sender"),
        .string("email.reply_to", .none("none"), "`Reply-To`"),
        .string(
            "email.message_id_domain", .derived("domain of `email.from`"),
            "`Message-ID: <relance.job-<id>.<attempt>@domain>`"),
        .string("email.outbox_directory", .derived("`<state_directory>/outbox`"), "where `outbox` writes"),
        .string(
            "email.bounce_address", .none("the envelope sender is `email.from`; bounces are not read"),
            "where bounces go: each message's envelope sender becomes `<local>+<job>-<attempt>-<mac>@<domain>` (docs/EMAIL.md)"
        ),
        .secretFile(
            "email.bounce_secret_file", .none("—"),
            "the HMAC key of those addresses (at least 16 bytes); needed with `email.bounce_address`"),
        .string(
            "email.bounces.lmtp_listen", .none("no listener; `relance bounce` reads bounces on stdin"),
            "`HOST:PORT` of the LMTP listener for bounces (loopback only)"),
        .string(
            "email.dkim.domain", .derived("domain of `email.from`"),
            "DKIM `d=`; must align with the domain of `email.from` (DMARC)"),
        .string("email.dkim.ed25519.selector", .none("no Ed25519 signature"), "selector of the Ed25519 key"),
        .secretFile(
            "email.dkim.ed25519.key_file", .none("—"), "its private key (PEM; `relance dkim keygen` writes one)"),
        .string("email.dkim.rsa.selector", .none("no RSA signature"), "selector of the RSA key (2048 bits or more)"),
        .secretFile("email.dkim.rsa.key_file", .none("—"), "its private key (PEM)"),
    ]

    static let smtp: [ConfigKeySpec] = [
        .string("smtp.host", .none("—"), "the relay; setting it makes `smtp` the default transport"),
        .int("smtp.port", .derived("`587` (`465` for `tls`)"), "TCP port", range: 1...65535),
        .string(
            "smtp.security", .value("starttls"),
            "`none` (loopback relays only), `starttls` (required, never falls back to clear text), `tls`",
            choices: SMTPSettings.Security.allCases.map(\.rawValue)),
        .string("smtp.username", .none("—"), "AUTH user"),
        .secretFile("smtp.password_file", .none("—"), "AUTH password; never in logs or `config check`"),
        .string("smtp.helo_name", .none("libcurl's"), "EHLO name"),
        .duration("smtp.connect_timeout", .value("10"), "per message: connecting", seconds: timeout),
        .duration("smtp.timeout", .value("60"), "per message: the envelope and writing the message", seconds: timeout),
        .duration(
            "smtp.data_timeout", .value("10m"),
            "how long the server may take to answer the end of the message (RFC 5321 §4.5.3.2.6); no answer by then makes the job `uncertain`, never sent again",
            seconds: timeout),
        .string("smtp.ca_file", .none("system CAs"), "an extra CA bundle; certificate verification is always on"),
    ]

    static let dispatching: [ConfigKeySpec] = [
        .int(
            "dispatcher.concurrency", .value("4"),
            "workers; each keeps one SMTP connection open. Throughput grows with connections until the CPU is busy: into a local relay on 2 cores 16 send ~15 % more than 8 (docs/PERFORMANCE.md); stay within what your relay allows per client",
            range: 1...256),
        .int("dispatcher.batch_size", .value("8"), "jobs claimed per transaction", range: 1...1000),
        .duration("dispatcher.poll_interval", .value("1"), "idle wait between claims", seconds: 0.01...3600),
        .duration(
            "dispatcher.lease", .derived("`300`, or a minute more than the longest send"),
            "must exceed `smtp.connect_timeout + smtp.timeout + smtp.data_timeout` (with SMTP), `sms.connect_timeout + sms.timeout` (with an SMS gateway) and `letters.connect_timeout + letters.timeout` (with `http-upload`): a worker makes the irrevocable write of a message only while its lease covers the wait for the answer",
            seconds: 1...(30 * day)),
        .duration(
            "dispatcher.drain_timeout", .value("30"), "on SIGTERM, how long in-flight jobs may take", seconds: 0...3600),
        .duration(
            "retry.base_delay", .value("30"),
            "backoff: attempt n waits a random time in [d/2, d], d = min(max_delay, base_delay·2^(n-1))",
            seconds: 0.01...(7 * day)),
        .duration("retry.max_delay", .value("1h"), "the longest backoff", seconds: 0.01...(30 * day)),
        .int("retry.max_attempts", .value("8"), "then `dead`", range: 1...100),
        .duration(
            "retry.max_age", .value("3d"), "a job not sent within this time after it was due is `dead`",
            seconds: 60...(365 * day)),
        .duration("sweeper.interval", .value("5"), "lease rescue and expiry", seconds: 0.1...3600),
        .duration(
            "retention.finished_jobs", .value("90d"), "finished jobs and their trace are deleted after this",
            seconds: 0...(3650 * day)),
        .duration("retention.prune_interval", .value("1h"), "how often they are", seconds: 1...day),
        .duration(
            "archive.retention", .value("3650d"),
            "the exact bytes of each sent message are kept this long (10 years: Code de commerce L123-22)",
            seconds: day...(36500 * day)),
        .string(
            "log.level", .value("info"), "one line per event on stdout",
            choices: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        .string("log.format", .value("logfmt"), "`logfmt` or `json`", choices: ["logfmt", "json"]),
    ]

    static let api: [ConfigKeySpec] = [
        .bool("api.enabled", .value("true"), "the HTTP API inside `relance serve`"),
        .string("api.listen", .value("127.0.0.1:8425"), "`HOST:PORT`; keep it on loopback or behind a TLS proxy"),
        .secretFile(
            "api.tokens_file", .none("none (every `/v1` call is refused)"),
            "lines `NAME SCOPES TOKEN`; scopes `enqueue`, `read`, `admin`"),
        .bool("api.open_health", .value("true"), "`/healthz` and `/readyz` without a token"),
        .bool("api.open_metrics", .value("true"), "`/metrics` without a token"),
        .int("api.max_body_bytes", .value("1048576"), "larger bodies get 413", range: 1024...(64 << 20)),
        .string(
            "api.openapi_file", .derived("`./openapi.yaml` if present, else `/usr/share/relance/openapi.yaml`"),
            "served at `/openapi.yaml`"),
    ]

    static let console: [ConfigKeySpec] = [
        .string(
            "console.listen", .none("no console"),
            "`HOST:PORT` of the web console (docs/CONSOLE.md), e.g. `127.0.0.1:8427`; keep it on loopback behind a TLS proxy"
        ),
        .secretFile(
            "console.users_file", .none("none (nobody can sign in)"),
            "lines `NAME:ROLE:BCRYPT`, written by `relance console user add`; roles `admin`, `viewer`, `advisor`"),
        .string(
            "console.audit_file", .derived("`<state_directory>/console-audit.log`"),
            "sign-ins and actions, one JSON object a line"),
        .bool(
            "console.secure_cookies", .value("false"),
            "mark cookies Secure even when the proxy sends no `X-Forwarded-Proto: https`"),
        .duration(
            "console.session_idle", .value("30m"), "a session unused this long ends (12 h at most in all)",
            seconds: 60...(12 * 3600)),
    ]

    static let sms: [ConfigKeySpec] = [
        .string(
            "sms.transport", .value("outbox"), "docs/SMS.md", choices: SMSTransportKind.allCases.map(\.rawValue)),
        .string(
            "sms.sender", .none("— (Kannel's `global-sender`)"), "`from`: an alphanumeric sender id or a number"),
        .string(
            "sms.sanitize", .value("typography"),
            "`typography`: spaces, quotes, dashes to GSM-7; `transliterate`: also accents",
            choices: SMSSanitizing.allCases.map(\.rawValue)),
        .int("sms.max_segments", .value("6"), "longer messages fail with their length", range: 1...20),
        .string("sms.default_country", .none("—"), "for national numbers of payers whose locale has no region"),
        .string(
            "sms.rate", .value("10"),
            "messages per second across all workers, 0.01–100000; `none` (or `unlimited`, `0`) for no limit"),
        .duration(
            "sms.connect_timeout", .value("5"), "per request; `dispatcher.lease` must exceed the sum", seconds: timeout),
        .duration("sms.timeout", .value("15"), "per request", seconds: timeout),
        .string("sms.ca_file", .none("system CAs"), "an extra CA bundle"),
        .string("sms.outbox_directory", .derived("`<state_directory>/outbox`"), "where `outbox` writes"),
        .url(
            "sms.callback_base_url", .none("— (no delivery reports)"),
            "the API as gateways reach it, for delivery reports: scheme, host, port and path only"),
        .secretFile("sms.callback_secret_file", .none("—"), "the HMAC key for callback URLs (at least 16 bytes)"),
    ]

    static let smsGateways: [ConfigKeySpec] = [
        .url("sms.kannel.url", .none("—"), "smsbox `sendsms`"),
        .string("sms.kannel.username", .none("—"), "smsbox user"),
        .secretFile("sms.kannel.password_file", .none("—"), "smsbox password"),
        .int("sms.kannel.dlr_mask", .value("31"), "delivery reports asked for", range: 1...31),
        .string("sms.kannel.smsc", .none("—"), "the `smsc-id` to route through"),
        .url("sms.twilio.url", .value("https://api.twilio.com"), "Twilio-compatible Messages API"),
        .string("sms.twilio.account_sid", .none("—"), "account"),
        .secretFile("sms.twilio.auth_token_file", .none("—"), "auth token"),
        .string("sms.twilio.messaging_service_sid", .none("—"), "or `sms.sender`"),
        .url("sms.webhook.url", .none("—"), "generic JSON webhook"),
        .list("sms.webhook.headers", .none("—"), "list of `Name: value`", shown: .redacted),
        .secretFile("sms.webhook.headers_file", .none("—"), "secret headers, `Name: value` per line"),
        .string("sms.webhook.to_field", .value("to"), "JSON field names"),
        .string("sms.webhook.text_field", .value("text"), ""),
        .string("sms.webhook.sender_field", .value("from"), "empty: not sent"),
        .string("sms.webhook.reference_field", .value("reference"), "empty: not sent"),
        .string("sms.webhook.callback_field", .value("callback_url"), "empty: not sent"),
        .string("sms.webhook.encoding_field", .none("—"), ""),
        .string("sms.webhook.id_field", .value("id"), "the gateway's message id in its answer"),
    ]

    static let letters: [ConfigKeySpec] = [
        .string(
            "letters.transport", .value("spool"), "docs/LETTERS.md",
            choices: LetterTransportKind.allCases.map(\.rawValue)),
        .string("letters.spool_directory", .derived("`<state_directory>/spool`"), "PDF + JSON manifest per letter"),
        .string(
            "letters.envelope", .value("fr-dl-right"), "where the address window is",
            choices: EnvelopePreset.all.map(\.name)),
        .int("letters.max_pages", .value("10"), "longer letters fail", range: 1...100),
        .string("letters.logo", .none("—"), "a PNG file printed top left"),
        .string("letters.place", .value("Paris"), "the town in \"Paris, le 23 novembre 2026\""),
        .string("letters.font", .value("DejaVu Sans"), "a fontconfig family"),
        .string(
            "letters.sender_country", .value("FR"), "payers elsewhere get international addresses (country line)"),
        .list("letters.attach_to_email", .none("—"), "templates whose e-mails carry the letter as a PDF"),
        .duration("letters.connect_timeout", .value("5"), "print provider upload", seconds: timeout),
        .duration("letters.timeout", .value("30"), "print provider upload", seconds: timeout),
        .string("letters.ca_file", .none("system CAs"), "an extra CA bundle"),
        .url("letters.http_upload.url", .none("—"), "print provider upload"),
        .list("letters.http_upload.headers", .none("—"), "list of `Name: value`", shown: .redacted),
        .secretFile("letters.http_upload.headers_file", .none("—"), "secret headers, `Name: value` per line"),
        .string("letters.http_upload.id_field", .value("id"), "the provider's letter id in its answer"),
    ]

    static let scenarios: [ConfigKeySpec] = [
        .string(
            "scenarios.directory", .derived("`<templates.directory>/scenarios`"),
            "dunning scenarios (docs/SCENARIOS.md)"),
        .string(
            "scenarios.strategic_formal_notice", .derived("the scenario file's (`45d`)"),
            "when the strategic scenario's formal notice goes, in days after the due date (`45d`, 1–3650)"),
    ]

    /// SMS: Monday to Friday, 10:00-13:00 and 14:00-20:00, no French public holiday;
    /// e-mail and letters: any time.
    static let windows: [ConfigKeySpec] = Channel.allCases.flatMap { channel -> [ConfigKeySpec] in
        let sms = channel == .sms
        return [
            .list(
                "windows.\(channel.rawValue).days", .derived(sms ? "`mon-fri`" : "every day"),
                "the days the channel may send, in the payer's time zone (`mon-fri`, `mon,wed`)"),
            .list(
                "windows.\(channel.rawValue).hours", .derived(sms ? "`10:00-13:00`, `14:00-20:00`" : "all day"),
                "the hours (`HH:MM-HH:MM`, a list)"),
            .string(
                "windows.\(channel.rawValue).holidays", .derived(sms ? "`fr`" : "`none`"),
                "closed all day on these public holidays: `none`, `fr`, `fr-alsace-moselle`"),
        ]
    }

    /// The README's table: one row per key.
    public static func markdownTable() -> String {
        var lines = ["| key | default | meaning |", "|---|---|---|"]
        for spec in all {
            let value: String
            switch spec.defaultValue {
            case .value(let text): value = text.isEmpty ? "empty" : "`\(text)`"
            case .derived(let text), .none(let text): value = text
            }
            var meaning = spec.doc
            if let range = spec.range {
                meaning += (meaning.isEmpty ? "" : "; ") + "\(range.lowerBound)–\(range.upperBound)"
            }
            if let seconds = spec.seconds {
                meaning +=
                    (meaning.isEmpty ? "" : "; ")
                    + "\(ConfigKeySpec.text(seconds: seconds.lowerBound))–\(ConfigKeySpec.text(seconds: seconds.upperBound))"
            }
            if spec.shown == .url { meaning += " (an http(s) URL)" }
            if spec.shown == .databaseURL { meaning += " (shown without its password)" }
            if let choices = spec.choices, !meaning.contains("`\(choices[0])`") {
                meaning += (meaning.isEmpty ? "" : "; ") + choices.map { "`\($0)`" }.joined(separator: ", ")
            }
            if spec.shown == .secretFile { meaning += " (a secret file)" }
            if spec.shown == .redacted { meaning += " (redacted by `config check`)" }
            lines.append("| `\(spec.key)` | \(value) | \(meaning) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
