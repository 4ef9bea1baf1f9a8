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

    public static func json(_ event: DeliveryEvent) -> String {
        var object: [String: JSONValue] = [
            "id": .number(String(event.id)), "job_id": .number(String(event.jobID)),
            "attempt": .number(String(event.attempt)), "at": .string(event.at), "event": .string(event.kind.rawValue),
            "channel": .string(event.channel), "detail": event.detail,
        ]
        object["case_ref"] = event.caseRef.map(JSONValue.string) ?? .null
        return JSONValue.object(object).jsonText
    }

    public static func summary(_ job: Job) -> String {
        var parts = [
            "\(job.id)", job.state.rawValue, "attempt=\(job.attempt)", job.channel, job.template, "payer=\(job.payerRef)",
        ]
        if let caseRef = job.caseRef { parts.append("case=\(caseRef)") }
        parts.append("run_at=\(job.runAt)")
        if let error = job.lastError { parts.append("last_error=\(LineLogHandler.logfmtValue(error))") }
        return parts.joined(separator: " ")
    }

    public static func json(_ job: Job) -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            "id": .number(String(job.id)), "idempotency_key": opt(job.idempotencyKey), "payer_ref": .string(job.payerRef),
            "case_ref": opt(job.caseRef), "channel": .string(job.channel), "template": .string(job.template),
            "state": .string(job.state.rawValue), "attempt": .number(String(job.attempt)), "run_at": .string(job.runAt),
            "priority": .number(String(job.priority)), "last_error": opt(job.lastError), "provider_ref": opt(job.providerRef),
            "created_at": .string(job.createdAt), "updated_at": .string(job.updatedAt),
            "data": (try? JSONValue.parse(job.data)) ?? .string(job.data),
        ])
    }
}
