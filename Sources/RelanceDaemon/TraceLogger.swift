import Logging
import RelanceCore

/// Writes each delivery trace event as one log line, as `relance tail` shows it.
public struct TraceLogger: Sendable {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// The events of one transaction. With the daemon's own handler they go out in one
    /// write(2), without building swift-log's metadata dictionary for each (the daemon
    /// writes four or five of these lines for every message it sends).
    public func log(_ events: [DeliveryEvent]) {
        let records = events.map { event in
            (level: Self.level(event.kind), message: "trace", fields: Self.fields(event))
        }
        if let handler = logger.handler as? LineLogHandler {
            handler.log(records)
            return
        }
        for record in records {
            var metadata: Logger.Metadata = [:]
            for (key, value) in record.fields { metadata[key] = .string(value) }
            logger.log(level: record.level, "trace", metadata: metadata)
        }
    }

    static func level(_ kind: DeliveryEventKind) -> Logger.Level {
        switch kind {
        case .permanentError, .dead, .uncertain, .undelivered: .warning
        case .transientError: .notice
        default: .info
        }
    }

    /// The event's fields; a detail key named like one of them wins, as it did when they
    /// went through one metadata dictionary.
    static func fields(_ event: DeliveryEvent) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("event", event.kind.rawValue), ("job", String(event.jobID)), ("attempt", String(event.attempt)),
            ("channel", event.channel),
        ]
        if let caseRef = event.caseRef { fields.append(("case", caseRef)) }
        if case .object(let detail) = event.detail, !detail.isEmpty {
            fields.removeAll { detail[$0.0] != nil }
            for (key, value) in detail { fields.append((key, value.stringValue ?? value.jsonText)) }
        }
        return fields
    }
}
