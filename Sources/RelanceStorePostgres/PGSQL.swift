import Foundation
import PostgresNIO
import RelanceCore
import RelanceStore
import Synchronization

/// A value bound to a `$n` placeholder.
enum PGBind: Sendable {
    case text(String?)
    case int(Int64?)
    case double(Double)
    case bool(Bool)
    case ints([Int64])
    case texts([String])

    static func int(_ value: Int?) -> PGBind { .int(value.map(Int64.init)) }
}

/// A cell of a result row, decoded by its type: reading never stops the process.
enum PGCell: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

/// A result row by column name. The store selects timestamps as text in the stored
/// format (`relance_iso`) and JSON as text, so that rows read the same as SQLite's.
struct PGRow: Sendable {
    var cells: [String: PGCell]

    init(_ row: PostgresRow) {
        var cells: [String: PGCell] = [:]
        for cell in row {
            cells[cell.columnName] = Self.decode(cell)
        }
        self.cells = cells
    }

    static func decode(_ cell: PostgresCell) -> PGCell {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map(PGCell.int) ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map(PGCell.bool) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(PGCell.double) ?? .null
        case .numeric:
            return (try? cell.decode(Decimal.self)).map { PGCell.double(NSDecimalNumber(decimal: $0).doubleValue) }
                ?? .null
        default:
            return (try? cell.decode(String.self)).map(PGCell.text) ?? .null
        }
    }

    func text(_ column: String) -> String? {
        switch cells[column] ?? .null {
        case .null: return nil
        case .text(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        }
    }

    func int(_ column: String) -> Int? {
        switch cells[column] ?? .null {
        case .int(let number): return Int(number)
        case .double(let number) where number.rounded() == number && number.magnitude < 9e18: return Int(number)
        default: return nil
        }
    }

    func int64(_ column: String) -> Int64 {
        if case .int(let number)? = cells[column] { return number }
        return 0
    }

    func double(_ column: String) -> Double? {
        switch cells[column] ?? .null {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: return nil
        }
    }

    func bool(_ column: String) -> Bool {
        if case .bool(let flag)? = cells[column] { return flag }
        return false
    }
}

/// Runs statements on one leased connection; every statement the store runs goes
/// through `query`.
struct PGSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// How long a statement may go unanswered before its connection is closed and the
    /// statement fails (`query_timeout`): a connection cut by a server restart at the
    /// wrong moment can leave a query unanswered for ever otherwise (seen with
    /// `pg_ctl restart -m fast` under load), and a worker waiting on it would never
    /// stop.
    var timeout: Double = 30
    /// Set when the connection must not serve again (`query(_:_:)` for prepared
    /// statements): `withSession` closes it once its body is done.
    let retire = RetireFlag()

    @discardableResult
    func query(_ sql: String, _ binds: [PGBind] = []) async throws -> [PGRow] {
        let query = PostgresQuery(unsafeSQL: sql, binds: Self.bindings(binds))
        let logger = self.logger
        return try await answered { connection in
            let rows = try await connection.query(query, logger: logger)
            var result: [PGRow] = []
            for try await row in rows { result.append(PGRow(row)) }
            return result
        }
    }

    /// Runs a statement the connection prepared (parsed and planned by the server once per
    /// connection, then only executed: the store's statements of every message). A
    /// connection on which one failed to prepare (an unknown table before `migrate`), or
    /// whose prepared form is stale (a migration changed its columns), is closed before
    /// it goes back to the pool: postgres-nio keeps a failed preparation for the
    /// connection's life, and the server a stale one; the pool opens a fresh connection.
    @discardableResult
    func query<S: PGStatement>(_ statement: S.Type, _ binds: [PGBind] = []) async throws -> [PGRow] {
        let prepared = PGPrepared<S>(bindings: Self.bindings(binds))
        let logger = self.logger
        do {
            return try await answered { connection in
                var result: [PGRow] = []
                for try await row in try await connection.execute(prepared, logger: logger) { result.append(row) }
                return result
            }
        } catch let error as PSQLError {
            let state = error.serverInfo?[.sqlState] ?? ""
            // Closed after the transaction's ROLLBACK, before the pool has it back.
            if ["42", "0A", "26"].contains(where: state.hasPrefix) { retire.set() }
            throw error
        }
    }

    static func bindings(_ binds: [PGBind]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .text(let value): bindings.append(value.map(Self.withoutNul))
            case .int(let value): bindings.append(value)
            case .double(let value): bindings.append(value)
            case .bool(let value): bindings.append(value)
            case .ints(let values): bindings.append(values)
            case .texts(let values): bindings.append(values.map(Self.withoutNul))
            }
        }
        return bindings
    }

    /// Runs `body` on the connection, racing `query_timeout`.
    private func answered(_ body: @escaping @Sendable (PostgresConnection) async throws -> [PGRow]) async throws
        -> [PGRow]
    {
        let connection = self.connection
        let timeout = self.timeout
        return try await Deadline.run(
            seconds: timeout,
            error: {
                PostgresStoreError(
                    description: "PostgreSQL: no answer within \(Int(timeout)) s; the connection was closed",
                    connectionFailure: true)
            },
            // Closing the connection fails the statement, and the pool drops the connection.
            onTimeout: { connection.closeNow() }
        ) {
            try await body(connection)
        }
    }

    /// Rolls back after `error`, unless the connection itself failed: a statement on a
    /// connection the server terminated may never be answered.
    func rollback(after error: any Error) async {
        if let error = error as? PostgresStoreError, error.isConnectionFailure { return }
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                if state.hasPrefix("08") || state.hasPrefix("57P") { return }
            default: return
            }
        }
        _ = try? await query("ROLLBACK")
    }

    /// PostgreSQL text cannot hold a NUL byte: a peer's answer that has one (kept in
    /// `last_error`, a trace detail) must not make the write fail, so it becomes U+FFFD.
    static func withoutNul(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }

    func one(_ sql: String, _ binds: [PGBind] = []) async throws -> PGRow? {
        try await query(sql, binds).first
    }
}

/// A statement of the store that is prepared once per connection (`PGSession.query(_:_:)`).
/// Its text is fixed, and each `$n` has a declared type: a NULL bound to it keeps that
/// type (an unnamed statement would let the server guess).
protocol PGStatement {
    /// Unique among the store's statements; under 64 bytes (the server cuts longer names).
    static var name: String { get }
    static var sql: String { get }
    static var types: [PostgresDataType] { get }
}

/// postgres-nio's form of a `PGStatement`, with the binds of one execution.
struct PGPrepared<S: PGStatement>: PostgresPreparedStatement {
    typealias Row = PGRow
    static var name: String { S.name }
    static var sql: String { S.sql }
    static var bindingDataTypes: [PostgresDataType] { S.types }
    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PGRow { PGRow(row) }
}

extension PostgresConnection {
    /// Closes the connection without waiting for it.
    func closeNow() {
        Task { try? await self.close() }
    }
}

extension JSONValue {
    /// The JSON text PostgreSQL will take: as `jsonText`, rebuilt without NULs only when
    /// the text has an escaped one (rare: a peer's answer), so that the usual write pays
    /// one substring search, not a copy of every value.
    var postgresText: String {
        let text = jsonText
        return Self.hasEscapedNul(text) ? withoutNul.jsonText : text
    }

    /// Whether a JSON text holds `\u0000`: a byte scan (`String.contains` goes through
    /// Foundation's locale-aware search, 8 % of the daemon's CPU on batches of 100 jobs).
    static func hasEscapedNul(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var i = 0
            while i + 5 < bytes.count {
                if bytes[i] == 0x5C {
                    if bytes[i + 1] == 0x5C {
                        i += 2  // an escaped backslash: what follows is text
                        continue
                    }
                    if bytes[i + 1] == 0x75, bytes[i + 2] == 0x30, bytes[i + 3] == 0x30, bytes[i + 4] == 0x30,
                        bytes[i + 5] == 0x30
                    {
                        return true
                    }
                }
                i += 1
            }
            return false
        }
    }

    /// The value with every NUL in its texts replaced by U+FFFD: PostgreSQL cannot store a
    /// NUL as text, and refuses `\u0000` where JSON becomes text.
    var withoutNul: JSONValue {
        switch self {
        case .string(let text): return .string(PGSession.withoutNul(text))
        case .array(let items): return .array(items.map(\.withoutNul))
        case .object(let members):
            return .object(
                // Two keys may become one ("a\u{0}" and "a\u{FFFD}"): the first kept, never a trap.
                Dictionary(
                    members.map { (PGSession.withoutNul($0.key), $0.value.withoutNul) }, uniquingKeysWith: { a, _ in a }
                ))
        case .null, .bool, .number: return self
        }
    }
}

/// A connection to close once its session ends.
final class RetireFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
