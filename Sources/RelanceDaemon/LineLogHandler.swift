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
        var fields: [(String, String)] = [
            ("at", Self.timestamp()), ("level", event.level.rawValue), ("msg", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        var line: String
        switch format {
        case .logfmt:
            line = fields.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            line = "{" + fields.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}"
        }
        if Self.journalPrefix { line = "<\(Self.priority(event.level))>" + line }
        line += "\n"
        Self.output.withLock { _ in
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    /// ISO 8601 in UTC with milliseconds, written by hand (a format style per line cost
    /// more than the rest of the line).
    static func timestamp() -> String {
        Timestamp.string(from: Date())
    }

    static func logfmtValue(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F
            }
        return plain ? value : jsonString(value)
    }

    /// A JSON string literal; logfmt quotes its values the same way.
    static func jsonString(_ value: String) -> String {
        JSONValue.string(value).jsonText
    }
}
