/// The JSON shapes of jobs, trace events and payers, shared by the CLI (`--json`) and
/// the HTTP API so that both say the same thing.
extension Job {
    public var jsonValue: JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            "id": .number(String(id)), "idempotency_key": optional(idempotencyKey), "payer_ref": .string(payerRef),
            "case_ref": optional(caseRef), "channel": .string(channel), "template": .string(template),
            "state": .string(state.rawValue), "attempt": .number(String(attempt)), "run_at": .string(runAt),
            "priority": .number(String(priority)), "last_error": optional(lastError),
            "provider_ref": optional(providerRef),
            "created_at": .string(createdAt), "updated_at": .string(updatedAt),
            "data": (try? JSONValue.parse(data)) ?? .string(data),
        ])
    }
}

extension DeliveryEvent {
    public var jsonValue: JSONValue {
        .object([
            "id": .number(String(id)), "job_id": .number(String(jobID)), "attempt": .number(String(attempt)),
            "at": .string(at), "event": .string(kind.rawValue), "channel": .string(channel),
            "case_ref": caseRef.map(JSONValue.string) ?? .null,
            "detail": detail.objectValue.map(JSONValue.object) ?? [:],
        ])
    }
}

extension PayerProfile {
    public var jsonValue: JSONValue {
        .object([
            "ref": .string(ref), "name": .string(name), "locale": .string(locale), "timezone": .string(timezone),
            "segment": .string(segment), "email": email.map(JSONValue.string) ?? .null,
            "phone": phone.map(JSONValue.string) ?? .null,
            "postal_address": postalAddress.map { .array($0.map(JSONValue.string)) } ?? .null,
            "channels": .array(channels.map { .string($0.rawValue) }), "kind": .string(kind.rawValue),
        ])
    }
}
