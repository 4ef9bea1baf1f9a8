/// Whether a payer is a business or a consumer: it decides the legal texts (the €40
/// recovery indemnity and the B2B late-payment penalties of L441-10 and D441-5 apply
/// to businesses only), so it is its own field, not a segment name.
public enum PayerKind: String, Sendable, Equatable, Codable, CaseIterable {
    case business
    case consumer
}

/// A payer: the creditor's customer account, with what decides how it is reminded.
public struct PayerProfile: Sendable, Equatable, Codable {
    public var ref: String
    public var name: String
    /// BCP 47, e.g. `fr-FR`.
    public var locale: String
    /// IANA time zone, e.g. `Europe/Paris`.
    public var timezone: String
    /// Free text used to pick template variants: `standard`, `strategic`, …
    public var segment: String
    public var email: String?
    /// E.164.
    public var phone: String?
    public var postalAddress: [String]?
    /// Preferred channels, in order.
    public var channels: [Channel]
    /// Business (the default) or consumer.
    public var kind: PayerKind

    public init(
        ref: String, name: String, locale: String = "fr-FR", timezone: String = "Europe/Paris",
        segment: String = "standard", email: String? = nil, phone: String? = nil,
        postalAddress: [String]? = nil, channels: [Channel] = [.email], kind: PayerKind = .business
    ) {
        self.kind = kind
        self.ref = ref
        self.name = name
        self.locale = locale
        self.timezone = timezone
        self.segment = segment
        self.email = email
        self.phone = phone
        self.postalAddress = postalAddress
        self.channels = channels
    }

    enum CodingKeys: String, CodingKey {
        case ref, name, locale, timezone, segment, email, phone, channels, kind
        case postalAddress = "postal_address"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.ref = try c.decode(String.self, forKey: .ref)
        self.name = try c.decode(String.self, forKey: .name)
        self.locale = try c.decodeIfPresent(String.self, forKey: .locale) ?? "fr-FR"
        self.timezone = try c.decodeIfPresent(String.self, forKey: .timezone) ?? "Europe/Paris"
        self.segment = try c.decodeIfPresent(String.self, forKey: .segment) ?? "standard"
        self.email = try c.decodeIfPresent(String.self, forKey: .email)
        self.phone = try c.decodeIfPresent(String.self, forKey: .phone)
        self.postalAddress = try c.decodeIfPresent([String].self, forKey: .postalAddress)
        self.channels = try c.decodeIfPresent([Channel].self, forKey: .channels) ?? [.email]
        let kindText = try c.decodeIfPresent(String.self, forKey: .kind) ?? PayerKind.business.rawValue
        guard let kind = PayerKind(rawValue: kindText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c, debugDescription: "'\(kindText)' is not business or consumer")
        }
        self.kind = kind
    }
}
