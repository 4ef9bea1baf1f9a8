import ArgumentParser
import Foundation
import RelanceDaemon
import RelanceStorePostgres

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Move an installation between database backends.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Copy an SQLite database (payers, invoices, payments, suppressions, jobs, trace) into an empty PostgreSQL schema, then compare counts and checksums.",
            discussion: """
                Refuses while a daemon serves the SQLite file. Running jobs get their leases
                released (back in the queue, or `uncertain` when their dispatch had started).
                The password comes from --password-file, else from PGPASSFILE.
                """)
        @Option(help: "the SQLite database, e.g. var/relance.sqlite") var from: String
        @Option(help: "postgres://USER@HOST:PORT/DATABASE[?sslmode=…&schema=…]") var to: String
        @Option(help: "a file holding the PostgreSQL password") var passwordFile: String?

        func run() async throws {
            do {
                var settings = try PostgresSettings(url: to)
                settings.password =
                    try RelanceConfig.postgresPassword(
                        file: passwordFile, settings: settings, environment: ProcessInfo.processInfo.environment)
                    ?? settings.password
                let report = try await DatabaseMove.copy(from: from, to: settings) { print($0) }
                for table in report.tables {
                    print("\(table.name): \(table.rows) rows, sha256 \(table.checksum.prefix(16)) on both sides")
                }
                if report.leasesReleased > 0 { print("leases released: \(report.leasesReleased)") }
                print("copied \(from) to \(settings.redacted); set database.url to use it")
            } catch let error as PostgresSettings.Problem {
                throw CLIError(error.description)
            } catch let error as MoveError {
                throw CLIError(error.description)
            }
        }
    }
}
