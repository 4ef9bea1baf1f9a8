import Foundation

/// One job to enqueue, as the CLI (JSON lines) and the HTTP API receive it:
/// the `jobs` columns of the README's SQL contract, plus an optional inline `payer` to upsert.
public struct EnqueueRequest: Sendable {
    public var job: NewJob
    public var payer: PayerProfile?
    /// `job.data` as parsed, so that validation does not parse it again.
    public var data: JSONValue

    public init(job: NewJob, payer: PayerProfile?, data: JSONValue? = nil) {
        self.job = job
        self.payer = payer
        self.data = data ?? (try? JSONValue.parse(job.data)) ?? .null
    }

    /// Template data larger than this is refused, so a hostile row cannot make rendering explode.
    public static let maximumDataBytes = 256 * 1024

    public static let fields: Set<String> = [
        "idempotency_key", "payer_ref", "payer", "case_ref", "channel", "template", "data", "run_at", "priority",
    ]
    public static let payerFields: Set<String> = [
        "ref", "name", "locale", "timezone", "segment", "email", "phone", "postal_address", "channels", "kind",
    ]

    /// Parses and checks the shape of one request; `pointer` prefixes field names.
    /// `defaultCountry` (`sms.default_country`) reads the national phone number of an
    /// inline payer whose locale has no region.
    public static func parse(
        _ value: JSONValue, pointer: String = "", defaultCountry: String? = nil
    ) -> Result<EnqueueRequest, InvalidFields> {
        guard case .object(let o) = value else {
            return .failure(InvalidFields([FieldError(pointer, "must be a JSON object")]))
        }
        var errors: [FieldError] = []
        // null is not "absent": the contract (openapi.yaml) has no nullable field here, and
        // a null where a value was meant is a caller's mistake worth saying.
        for key in o.keys.sorted() where fields.contains(key) && o[key] == .null {
            errors.append(FieldError("\(pointer)/\(key)", "must not be null (leave the field out)"))
        }
        if o.keys.contains(where: { !fields.contains($0) }) {
            for key in o.keys.sorted() where !fields.contains(key) {
                errors.append(
                    FieldError("\(pointer)/\(key)", "unknown field (known: \(fields.sorted().joined(separator: ", ")))")
                )
            }
        }
        func string(_ key: String, required: Bool = false, max: Int = 200) -> String? {
            switch o[key] {
            case .some(.null):
                return nil  // said above
            case .none:
                if required { errors.append(FieldError("\(pointer)/\(key)", "is required")) }
                return nil
            case .some(.string(let s)):
                if s.isEmpty {
                    if required { errors.append(FieldError("\(pointer)/\(key)", "must not be empty")) }
                    return s
                }
                if let problem = TextRules.referenceProblem(s, maxLength: max) {
                    errors.append(FieldError("\(pointer)/\(key)", problem))
                }
                return s
            default:
                errors.append(FieldError("\(pointer)/\(key)", "must be a string"))
                return nil
            }
        }
        var payer: PayerProfile?
        if let payerValue = o["payer"], payerValue != .null {
            switch parsePayer(payerValue, pointer: "\(pointer)/payer", defaultCountry: defaultCountry) {
            case .success(let p): payer = p
            case .failure(let e): errors += e.errors
            }
        }
        // An inline payer that was refused has its own errors: no "payer_ref is required" besides.
        let givenPayer = o["payer"].map { $0 != .null } ?? false
        let payerRef = string("payer_ref", required: !givenPayer) ?? payer?.ref ?? ""
        if let payer, !payerRef.isEmpty, payer.ref != payerRef {
            errors.append(FieldError("\(pointer)/payer_ref", "'\(payerRef)' differs from payer.ref '\(payer.ref)'"))
        }
        let caseRef = string("case_ref")
        let idempotencyKey = string("idempotency_key")
        if idempotencyKey?.isEmpty == true {
            // An unset shell variable: as a key, it would make every later job "the same".
            errors.append(FieldError("\(pointer)/idempotency_key", "must not be empty (leave it out for no key)"))
        }
        let template = string("template", required: true) ?? ""
        let channelName = string("channel", required: true) ?? ""
        let channel = Channel(rawValue: channelName)
        if channel == nil && !channelName.isEmpty {
            errors.append(FieldError("\(pointer)/channel", "unknown channel '\(channelName)' (email, sms, letter)"))
        }
        var dataText = "{}"
        var dataValue: JSONValue = .object([:])
        switch o["data"] {
        case .none, .some(.null): break
        case .some(.object): dataValue = o["data"]!; dataText = dataValue.jsonText
        case .some(.string(let s)):
            // Accept data given as a JSON text, as a SQL writer would store it.
            if let parsed = try? JSONValue.parse(s), case .object = parsed {
                dataText = s; dataValue = parsed
            } else {
                errors.append(FieldError("\(pointer)/data", "must be a JSON object"))
            }
        default: errors.append(FieldError("\(pointer)/data", "must be a JSON object"))
        }
        if dataText.utf8.count > EnqueueRequest.maximumDataBytes {
            errors.append(FieldError("\(pointer)/data", "larger than \(EnqueueRequest.maximumDataBytes) bytes"))
        }
        var runAt: String?
        if let text = string("run_at", max: 64) {
            if let date = Timestamp.strictInstant(text) {
                runAt = Timestamp.string(from: date)
            } else {
                errors.append(
                    FieldError(
                        "\(pointer)/run_at",
                        "'\(text)' is not an RFC 3339 date-time such as 2026-11-23T09:00:00Z (a real day and time, with Z or an offset, years 1970 to 2999)"
                    ))
            }
        }
        var priority = 0
        switch o["priority"] {
        case .none, .some(.null): break
        case .some(.number(let n)):
            if let p = Int(n), (-1000...1000).contains(p) {
                priority = p
            } else {
                errors.append(FieldError("\(pointer)/priority", "must be a whole number from -1000 to 1000"))
            }
        default: errors.append(FieldError("\(pointer)/priority", "must be a whole number"))
        }
        guard errors.isEmpty, let channel else { return .failure(InvalidFields(errors)) }
        return .success(
            EnqueueRequest(
                job: NewJob(
                    idempotencyKey: idempotencyKey, payerRef: payerRef, caseRef: caseRef, channel: channel,
                    template: template, data: dataText, runAt: runAt, priority: priority),
                payer: payer, data: dataValue))
    }

    /// Parses and checks a payer. On success its phone number is in E.164: a national
    /// number is read with the country of the locale, else with `defaultCountry`.
    public static func parsePayer(
        _ value: JSONValue, pointer: String, defaultCountry: String? = nil
    ) -> Result<PayerProfile, InvalidFields> {
        guard case .object(let o) = value else {
            return .failure(InvalidFields([FieldError(pointer, "must be a JSON object")]))
        }
        var errors: [FieldError] = []
        for key in o.keys.sorted() where !payerFields.contains(key) {
            errors.append(
                FieldError(
                    "\(pointer)/\(key)", "unknown field (known: \(payerFields.sorted().joined(separator: ", ")))"))
        }
        let payer: PayerProfile
        do {
            payer = try JSONDecoder().decode(PayerProfile.self, from: Data(value.jsonText.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            return .failure(InvalidFields(errors + [FieldError("\(pointer)/\(key.stringValue)", "is required")]))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
            return .failure(InvalidFields(errors + [FieldError("\(pointer)/\(path)", "has the wrong type")]))
        } catch let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
            let why =
                path == "kind"
                ? context.debugDescription : "has an invalid value (channels: email, sms, letter)"
            return .failure(InvalidFields(errors + [FieldError("\(pointer)/\(path)", why)]))
        } catch {
            return .failure(InvalidFields(errors + [FieldError(pointer, "\(error)")]))
        }
        errors += payer.validate(prefix: pointer, defaultCountry: defaultCountry)
        return errors.isEmpty
            ? .success(payer.normalized(defaultCountry: defaultCountry)) : .failure(InvalidFields(errors))
    }
}
