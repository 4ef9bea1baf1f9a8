import Foundation

/// Where the PostgreSQL store connects, read from a `postgres://` URL:
/// `postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=/path/ca.pem`, or a
/// Unix socket with `?host=/run/postgresql`. The password comes from a file (the
/// `database.password_file` key, or `PGPASSFILE`'s format), never from a log line:
/// `redacted` is the URL without it.
public struct PostgresSettings: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// No TLS: only for a server on loopback or a Unix socket.
        case disable
        /// TLS, the certificate verified against `caFile` (or the system's CAs) and the
        /// host name checked. PostgreSQL's own `require` skips the verification; Relance
        /// never does (README, "PostgreSQL").
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    /// A Unix socket directory (`?host=/run/postgresql`): used instead of host and port.
    public var socketDirectory: String?
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var caFile: String?
    /// The schema holding Relance's tables (`?schema=`; `relance` by default).
    public var schema: String
    /// Connections of the pool (`?pool_size=`).
    public var poolSize: Int
    /// Seconds a statement may go unanswered before its connection is closed (`?query_timeout=`).
    public var queryTimeout: Double = 30

    public init(
        host: String = "127.0.0.1", port: Int = 5432, socketDirectory: String? = nil, user: String,
        password: String? = nil, database: String, tls: TLSMode = .disable, caFile: String? = nil,
        schema: String = "relance", poolSize: Int = 10
    ) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.caFile = caFile
        self.schema = schema
        self.poolSize = poolSize
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// True for text that looks like a PostgreSQL URL (the backend is chosen by it).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses the URL; every problem names the part at fault and never quotes a password.
    public init(url text: String) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw Problem(description: "database.url must be postgres://USER@HOST:PORT/DATABASE")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let known: Set = ["sslmode", "sslrootcert", "schema", "host", "pool_size", "query_timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem(
                description:
                    "database.url: unknown parameter '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Problem(description: "database.url names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw Problem(description: "database.url names no database (postgres://USER@HOST/DATABASE)")
        }
        var tls = TLSMode.disable
        if let mode = query["sslmode"] {
            guard let parsed = TLSMode(rawValue: mode) else {
                throw Problem(
                    description:
                        "database.url: sslmode '\(mode.prefix(20))' is not one of disable, require, verify-full (prefer and allow may fall back to plain text; verify-ca does not check the host name)"
                )
            }
            tls = parsed
        }
        let schema = query["schema"] ?? "relance"
        guard Self.isIdentifier(schema) else {
            throw Problem(
                description:
                    "database.url: schema '\(schema.prefix(40))' must be a lowercase identifier (a-z, 0-9, _; 63 at most)"
            )
        }
        var poolSize = 10
        if let text = query["pool_size"] {
            guard let n = Int(text), (1...200).contains(n) else {
                throw Problem(description: "database.url: pool_size must be an integer from 1 to 200")
            }
            poolSize = n
        }
        self.init(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, socketDirectory: query["host"],
            user: user, password: components.password, database: database, tls: tls,
            caFile: query["sslrootcert"], schema: schema, poolSize: poolSize)
        if host.isEmpty && socketDirectory == nil { host = "127.0.0.1" }
        if let text = query["query_timeout"] {
            guard let seconds = Double(text), seconds >= 1, seconds <= 3600 else {
                throw Problem(description: "database.url: query_timeout must be a number of seconds from 1 to 3600")
            }
            queryTimeout = seconds
        }
        if !(1...65535).contains(port) {
            throw Problem(description: "database.url: port \(port) is outside 1…65535")
        }
        if let directory = socketDirectory, !directory.hasPrefix("/") {
            throw Problem(description: "database.url: host= must be an absolute socket directory")
        }
        if tls == .disable, socketDirectory == nil, !Self.isLoopback(host) {
            throw Problem(
                description:
                    "database.url: host \(host) is not loopback: add sslmode=verify-full (and sslrootcert=CA file); plain text is allowed only on loopback or a Unix socket"
            )
        }
    }

    /// The URL without its password, for logs and `config check`.
    public var redacted: String {
        let place = socketDirectory.map { "?host=\($0)" } ?? ""
        let target = socketDirectory == nil ? "\(host):\(port)" : ""
        return "postgres://\(user)@\(target)/\(database)\(place)"
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 63,
            ("a"..."z").contains(first) || first == "_"
        else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The password for this server from a pgpass file (`hostname:port:database:username:password`,
    /// `*` matching anything, `\:` and `\\` escaped), or nil.
    public static func passwordFromPGPass(_ text: String, settings: PostgresSettings) -> String? {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) where !line.hasPrefix("#") {
            var fields: [String] = []
            var current = ""
            var escaped = false
            for character in line {
                if escaped {
                    current.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == ":" && fields.count < 4 {
                    fields.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let host = settings.socketDirectory == nil ? settings.host : "localhost"
            let wanted = [host, String(settings.port), settings.database, settings.user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
