import RelanceCore
import RelanceStore

/// How `relance tail` and `relance jobs show` print trace events and jobs.
public enum TraceFormatter {
    /// `2026-11-23T12:00:00.123Z job=12 attempt=1 email accepted case=F-1 code=250 response="250 Ok"`
    public static func line(_ event: DeliveryEvent) -> String {
        var parts = [event.at, "job=\(event.jobID)", "attempt=\(event.attempt)", event.channel, event.kind.rawValue]
        if let caseRef = event.caseRef { parts.append("case=\(LineLogHandler.logfmtValue(caseRef))") }
        for (key, value) in (event.detail.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            parts.append("\(key)=\(LineLogHandler.logfmtValue(value.stringValue ?? value.jsonText))")
        }
        return parts.joined(separator: " ")
    }

    public static func json(_ event: DeliveryEvent) -> String { event.jsonValue.jsonText }

    public static func summary(_ job: Job) -> String {
        var parts = [
            "\(job.id)", job.state.rawValue, "attempt=\(job.attempt)", job.channel, job.template,
            "payer=\(job.payerRef)",
        ]
        if let caseRef = job.caseRef { parts.append("case=\(caseRef)") }
        parts.append("run_at=\(job.runAt)")
        if let error = job.lastError { parts.append("last_error=\(LineLogHandler.logfmtValue(error))") }
        return parts.joined(separator: " ")
    }

    public static func json(_ job: Job) -> JSONValue { job.jsonValue }
}
