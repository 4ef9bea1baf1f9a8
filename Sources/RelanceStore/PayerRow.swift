import Foundation
import RelanceCore

/// A payer row read into a profile, whatever the backend: the columns as text (nil for
/// NULL), checked as every door checks them, since other services write payers with SQL.
public enum PayerRow {
    public static func profile(ref: String, text: (String) -> String?) -> Result<PayerProfile, PayerUnusable> {
        func bad(_ column: String, _ why: String) -> Result<PayerProfile, PayerUnusable> {
            .failure(PayerUnusable(message: "payer \(ref): column \(column) \(why)"))
        }
        var channels: [Channel] = [.email]
        if let text = text("channels") {
            guard let items = (try? JSONValue.parse(text))?.arrayValue else {
                return bad("channels", "is not a JSON array: \(text.prefix(80))")
            }
            channels = []
            for item in items {
                guard let name = item.stringValue, let channel = Channel(rawValue: name) else {
                    return bad("channels", "has an unknown channel \(item.jsonText) (email, sms, letter)")
                }
                channels.append(channel)
            }
        }
        var address: [String]?
        if let text = text("postal_address") {
            guard let items = (try? JSONValue.parse(text))?.arrayValue, items.allSatisfy({ $0.stringValue != nil })
            else {
                return bad("postal_address", "is not a JSON array of strings")
            }
            address = items.compactMap(\.stringValue)
        }
        guard let written = text("name") else { return bad("name", "is empty") }
        // Written by SQL, a name may hold a line break or another control character (every
        // other door refuses them): each becomes a space, so that "Evil\r\nBcc: …" never
        // starts a line of its own in a message body or a letter.
        let name = String(
            String.UnicodeScalarView(
                written.unicodeScalars.map { scalar in
                    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}"
                        || scalar == "\u{2029}" ? " " : scalar
                }))
        guard let kind = PayerKind(rawValue: text("kind") ?? "business") else {
            return bad("kind", "is '\(text("kind") ?? "")', not business or consumer")
        }
        // Bounded as at every door: a name goes into a header line (998 bytes at most).
        if name.count > 300 { return bad("name", "is longer than 300 characters") }
        if let problem = TextRules.referenceProblem(ref) { return bad("ref", problem) }
        return .success(
            PayerProfile(
                ref: ref, name: name, locale: text("locale") ?? "fr-FR", timezone: text("timezone") ?? "Europe/Paris",
                segment: text("segment") ?? "standard", email: text("email"), phone: text("phone"),
                postalAddress: address, channels: channels, kind: kind))
    }
}

/// Rules for the columns of a job row another service wrote with SQL, whatever the backend.
public enum JobRowRules {
    /// The text columns of a job row another service writes (README, "Enqueuing with SQL").
    public static let textColumns = [
        "payer_ref", "case_ref", "channel", "template", "idempotency_key", "data", "run_at",
    ]
    /// Those that cannot be NULL.
    public static let requiredColumns: Set = ["payer_ref", "channel", "template", "data", "run_at"]

    /// What is wrong with a text column's value, or nil.
    public static func textProblem(column: String, text: String) -> String? {
        if column != "data",
            text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        {
            return "column \(column): contains a control character"
        }
        if column != "data" && column != "run_at", !TextRules.isNFC(text) {
            return "column \(column): is not in Unicode NFC"
        }
        return nil
    }

    /// What is wrong with the run_at column's instant, or nil.
    public static func runAtProblem(_ runAt: String) -> String? {
        Timestamp.strictInstant(runAt) == nil
            ? "column run_at: '\(runAt.prefix(40))' is not a real instant (years 1970 to 2999)" : nil
    }
}
