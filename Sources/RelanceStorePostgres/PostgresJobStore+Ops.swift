import Foundation
import Logging
import NIOSSL
import PostgresNIO
import RelanceCore
import RelanceStore

/// Wake-ups (LISTEN/NOTIFY) and what `relance doctor` checks.
extension PostgresJobStore: JobNotifications {
    /// Listens on the schema's channel on a connection of its own and calls `wake` for
    /// each notification (every insert into `jobs`, by Relance or by another service's
    /// SQL, sends one at commit). Returns when the task is cancelled; throws when the
    /// connection fails (the caller connects again after a pause). An idle listener costs
    /// the server nothing: no query runs until a notification arrives.
    public func listenForJobs(connected: @escaping @Sendable () -> Void, wake: @escaping @Sendable (Double?) -> Void)
        async throws
    {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try connectionConfiguration(), id: 0, logger: logger)
        } catch let error as PSQLError {
            throw PostgresStoreError(error)
        }
        defer { Task { try? await connection.close() } }
        let channel = PostgresSchema.channel(schema)
        do {
            // The notification sequence does not end on cancellation: closing the
            // connection ends it (a graceful shutdown must not wait for a notification).
            try await withTaskCancellationHandler {
                try await connection.listen(on: channel) { notifications in
                    connected()
                    // A notification sent while we were not listening is lost: the
                    // workers' poll finds its job; one wake-up now covers the gap.
                    wake(nil)
                    // The payload is the database's clock when the statement ran (seconds
                    // since 1970): the lag as seen from this host's clock.
                    for try await notification in notifications {
                        wake(Double(notification.payload).map { Date().timeIntervalSince1970 - $0 })
                    }
                }
            } onCancel: {
                Task { try? await connection.close() }
            }
        } catch let error as PSQLError {
            if Task.isCancelled { return }
            throw PostgresStoreError(error)
        }
        if !Task.isCancelled {
            throw PostgresStoreError(description: "PostgreSQL: the LISTEN connection closed", connectionFailure: true)
        }
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let directory = settings.socketDirectory {
            configuration = .init(
                unixSocketPath: directory + "/.s.PGSQL.\(settings.port)", username: settings.user,
                password: settings.password, database: settings.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch settings.tls {
            case .disable: tls = .disable
            case .require, .verifyFull:
                tls = .require(try NIOSSLContext(configuration: try Self.tlsConfiguration(settings)))
            }
            configuration = .init(
                host: settings.host, port: settings.port, username: settings.user, password: settings.password,
                database: settings.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            ("search_path", settings.schema), ("application_name", "relance-listen"), ("TimeZone", "UTC"),
        ]
        return configuration
    }

    /// One line of `relance doctor`.
    public struct Diagnosis: Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    /// The server, the connection's TLS, the schema version and the grants the daemon needs.
    public func diagnose() async throws -> [Diagnosis] {
        let schema = self.schema
        let tlsWanted = settings.tls
        return try await withSession { session in
            var lines: [Diagnosis] = []
            let server = try await session.one("SELECT current_setting('server_version') AS v, current_user AS u")
            let ssl = try await session.one(
                "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            let encrypted = ssl?.bool("ssl") ?? false
            lines.append(
                Diagnosis(
                    name: "postgresql", ok: true,
                    detail:
                        "server \(server?.text("v") ?? "?"), user \(server?.text("u") ?? "?"), schema \(schema)"))
            lines.append(
                Diagnosis(
                    name: "postgresql tls", ok: encrypted || tlsWanted == .disable,
                    detail: encrypted
                        ? "\(ssl?.text("version") ?? "TLS") \(ssl?.text("cipher") ?? ""), certificate verified"
                        : "not encrypted (sslmode=disable: loopback or a Unix socket only)"))
            let applied = try await session.query("SELECT name FROM \(schema).schema_migrations ORDER BY name")
                .compactMap { $0.text("name") }
            lines.append(
                Diagnosis(name: "postgresql schema", ok: true, detail: "migrations \(applied.joined(separator: ", "))"))
            var missing: [String] = []
            for (table, privileges) in [
                ("jobs", "SELECT, INSERT, UPDATE, DELETE"), ("delivery_events", "SELECT, INSERT, DELETE"),
                ("payers", "SELECT, INSERT, UPDATE"), ("invoices", "SELECT, INSERT, UPDATE"),
                ("suppressions", "SELECT, INSERT, UPDATE, DELETE"), ("payments", "SELECT, INSERT"),
            ] {
                for privilege in privileges.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    let has = try await session.one(
                        "SELECT has_table_privilege($1, $2) AS ok", [.text("\(schema).\(table)"), .text(privilege)])
                    if has?.bool("ok") != true { missing.append("\(privilege) on \(table)") }
                }
            }
            lines.append(
                Diagnosis(
                    name: "postgresql grants", ok: missing.isEmpty,
                    detail: missing.isEmpty
                        ? "the daemon's role may read and write every table it needs"
                        : "missing: " + missing.joined(separator: ", ")))
            return lines
        }
    }
}
