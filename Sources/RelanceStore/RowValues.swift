import Foundation
import GRDB
import RelanceCore

/// Values read from rows that other services may have written with plain SQL: whatever a
/// column holds (a text where a number belongs, a number where a text belongs, a blob),
/// reading it never stops the process, which GRDB's typed subscripts do on a value they
/// cannot convert.
enum RowValue {
    /// The column as text; nil for NULL. A number is given as its text; a blob as its
    /// UTF-8 text, nil when it is not UTF-8.
    static func text(_ row: Row, _ column: String) -> String? {
        let value: DatabaseValue = row[column]
        switch value.storage {
        case .null: return nil
        case .string(let text): return text
        case .int64(let number): return String(number)
        case .double(let number): return String(number)
        case .blob(let data): return String(bytes: data, encoding: .utf8)
        }
    }

    /// The column as an integer; nil for NULL and for anything that is not an SQLite integer.
    static func integer(_ row: Row, _ column: String) -> Int? {
        let value: DatabaseValue = row[column]
        if case .int64(let number) = value.storage { return Int(number) }
        return nil
    }

    /// The columns of a job row another service writes (README, "Enqueuing with SQL"),
    /// and what each must be.
    static let textColumns = JobRowRules.textColumns

    /// The text columns of a payer row.
    static let payerTextColumns = [
        "ref", "name", "locale", "timezone", "segment", "email", "phone", "postal_address", "channels", "kind",
    ]

    /// An SQL expression giving the first of `columns` whose text holds a NUL byte, or NULL.
    static func firstNulColumn(_ columns: [String]) -> String {
        "CASE " + columns.map { "WHEN instr(CAST(\($0) AS BLOB), x'00') > 0 THEN '\($0)'" }.joined(separator: " ")
            + " END"
    }

    /// An SQL expression that is 1 when a text column of the job row holds a NUL byte,
    /// which the SQLite C API (and so GRDB) would cut the text at: `VICTIM\0attacker`
    /// would read as `VICTIM`.
    static let nulBytes =
        "(" + textColumns.map { "(instr(CAST(\($0) AS BLOB), x'00') > 0)" }.joined(separator: " OR ") + ")"

    /// What is wrong with a job row written by SQL, naming the column and the rule; nil
    /// when it is usable. `hasNul` is the value of `nulBytes` for the row; `rawText` reads a
    /// column's bytes (to tell invalid UTF-8, which reads as U+FFFD, from a real U+FFFD).
    static func jobProblem(_ row: Row, hasNul: Bool, rawText: (String) throws -> Data?) rethrows -> String? {
        let priority: DatabaseValue = row["priority"]
        if case .int64 = priority.storage {
        } else {
            return "column priority: \(describe(priority)) is not an integer"
        }
        let maxAttempts: DatabaseValue = row["max_attempts"]
        switch maxAttempts.storage {
        case .null: break
        case .int64(let n) where n >= 1: break
        default: return "column max_attempts: \(describe(maxAttempts)) is not a positive integer"
        }
        if let runAt = text(row, "run_at"), let problem = JobRowRules.runAtProblem(runAt) { return problem }
        for column in textColumns {
            let value: DatabaseValue = row[column]
            switch value.storage {
            case .null:
                if JobRowRules.requiredColumns.contains(column) {
                    return "column \(column): NULL where a text is required"
                }
            case .string(let text):
                if hasNul, let bytes = try rawText(column), bytes.contains(0) {
                    return "column \(column): contains a NUL byte"
                }
                // Invalid UTF-8 reads as U+FFFD; looked for as bytes (the data can be large).
                if text.containsBytes("\u{FFFD}"), let bytes = try rawText(column),
                    String(validating: bytes, as: UTF8.self) == nil
                {
                    return "column \(column): is not valid UTF-8"
                }
                if let problem = JobRowRules.textProblem(column: column, text: text) { return problem }
            default:
                return "column \(column): \(describe(value)) is not a text"
            }
        }
        return nil
    }

    static func describe(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let n): return "integer \(n)"
        case .double(let d): return "real \(d)"
        case .string(let s): return "text '\(s.prefix(40))'"
        case .blob(let data): return "blob of \(data.count) bytes"
        }
    }
}
