/// How a message reaches a payer.
public enum Channel: String, Sendable, CaseIterable, Codable {
    case email
    case sms
    case letter
}
