import Configuration
import Foundation
import Glibc
import RelanceCore
import RelanceStorePostgres
import Yams

/// A configuration problem, saying which key and which file.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed access to the configuration, by the table of keys (`ConfigKeys`): a value that
/// is present but of the wrong type, outside its range or not one of its choices is an
/// error naming the key and where it came from, never a silent default. A key left out
/// reads as its literal default from the table (nil when it has none).
final class Reader {
    let config: ConfigReader
    let file: String
    let environment: [String: String]
    /// The values given (not the defaults), shown by `config check`.
    var seen: [(String, String)] = []

    init(config: ConfigReader, file: String, environment: [String: String] = [:]) {
        self.config = config
        self.file = file
        self.environment = environment
    }

    /// Where `key`'s value comes from, for an error: its environment variable when that
    /// is set (it wins over the file), else the file.
    func origin(_ key: String) -> String {
        let variable = Self.variable(for: key)
        return environment[variable] != nil ? "\(variable) (environment)" : file
    }

    /// The environment variable that sets `key`: `smtp.host` → `RELANCE_SMTP_HOST`.
    static func variable(for key: String) -> String {
        "RELANCE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    private func spec(_ key: String) throws -> ConfigKeySpec {
        guard let spec = ConfigKeys.byKey[key] else {
            throw ConfigError("\(key): not in the table of keys (Sources/RelanceDaemon/Config/ConfigKeys.swift)")
        }
        return spec
    }

    /// The text given for `key`, or nil.
    private func given(_ key: String) -> String? { config.string(forKey: ConfigKey(key)) }

    private func note(_ spec: ConfigKeySpec, _ value: String) {
        let shown: String =
            switch spec.shown {
            case .plain, .secretFile: value
            case .redacted: "<redacted>"
            case .url: Self.redactedURL(value)
            case .databaseURL: (try? PostgresSettings(url: value).redacted) ?? "<redacted>"
            }
        seen.append((spec.key, shown))
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

    /// A value as an error may quote it: a secret never, a URL without its credentials.
    func quoted(_ key: String, _ value: String) -> String {
        switch ConfigKeys.byKey[key]?.shown ?? .plain {
        case .plain, .secretFile: "'\(value)'"
        case .redacted: "the value"
        case .url: Self.urlProblem(value) == nil ? "'\(Self.redactedURL(value))'" : "the value"
        case .databaseURL: (try? PostgresSettings(url: value)).map { "'\($0.redacted)'" } ?? "the value"
        }
    }

    /// No configuration value holds a line break, tab or other control character: many go
    /// into message headers (`email.message_id_domain`, `email.from_name`), where CRLF
    /// would start a header of its own; nor the invisible characters that reorder or break
    /// lines where they are shown (C1 controls, U+2028/U+2029, bidirectional overrides);
    /// nor, from the environment, what was not UTF-8 there (read as U+FFFD).
    func refuseControls(_ key: String, _ value: String) throws {
        if let problem = Self.characterProblem(value) {
            throw ConfigError("\(origin(key)): \(key): \(problem)")
        }
        if value.contains("\u{FFFD}"), environment[Self.variable(for: key)] != nil {
            throw ConfigError("\(origin(key)): \(key): not valid UTF-8")
        }
    }

    static func characterProblem(_ value: String) -> String? {
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0..<0x20, 0x7F, 0x80...0x9F:
                return "contains a line break, tab or other control character"
            default:
                // Line and paragraph separators, the invisible format characters (direction
                // marks and overrides, zero-width spaces and joiners, U+FEFF) and the
                // noncharacters U+FFFE/U+FFFF.
                let category = scalar.properties.generalCategory
                if category == .lineSeparator || category == .paragraphSeparator || category == .format
                    || scalar.properties.isNoncharacterCodePoint
                {
                    return "contains an invisible character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
                }
            }
        }
        return nil
    }

    /// A key as an error shows it: what is not printable written as `\u{…}`.
    static func shown(key: String) -> String {
        var text = ""
        for scalar in key.unicodeScalars {
            if characterProblem(String(scalar)) != nil {
                text += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    func string(_ key: String) throws -> String? {
        let spec = try spec(key)
        guard let value = given(key) else { return spec.literalDefault }
        try refuseControls(key, value)
        if value.trimmingCharacters(in: .whitespaces).isEmpty, !spec.mayBeEmpty {
            throw ConfigError("\(origin(key)): \(key): is empty (leave the key out for its default)")
        }
        if let choices = spec.choices, !choices.contains(value) {
            throw ConfigError(
                "\(origin(key)): \(key): \(quoted(key, value)) is not one of \(choices.joined(separator: ", "))")
        }
        if spec.shown == .url, let problem = Self.urlProblem(value) {
            throw ConfigError("\(origin(key)): \(key): \(quoted(key, value)) \(problem)")
        }
        if spec.shown == .databaseURL {
            do { _ = try PostgresSettings(url: value) } catch let problem as PostgresSettings.Problem {
                throw ConfigError("\(origin(key)): \(problem.description)")
            }
        }
        note(spec, value)
        return value
    }

    /// Gateways, print providers and callbacks are reached over HTTP(S): anything else
    /// (`ftp://`, a bare host, text with a space) is a mistake found now, not at the first send.
    static func urlProblem(_ text: String) -> String? {
        guard !text.contains(where: \.isWhitespace),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:_%".contains($0)) })
        else { return "is not an http(s) URL with a host" }
        if let port = components.port, !(1...65535).contains(port) { return "has a port outside 1…65535" }
        return nil
    }

    /// A key whose value is one of an enumeration's raw values.
    func choice<T: RawRepresentable>(_ key: String, as type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw ConfigError("\(origin(key)): \(key): '\(text)' is not a value this version knows")
        }
        return value
    }

    func int(_ key: String) throws -> Int? {
        let spec = try spec(key)
        let isGiven = given(key) != nil
        guard let raw = given(key) ?? spec.literalDefault else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            let digits = raw.trimmingCharacters(in: .whitespaces).drop { $0 == "-" || $0 == "+" }
            let why =
                !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
                ? "too large" : "not a whole number"
            throw ConfigError("\(origin(key)): \(key): '\(raw)' is \(why)")
        }
        if let range = spec.range, !range.contains(value) {
            throw ConfigError("\(origin(key)): \(key): \(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        if isGiven { note(spec, raw) }
        return value
    }

    /// Seconds, written `90`, `1.5`, `30s`, `5m`, `2h` or `90d`.
    func duration(_ key: String) throws -> Double? {
        let spec = try spec(key)
        let isGiven = given(key) != nil
        guard let raw = given(key) ?? spec.literalDefault else { return nil }
        guard let value = Self.parseDuration(raw), value >= 0 else {
            throw ConfigError("\(origin(key)): \(key): '\(raw)' is not a duration (e.g. 30, 30s, 5m, 2h, 90d)")
        }
        if let bounds = spec.seconds, !bounds.contains(value) {
            throw ConfigError(
                "\(origin(key)): \(key): '\(raw)' is outside \(ConfigKeySpec.text(seconds: bounds.lowerBound))…\(ConfigKeySpec.text(seconds: bounds.upperBound))"
            )
        }
        if isGiven { note(spec, raw) }
        return value
    }

    func stringList(_ key: String) throws -> [String]? {
        let spec = try spec(key)
        if let value = config.stringArray(forKey: ConfigKey(key)) {
            for item in value { try refuseControls(key, item) }
            note(spec, value.joined(separator: " | "))
            return value
        }
        if let single = given(key) {
            try refuseControls(key, single)
            note(spec, single)
            return [single]
        }
        return spec.literalDefault.map { $0.isEmpty ? [] : [$0] }
    }

    func bool(_ key: String) throws -> Bool? {
        let spec = try spec(key)
        let isGiven = given(key) != nil
        guard let raw = given(key) ?? spec.literalDefault else { return nil }
        let value: Bool
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": value = true
        case "false", "no", "off", "0": value = false
        default: throw ConfigError("\(origin(key)): \(key): '\(raw)' is not true or false")
        }
        if isGiven { note(spec, value ? "true" : "false") }
        return value
    }

    /// Reads every key given, whether or not its section is in use (a gateway not
    /// selected): a wrong type, range or choice is an error now, not when the section is
    /// switched on. Shown values are noted once, by the reads that use them.
    func checkAll() throws {
        let noted = seen
        defer { seen = noted }
        for spec in ConfigKeys.all {
            guard given(spec.key) != nil || config.stringArray(forKey: ConfigKey(spec.key)) != nil else { continue }
            switch spec.kind {
            case .string: _ = try string(spec.key)
            case .int: _ = try int(spec.key)
            case .duration: _ = try duration(spec.key)
            case .bool: _ = try bool(spec.key)
            case .list: _ = try stringList(spec.key)
            }
        }
    }

    /// The value of a key the table gives a literal default: never nil.
    func string(defaulted key: String) throws -> String { try defaulted(key, string(key)) }
    func int(defaulted key: String) throws -> Int { try defaulted(key, int(key)) }
    func duration(defaulted key: String) throws -> Double { try defaulted(key, duration(key)) }
    func bool(defaulted key: String) throws -> Bool { try defaulted(key, bool(key)) }
    func stringList(defaulted key: String) throws -> [String] { try defaulted(key, stringList(key)) }
    func choice<T: RawRepresentable>(defaulted key: String, as type: T.Type) throws -> T where T.RawValue == String {
        try defaulted(key, choice(key, as: type))
    }

    private func defaulted<T>(_ key: String, _ value: T?) throws -> T {
        guard let value else {
            throw ConfigError(
                "\(key): the table of keys gives it no default (Sources/RelanceDaemon/Config/ConfigKeys.swift)")
        }
        return value
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

/// What is checked before any value is read: the file's keys and shapes, the environment's
/// variables, and the secret files.
enum ConfigSources {
    /// Refuses keys nobody reads (typos) and YAML syntax errors, with their line.
    /// Returns false when the file holds no value at all (empty, or comments only).
    @discardableResult
    static func checkKeys(inFile path: String) throws -> Bool {
        let bytes = try regularFile(path, what: "config file", maxBytes: 1 << 20)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw ConfigError("config file \(path) starts with a byte-order mark: save it as UTF-8 without one")
        }
        let text = try strictText(bytes, file: path)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError("config file \(path) is not valid YAML: \(yamlProblem(error))")
        }
        guard let node, node.null == nil else { return false }
        guard let mapping = node.mapping else {
            throw ConfigError("config file \(path): the top level must be a mapping of keys")
        }
        var problems: [String] = []
        walk(mapping, prefix: "", path: path, problems: &problems)
        if !problems.isEmpty { throw ConfigError(problems.joined(separator: "\n")) }
        return true
    }

    /// The parser's problem and where, without the lines of the file it quotes (a line may
    /// hold a password or a URL with a key in it).
    static func yamlProblem(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "unreadable" }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(context.map { "\($0.text): " } ?? "")\(problem)"
        case .reader(let problem, let offset, _, _):
            return "\(problem)\(offset.map { " at byte \($0)" } ?? "")"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return
                "line \(context.mark.line): the key(s) \(duplicates.sorted().joined(separator: ", ")) appear twice in one section"
        default:
            return "unreadable"
        }
    }

    private static func walk(_ mapping: Node.Mapping, prefix: String, path: String, problems: inout [String]) {
        let keys = ConfigKeys.byKey
        for (keyNode, value) in mapping {
            let key = prefix + (keyNode.string ?? "?")
            let shownKey = Reader.shown(key: key)
            let line = (keyNode.mark?.line).map { ":\($0)" } ?? ""
            if let name = keyNode.string, name.contains(".") {
                // `smtp.host:` at the top would be read as the key, beside a `smtp:` section.
                let parts = name.split(separator: ".")
                let section = Reader.shown(key: String(parts.first ?? ""))
                let rest = Reader.shown(key: parts.dropFirst().joined(separator: "."))
                problems.append(
                    "\(path)\(line): '\(shownKey)': write keys as nested sections (\(section):, then \(rest):)")
                continue
            }
            if let spec = keys[key], let scalar = value.scalar, scalar.style == .plain,
                ["null", "Null", "NULL", "~"].contains(scalar.string)
            {
                // Read as the text "null" by the reader, not as "no value".
                problems.append(
                    "\(path)\(line): \(spec.key): null is not a value here (leave the key out for its default)")
                continue
            }
            let inside = keys.keys.filter { $0.hasPrefix(key + ".") }
            if let spec = keys[key] {
                if let problem = shapeProblem(value, spec.kind) {
                    problems.append("\(path)\(line): \(key): \(problem)")
                }
            } else if let nested = value.mapping {
                walk(nested, prefix: key + ".", path: path, problems: &problems)
            } else if !inside.isEmpty {
                // A section with every key commented out is fine; a value in its place is not.
                if value.null == nil {
                    let names = inside.sorted().map { $0.dropFirst(key.count + 1) }
                    problems.append(
                        "\(path)\(line): '\(shownKey)' is a section, not a value (its keys: \(names.joined(separator: ", ")))"
                    )
                }
            } else {
                let section = keys.keys.filter { $0.hasPrefix(prefix) }.sorted().map { $0.dropFirst(prefix.count) }
                let names = Set(
                    keys.keys.flatMap { k in
                        let parts = k.split(separator: ".")
                        return (1...parts.count).map { parts[..<$0].joined(separator: ".") }
                    })
                let closest = names.min { editDistance($0, key) < editDistance($1, key) }
                let hint = closest.flatMap { editDistance($0, key) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
                problems.append(
                    "\(path)\(line): unknown key '\(shownKey)'\(hint)"
                        + (prefix.isEmpty || section.isEmpty
                            ? "" : " (known in this section: \(section.joined(separator: ", ")))"))
            }
        }
    }

    /// A list where one value belongs (or a mapping) is an error with its line, not a key
    /// silently left at its default.
    private static func shapeProblem(_ value: Node, _ kind: ConfigKeySpec.Kind) -> String? {
        let scalar = value.scalar != nil
        let list = value.sequence.map { $0.allSatisfy { $0.scalar != nil } } ?? false
        guard kind == .list ? !(scalar || list) : !scalar else { return nil }
        let found = value.mapping != nil ? "a mapping" : value.sequence != nil ? "a list" : "not a value"
        let wanted =
            switch kind {
            case .list: "a value or a list of values"
            case .int: "a whole number"
            case .duration: "a duration"
            case .bool: "true or false"
            case .string: "a single value"
            }
        return "\(found), where \(wanted) belongs"
    }

    /// Variables starting with `RELANCE_` that are not a key's: refused, as an unknown key
    /// in the file is (a misspelt `RELANCE_SMTP_HOTS` would otherwise leave the default).
    /// `RELANCE_CONFIG` names the file; `RELANCE_BIN` and `RELANCE_TEST_*` belong to the
    /// test and benchmark harness.
    static func checkEnvironment(_ environment: [String: String]) throws {
        let known = Set(ConfigKeys.all.map { Reader.variable(for: $0.key) })
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

    /// `text` as UTF-8, refused when it is not: a byte that is not UTF-8 (even in a
    /// comment) must not make the file read as empty, which would mean the defaults.
    static func strictText(_ bytes: Data, file: String) throws -> String {
        if let text = TextRules.strictUTF8(bytes) { return text }
        let (line, column) = TextRules.firstInvalidUTF8(bytes) ?? (1, 1)
        throw ConfigError("\(file):\(line):\(column): not valid UTF-8 (save the file as UTF-8)")
    }

    /// The bytes of `path`, which must be a regular file (not a directory, a FIFO or a
    /// device, which would block or never end) of at most `maxBytes`.
    static func regularFile(_ path: String, what: String, maxBytes: Int) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConfigError("\(what) \(path) does not exist or is not readable") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw ConfigError("\(what) \(path) is \(kind), not a file")
        }
        guard info.st_size <= maxBytes else {
            throw ConfigError("\(what) \(path) is larger than \(maxBytes / 1024) KiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(what) \(path) does not exist or is not readable")
        }
        return data
    }

    /// Reads a secret file. A relative path is looked up in systemd's `$CREDENTIALS_DIRECTORY`
    /// first. Windows line ends are read as line ends; the final line end is dropped. A
    /// secret of one line (a password, a token) holds no line break; none holds a control
    /// character or is empty. The error names the file, never its content.
    static func readSecret(
        _ file: String, key: String, environment: [String: String], configFile: String? = nil, lines: Bool = false
    ) throws -> String {
        var path = file
        if !file.hasPrefix("/"), let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: credentials + "/" + file)
        {
            path = credentials + "/" + file
        }
        let prefix = "\(configFile.map { "\($0): " } ?? "")\(key): "
        guard FileManager.default.isReadableFile(atPath: path) else {
            let lookedIn =
                file.hasPrefix("/")
                ? "" : " (relative names are looked up in $CREDENTIALS_DIRECTORY, then the working directory)"
            throw ConfigError(prefix + "cannot read secret file \(path)\(lookedIn)")
        }
        let data: Data
        do { data = try regularFile(path, what: "secret file", maxBytes: 1 << 20) } catch let error as ConfigError {
            throw ConfigError(prefix + error.description)
        }
        let text: String
        do { text = try strictText(data, file: path) } catch let error as ConfigError {
            throw ConfigError(prefix + error.description)
        }
        var secret = text.replacingOccurrences(of: "\r\n", with: "\n")
        while secret.hasSuffix("\n") { secret.removeLast() }
        if secret.isEmpty { throw ConfigError(prefix + "the secret file \(path) is empty") }
        if !lines, secret.contains("\n") {
            throw ConfigError(prefix + "the secret file \(path) holds more than one line")
        }
        for line in secret.split(separator: "\n") where Reader.characterProblem(String(line)) != nil {
            throw ConfigError(prefix + "the secret file \(path) holds a NUL byte or another control character")
        }
        return secret
    }
}
