import Foundation
import RelanceCore
import RelanceDunning
import Testing

@testable import RelanceDaemon

/// The configuration reader against its table of keys, and the README and the sample
/// file against the table.
@Suite("Configuration")
struct ConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Loads `yaml` (nil: no file) under `environment`.
    static func load(_ yaml: String?, _ environment: [String: String] = [:]) async throws -> RelanceConfig {
        guard let yaml else { return try await RelanceConfig.load(path: nil, environment: environment) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("relance-\(UUID()).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await RelanceConfig.load(path: file.path, environment: environment)
    }

    /// The error `load` throws, as text.
    static func problem(_ yaml: String?, _ environment: [String: String] = [:]) async -> String? {
        do {
            _ = try await load(yaml, environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("the README's table is the one the key table produces")
    func readmeTable() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let marker = try #require(readme.range(of: "<!-- config-keys"))
        let start = try #require(readme.range(of: "-->\n", range: marker.lowerBound..<readme.endIndex))
        let end = try #require(readme.range(of: "<!-- /config-keys -->"))
        #expect(
            String(readme[start.upperBound..<end.lowerBound]) == ConfigKeys.markdownTable(),
            "README.md: regenerate the table with `relance config keys --markdown`")
    }

    /// The key paths `deploy/relance.yaml` names, commented out or not: a line's nesting
    /// is its column less two per `#` before the key.
    static func sampleKeys() throws -> [String] {
        let text = try String(
            contentsOf: repository.appendingPathComponent("deploy/relance.yaml"), encoding: .utf8)
        var stack: [(level: Int, name: String)] = []
        var keys: [String] = []
        let pattern = /^([# ]*?)([a-z_][a-z0-9_]*):(?: |$)/
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let match = line.firstMatch(of: pattern) else { continue }
            let prefix = match.output.1
            let hashes = prefix.filter { $0 == "#" }.count
            let level = (prefix.count - 2 * hashes) / 2
            stack.removeAll { $0.level >= level }
            stack.append((level, String(match.output.2)))
            keys.append(stack.map(\.name).joined(separator: "."))
        }
        return keys
    }

    @Test("deploy/relance.yaml names every key, and no key the table does not know")
    func sampleNamesEveryKey() throws {
        let named = Set(try Self.sampleKeys())
        let sections = Set(
            ConfigKeys.all.flatMap { spec in
                let parts = spec.key.split(separator: ".")
                return (1..<parts.count).map { parts[..<$0].joined(separator: ".") }
            })
        let missing = ConfigKeys.all.map(\.key).filter { !named.contains($0) }
        let unknown = named.filter { ConfigKeys.byKey[$0] == nil && !sections.contains($0) }
        #expect(missing == [], "add them to deploy/relance.yaml, commented with their default")
        #expect(unknown.sorted() == [])
    }

    @Test("every literal default reads under its own type, range and choices")
    func defaultsRead() async throws {
        for spec in ConfigKeys.all {
            guard let value = spec.literalDefault else { continue }
            switch spec.kind {
            case .int:
                let number = try #require(Int(value), "\(spec.key)")
                if let range = spec.range { #expect(range.contains(number), "\(spec.key)") }
            case .duration: #expect(Reader.parseDuration(value) != nil, "\(spec.key)")
            case .bool: #expect(["true", "false"].contains(value), "\(spec.key)")
            case .string, .list: if let choices = spec.choices { #expect(choices.contains(value), "\(spec.key)") }
            }
        }
        let config = try await Self.load(nil)
        #expect(config.dispatcher.concurrency == 4 && config.dispatcher.batchSize == 8)
        #expect(config.smtp.map { _ in true } == nil && config.email.transport == .outbox)
        #expect(config.smtp?.dataTimeout == nil)
        #expect(config.retry.maxAge == 3 * 86400 && config.retention == 90 * 86400)
        #expect(config.sms.transport == .outbox && config.sms.rate == 10 && config.letters.transport == .spool)
        #expect(config.dispatcher.lease == 300)
        #expect(config.effective.isEmpty, "defaults are not shown as given values")
    }

    @Test("the environment wins over the file, and an error names where the value came from")
    func environmentWins() async throws {
        let config = try await Self.load("dispatcher:\n  concurrency: 3\n", ["RELANCE_DISPATCHER_CONCURRENCY": "5"])
        #expect(config.dispatcher.concurrency == 5)
        let problem = await Self.problem("", ["RELANCE_DISPATCHER_CONCURRENCY": "500"])
        #expect(problem == "RELANCE_DISPATCHER_CONCURRENCY (environment): dispatcher.concurrency: 500 is outside 1…256")
    }

    @Test(
        "a value of the wrong type, range or choice is refused with its key",
        arguments: [
            ("dispatcher:\n  batch_size: many\n", "dispatcher.batch_size: 'many' is not a whole number"),
            ("retry:\n  max_age: soon\n", "retry.max_age: 'soon' is not a duration"),
            ("api:\n  enabled: maybe\n", "api.enabled: 'maybe' is not true or false"),
            ("log:\n  format: xml\n", "log.format: 'xml' is not one of logfmt, json"),
            ("sms:\n  transport: pigeon\n", "sms.transport: 'pigeon' is not one of outbox, kannel, twilio, webhook"),
            ("letters:\n  max_pages: 0\n", "letters.max_pages: 0 is outside 1…100"),
            ("email:\n  from_name: \"A\\r\\nBcc: x@y.z\"\n", "email.from_name: contains a line break"),
            ("dispatcher:\n  concurrency: [1, 2]\n", "dispatcher.concurrency: a list, where a whole number belongs"),
            (
                "smtp:\n  hots: x\n",
                "unknown key 'smtp.hots' (did you mean 'smtp.host'?) (known in this section: ca_file"
            ),
            ("retry: 3\n", "'retry' is a section, not a value"),
            // What a review found (2026-12-07), each a crash, a spin or a silent mistake before:
            ("sweeper:\n  interval: 1e18s\n", "sweeper.interval: '1e18s' is outside 100 ms…1 h"),
            ("database:\n  busy_timeout: 30d\n", "database.busy_timeout: '30d' is outside 0 s…1 d"),
            ("sweeper:\n  interval: 0\n", "sweeper.interval: '0' is outside 100 ms…1 h"),
            ("dispatcher:\n  poll_interval: 0\n", "dispatcher.poll_interval: '0' is outside 10 ms…1 h"),
            ("smtp:\n  host: 127.0.0.1\n  timeout: 0\n", "smtp.timeout: '0' is outside 100 ms…1 d"),
            ("sms:\n  rate: 1e-300\n", "sms.rate: '1e-300' is not a number of messages per second from 0.01"),
            ("dispatcher:\n  concurrency: 99999999999999999999999\n", "is too large"),
            ("smtp:\n  security: bogus\n", "smtp.security: 'bogus' is not one of none, starttls, tls"),
            ("sms:\n  kannel:\n    dlr_mask: 99\n", "sms.kannel.dlr_mask: 99 is outside 1…31"),
            ("smtp:\n  host: mail.example.com\n  security: none\n", "mail.example.com is not a loopback address"),
            (
                "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    to_field: text\n",
                "sms.webhook.text_field: 'text' is already the name of sms.webhook.to_field"
            ),
            (
                "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    to_field: \"\"\n",
                "sms.webhook.to_field: the webhook needs a field name for it"
            ),
            (
                "sms:\n  kannel:\n    url: ftp://gw.example/send\n",
                "sms.kannel.url: the value is not an http(s) URL with a host"
            ),
            ("\"smtp.host\": x\n", "'smtp.host': write keys as nested sections"),
            ("smpt:\n  host: x\n", "unknown key 'smpt.host' (did you mean 'smtp.host'?)"),
            ("api:\n  listen: \"a b:80\"\n", "api.listen: 'a b:80' is not HOST:PORT (a host name or an IP address)"),
            // The second review (2026-12-07):
            ("state_directory: \"\"\n", "state_directory: is empty"),
            ("templates:\n  default_locale: \" \"\n", "templates.default_locale: is empty"),
            ("\"na\\emme\": 1\n", "unknown key 'na\\u{1B}mme'"),
            ("creditor:\n  name: \"A\u{FEFF}B\"\n", "creditor.name: contains an invisible character (U+FEFF)"),
            ("creditor:\n  name: \"A\u{200B}B\"\n", "creditor.name: contains an invisible character (U+200B)"),
            ("sms:\n  sender: \"A\u{61C}B\"\n", "sms.sender: contains an invisible character (U+61C)"),
            ("sms:\n  kannel:\n    url: \"http://gw.example:99999/x\"\n", "sms.kannel.url: the value"),
            ("sms:\n  webhook:\n    url: \"http://[S3CRET-x]/\"\n", "sms.webhook.url: the value is not an http(s) URL"),
            (
                "sms:\n  callback_base_url: \"https://relance.example/cb?k=1\"\n",
                "give the scheme, host, port and path only"
            ),
            ("scenarios:\n  strategic_formal_notice: 9999999999d\n", "is not a number of days"),
            ("smtp:\n  port: 0\n", "smtp.port: 0 is outside 1…65535"),
            ("smtp:\n  host: null\n", "smtp.host: null is not a value here"),
            (
                "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    to_field: \" \"\n",
                "sms.webhook.to_field: ' ' is not a field name"
            ),
            (
                "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    headers: [\"Host: evil.example\"]\n",
                "Host is set by the HTTP client, not by configuration"
            ),
            ("email:\n  from_name: \"A\u{2028}B\"\n", "email.from_name: contains an invisible character (U+2028)"),
        ])
    func refused(yaml: String, expected: String) async {
        let problem = await Self.problem(yaml)
        #expect(problem?.contains(expected) == true, "\(problem ?? "accepted")")
    }

    @Test("nothing secret is quoted in an error: a duplicated key, a URL with credentials")
    func errorsQuoteNoSecret() async {
        let duplicated = await Self.problem(
            "sms:\n  webhook:\n    url: \"https://u:S3CRET-A@gw.example/?k=S3CRET-B\"\n    url: https://gw.example/\n")
        #expect(duplicated?.contains("appear twice in one section") == true, "\(duplicated ?? "")")
        #expect(duplicated?.contains("S3CRET") == false, "\(duplicated ?? "")")
        let callback = await Self.problem("sms:\n  callback_base_url: \"ftp://u:S3CRET-C@cb.example/?q=S3CRET-D\"\n")
        #expect(callback?.contains("is not an http(s) URL") == true, "\(callback ?? "")")
        #expect(callback?.contains("S3CRET") == false, "\(callback ?? "")")
        let bare = await Self.problem("sms:\n  webhook:\n    url: \"u:S3CRET-E@gw.example/x\"\n")
        #expect(bare?.contains("is not an http(s) URL") == true && bare?.contains("S3CRET") == false, "\(bare ?? "")")
        let invalid = await Self.problem("sms:\n  webhook:\n    url: \"https://gw.example/x y S3CRET-F\"\n")
        #expect(invalid?.contains("S3CRET") == false, "\(invalid ?? "")")
    }

    @Test("a directory where the file belongs is an error, not a crash")
    func directory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-dir-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try await RelanceConfig.load(path: directory.path, environment: [:])
            Issue.record("a directory was taken for a configuration file")
        } catch {
            #expect("\(error)".hasSuffix("is a directory, not a file"))
        }
        let logo = await Self.problem("letters:\n  logo: \(directory.path)\n")
        #expect(logo?.contains("letters.logo: logo \(directory.path) is a directory") == true, "\(logo ?? "")")
    }

    @Test("secret files: a bad header line is named by file and line, a control character or a NUL refused")
    func secretFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-cred-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("bad", "X-Key: S3CRET-G\nno colon here\n")
        try write("control", "X-Key: S3CRET\u{1}H\n")
        try write("nul", "pass\u{0}word\n")
        let webhook = "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    headers_file: "
        let environment = ["CREDENTIALS_DIRECTORY": directory.path]
        let bad = await Self.problem(webhook + "bad\n", environment)
        #expect(
            bad?.contains("sms.webhook.headers_file bad, line 2: a header is 'Name: value'") == true, "\(bad ?? "")")
        let control = await Self.problem(webhook + "control\n", environment)
        #expect(control?.contains("holds a NUL byte or another control character") == true, "\(control ?? "")")
        #expect(control?.contains("S3CRET") == false)
        let nul = await Self.problem("smtp:\n  host: 127.0.0.1\n  password_file: nul\n", environment)
        #expect(nul?.contains("holds a NUL byte") == true, "\(nul ?? "")")
    }

    @Test("the configuration file, the logo: only regular files are read (a FIFO or a device would block or never end)")
    func onlyRegularFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-files-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/zero"] {
            do {
                _ = try await RelanceConfig.load(path: path, environment: [:])
                Issue.record("\(path) was read as a configuration")
            } catch {
                #expect("\(error)".hasSuffix("is not a regular file, not a file"), "\(error)")
            }
        }
        #expect(await Self.problem("letters:\n  logo: \(fifo)\n")?.contains("is not a regular file") == true)
        let text = directory.appendingPathComponent("logo.png")
        try "not a PNG".write(to: text, atomically: true, encoding: .utf8)
        let notPNG = await Self.problem("letters:\n  logo: \(text.path)\n")
        #expect(notPNG?.contains("letters.logo: cannot read the logo") == true, "\(notPNG ?? "")")
        let bom = directory.appendingPathComponent("bom.yaml")
        try Data([0xEF, 0xBB, 0xBF] + Array("log:\n  level: info\n".utf8)).write(to: bom)
        do {
            _ = try await RelanceConfig.load(path: bom.path, environment: [:])
            Issue.record("a byte-order mark was taken")
        } catch {
            #expect("\(error)".contains("starts with a byte-order mark"))
        }
    }

    @Test("secret files: Windows line ends read, one-line secrets kept to one line, empty or huge ones refused")
    func secretFileShapes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-shapes-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ data: Data) throws { try data.write(to: directory.appendingPathComponent(name)) }
        try write("crlf-headers", Data("X-One: 1\r\nX-Two: 2\r\n".utf8))
        try write("empty", Data("\n".utf8))
        try write("two-lines", Data("pass\nword\n".utf8))
        try write("huge", Data(repeating: 0x61, count: 2 << 20))
        let environment = ["CREDENTIALS_DIRECTORY": directory.path]
        let config = try await Self.load(
            "sms:\n  transport: webhook\n  webhook:\n    url: https://gw.example/x\n    headers_file: crlf-headers\n",
            environment)
        #expect(config.sms.webhook?.headers.map { "\($0.0)=\($0.1)" } == ["X-One=1", "X-Two=2"])
        let smtp = "smtp:\n  host: 127.0.0.1\n  password_file: "
        #expect(await Self.problem(smtp + "empty\n", environment)?.contains("is empty") == true)
        #expect(await Self.problem(smtp + "two-lines\n", environment)?.contains("holds more than one line") == true)
        #expect(await Self.problem(smtp + "huge\n", environment)?.contains("is larger than 1024 KiB") == true)
    }

    @Test(
        "smtp.security none: a loopback relay only, as the resolver reads addresses",
        arguments: [
            ("localhost", true), ("127.0.0.1", true), ("127.255.255.255", true), ("::1", true), ("[::1]", true),
            ("0:0::1", true), ("0:0:0:0:0:0:0:1", true), ("LOCALHOST", true), ("127.0.0.09", false), ("[::1", false),
            ("::1]", false), ("10.0.0.1", false), ("128.0.0.1", false), ("localhost.", false), ("::2", false),
            ("relay.example", false),
        ])
    func loopback(host: String, loopback: Bool) {
        #expect(RelanceConfig.isLoopback(host) == loopback)
    }

    @Test("from the environment: bytes that were not UTF-8 are refused, not read as U+FFFD")
    func environmentUTF8() async {
        let problem = await Self.problem(nil, ["RELANCE_CREDITOR_NAME": "A\u{FFFD}B"])
        #expect(problem == "RELANCE_CREDITOR_NAME (environment): creditor.name: not valid UTF-8")
        // A C1 control (NEL) a shell lets through.
        let nel = await Self.problem(nil, ["RELANCE_EMAIL_FROM_NAME": "A\u{85}B"])
        #expect(
            nel
                == "RELANCE_EMAIL_FROM_NAME (environment): email.from_name: contains a line break, tab or other control character"
        )
    }

    @Test(
        "duration bounds read as the README shows them",
        arguments: [
            (0.0, "0 s"), (0.01, "10 ms"), (0.1, "100 ms"), (1.0, "1 s"), (60.0, "1 min"), (3600.0, "1 h"),
            (86400.0, "1 d"), (30 * 86400.0, "30 d"), (1.5, "1.5 s"),
        ] as [(Double, String)])
    func durationText(seconds: Double, text: String) {
        #expect(ConfigKeySpec.text(seconds: seconds) == text)
    }

    @Test("a misspelt RELANCE_ variable is refused with the closest key's")
    func unknownVariable() async {
        let problem = await Self.problem(nil, ["RELANCE_SMTP_HOTS": "x"])
        #expect(problem == "environment: unknown variable RELANCE_SMTP_HOTS (did you mean RELANCE_SMTP_HOST?)")
    }

    @Test("config check shows given values; header values and URL credentials redacted, secret files by path only")
    func redaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-cred-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "Authorization: Bearer s3cret-file\n".write(
            to: directory.appendingPathComponent("hooks"), atomically: true, encoding: .utf8)
        let config = try await Self.load(
            """
            sms:
              transport: webhook
              webhook:
                url: https://user:pw@sms.example/send?key=s3cret-query
                headers: ["X-Api-Key: s3cret-inline"]
                headers_file: hooks
            """, ["CREDENTIALS_DIRECTORY": directory.path])
        let shown = Dictionary(uniqueKeysWithValues: config.effective)
        #expect(shown["sms.webhook.headers"] == "<redacted>")
        #expect(shown["sms.webhook.headers_file"] == "hooks")
        #expect(shown["sms.webhook.url"] == "https://<redacted>@sms.example/send?<redacted>")
        #expect(!config.effective.map(\.1).joined().contains("s3cret"))
        #expect(config.sms.webhook?.headers.map(\.1) == ["s3cret-inline", "Bearer s3cret-file"])
    }

    @Test("a lease shorter than the longest send is refused; without one it outlasts it by a minute")
    func lease() async throws {
        let smtp = "smtp:\n  host: relay.example\n  data_timeout: 20m\n"
        let problem = await Self.problem(smtp + "dispatcher:\n  lease: 10m\n")
        #expect(problem?.contains("dispatcher.lease (600.0 s) must be longer than smtp.connect_timeout") == true)
        let config = try await Self.load(smtp)
        #expect(config.email.transport == .smtp && config.smtp?.port == 587)
        #expect(config.dispatcher.lease == 10 + 60 + 1200 + 60)
    }
}
