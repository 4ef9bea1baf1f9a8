import Logging
import RelanceCore

/// Writes each delivery trace event as one log line, as `relance tail` shows it.
public struct TraceLogger: Sendable {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func log(_ events: [DeliveryEvent]) {
        for event in events {
            var metadata: Logger.Metadata = [
                "event": .string(event.kind.rawValue), "job": .string(String(event.jobID)),
                "attempt": .string(String(event.attempt)), "channel": .string(event.channel),
            ]
            if let caseRef = event.caseRef { metadata["case"] = .string(caseRef) }
            for (key, value) in event.detail.objectValue ?? [:] {
                metadata[key] = .string(value.stringValue ?? value.jsonText)
            }
            let level: Logger.Level
            switch event.kind {
            case .permanentError, .dead, .uncertain, .undelivered: level = .warning
            case .transientError: level = .notice
            default: level = .info
            }
            logger.log(level: level, "trace", metadata: metadata)
        }
    }
}
