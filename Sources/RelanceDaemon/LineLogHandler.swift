import Foundation
import Logging
import RelanceCore
import Synchronization

/// One line per log record on stdout, logfmt (`at=… level=info msg="…" key=value`)
/// or JSON, so that journald and `grep` both work. Metadata values are quoted and
/// escaped: a payer name with a newline cannot forge a second line.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    static let output = Mutex<Void>(())

    /// Under systemd with stdout connected to the journal (`$JOURNAL_STREAM` set), each
    /// line starts with its syslog priority, `<3>` for errors…, which journald strips and
    /// keeps as the entry's priority (`journalctl -p warning -u relance` works).
    static let journalPrefix = ProcessInfo.processInfo.environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false

    /// syslog(3) priorities for journald.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged: Logger.Metadata
        if let extra = event.metadata, !extra.isEmpty {
            merged = metadata.isEmpty ? extra : metadata.merging(extra) { $1 }
        } else {
            merged = metadata
        }
        let text = line(level: event.level, message: event.message.description, merged.map { ($0, Self.text($1)) })
        Self.output.withLock { _ in Self.writeAll(text) }
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        if case .string(let text) = value { text } else { "\(value)" }
    }

    /// Several records in one write(2) (the trace events of one transaction).
    func log(_ records: [(level: Logger.Level, message: String, fields: [(String, String)])]) {
        var text = ""
        for record in records where record.level >= logLevel {
            text += line(level: record.level, message: record.message, record.fields)
        }
        if !text.isEmpty { Self.output.withLock { _ in Self.writeAll(text) } }
    }

    /// One line: `at`, `level` and `msg`, then the fields sorted by key, the handler's
    /// own metadata among them (a field of the record wins over it).
    func line(level: Logger.Level, message: String, _ fields: [(String, String)]) -> String {
        var fields = fields
        if !metadata.isEmpty {
            let own = Set(fields.map(\.0))
            for (key, value) in metadata where !own.contains(key) { fields.append((key, Self.text(value))) }
        }
        fields.sort { $0.0 < $1.0 }
        var line = ""
        line.reserveCapacity(256)
        if Self.journalPrefix { line += "<\(Self.priority(level))>" }
        var first = true
        func add(_ key: String, _ value: String) {
            switch format {
            case .logfmt:
                if !first { line += " " }
                line += key
                line += "="
                line += Self.logfmtValue(value)
            case .json:
                line += first ? "{" : ","
                line += Self.jsonString(key)
                line += ":"
                line += Self.jsonString(value)
            }
            first = false
        }
        add("at", Self.timestamp())
        add("level", level.rawValue)
        add("msg", message)
        for (key, value) in fields { add(key, value) }
        if format == .json { line += "}" }
        line += "\n"
        return line
    }

    /// One write(2) for the line (more when the pipe takes part of it); a failed write
    /// (stdout closed) loses the line rather than stopping the daemon.
    static func writeAll(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// ISO 8601 in UTC with milliseconds, written by hand (a format style per line cost
    /// more than the rest of the line).
    static func timestamp() -> String {
        Timestamp.string(from: Date())
    }

    static func logfmtValue(_ value: String) -> String {
        // On bytes: every byte of a multi-byte character is 0x80 or more, and plain.
        let plain =
            !value.isEmpty
            && value.utf8.allSatisfy {
                $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\\")
                    && $0 != 0x7F
            }
        return plain ? value : jsonString(value)
    }

    /// A JSON string literal; logfmt quotes its values the same way.
    static func jsonString(_ value: String) -> String {
        JSONValue.string(value).jsonText
    }
}
