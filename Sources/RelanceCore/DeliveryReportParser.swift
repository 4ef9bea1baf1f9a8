/// What a gateway's delivery-report callback says, read from its fields (query string
/// and form or JSON body merged). Pure: the HTTP route authenticates and applies it.
public enum ParsedDeliveryReport: Sendable, Equatable {
    /// Final: the message reached the handset, or never will.
    case final(delivered: Bool, status: String, providerRef: String?, detail: [String: JSONValue])
    /// An intermediate step (buffered, accepted by the SMSC, sent): logged, no state change.
    case interim(status: String)
    /// The callback does not say anything usable.
    case invalid(String)
}

public enum DeliveryReportParser {
    public static let providers = ["kannel", "twilio", "webhook"]

    public static func parse(provider: String, fields: [String: String]) -> ParsedDeliveryReport {
        switch provider {
        case "kannel": kannel(fields)
        case "twilio": twilio(fields)
        case "webhook": webhook(fields)
        default: .invalid("unknown provider '\(provider)' (\(providers.joined(separator: ", ")))")
        }
    }

    /// Kannel `dlr-url` with `type=%d&answer=%A`: 1 delivered to the phone, 2 not
    /// delivered, 16 rejected by the SMSC (final); 4 buffered and 8 accepted by the
    /// SMSC are intermediate.
    static func kannel(_ fields: [String: String]) -> ParsedDeliveryReport {
        guard let text = fields["type"], let type = Int(text) else {
            return .invalid("a Kannel report needs a numeric 'type' (%d)")
        }
        let answer = fields["answer"] ?? ""
        var detail: [String: JSONValue] = [
            "provider": .string("kannel"), "type": .number(String(type)), "answer": .string(answer),
        ]
        if let id = fields["kannel_id"], !id.isEmpty { detail["kannel_id"] = .string(id) }
        switch type {
        case 1: return .final(delivered: true, status: "delivered", providerRef: nil, detail: detail)
        case 2: return .final(delivered: false, status: "undelivered", providerRef: nil, detail: detail)
        case 16: return .final(delivered: false, status: "smsc_rejected", providerRef: nil, detail: detail)
        case 4: return .interim(status: "buffered")
        case 8: return .interim(status: "smsc_accepted")
        default: return .invalid("unknown Kannel report type \(type)")
        }
    }

    /// Twilio status callbacks (form POST): `MessageStatus` delivered/read are final
    /// successes, undelivered/failed final failures, the rest intermediate.
    static func twilio(_ fields: [String: String]) -> ParsedDeliveryReport {
        guard let status = fields["MessageStatus"] ?? fields["SmsStatus"], !status.isEmpty else {
            return .invalid("a Twilio status callback needs MessageStatus")
        }
        guard let sid = fields["MessageSid"] ?? fields["SmsSid"], !sid.isEmpty else {
            return .invalid("a Twilio status callback needs MessageSid")
        }
        var detail: [String: JSONValue] = ["provider": .string("twilio"), "status": .string(status)]
        if let code = fields["ErrorCode"], !code.isEmpty { detail["error_code"] = .string(code) }
        if let message = fields["ErrorMessage"], !message.isEmpty { detail["error_message"] = .string(message) }
        switch status {
        case "delivered", "read": return .final(delivered: true, status: status, providerRef: sid, detail: detail)
        case "undelivered", "failed":
            return .final(delivered: false, status: status, providerRef: sid, detail: detail)
        case "accepted", "scheduled", "queued", "sending", "sent", "receiving", "received":
            return .interim(status: status)
        default: return .invalid("unknown Twilio MessageStatus '\(status)'")
        }
    }

    /// The generic webhook: `status` is delivered, or one of undelivered, failed,
    /// expired, rejected; anything else is intermediate. `id` is the provider's message id.
    static func webhook(_ fields: [String: String]) -> ParsedDeliveryReport {
        guard let status = fields["status"], !status.isEmpty else {
            return .invalid("a webhook report needs a 'status' field")
        }
        var detail: [String: JSONValue] = ["provider": .string("webhook"), "status": .string(status)]
        if let error = fields["error"], !error.isEmpty { detail["error"] = .string(error) }
        let ref = fields["id"]
        switch status.lowercased() {
        case "delivered": return .final(delivered: true, status: status, providerRef: ref, detail: detail)
        case "undelivered", "failed", "expired", "rejected":
            return .final(delivered: false, status: status, providerRef: ref, detail: detail)
        default: return .interim(status: status)
        }
    }
}
