import RelanceCore
import Testing

@testable import RelanceStore

@Suite("PayerRow: a payer row read into a profile, whatever the backend")
struct PayerRowTests {
    static func profile(_ columns: [String: String]) -> Result<PayerProfile, PayerUnusable> {
        PayerRow.profile(ref: columns["ref"] ?? "P-1") { columns[$0] }
    }

    @Test(
        "a name written by SQL with a line break or another control character reads with spaces",
        arguments: [
            ("Evil\r\nBcc: attacker@evil.example", "Evil  Bcc: attacker@evil.example"),
            ("Tab\there", "Tab here"),
            ("Next\u{85}line", "Next line"),
            ("Line\u{2028}separator", "Line separator"),
            ("Dupont & Fils", "Dupont & Fils"),
        ])
    func cleanedName(_ written: String, _ read: String) throws {
        let payer = try Self.profile(["name": written]).get()
        #expect(payer.name == read)
        #expect(!payer.name.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test(
        "columns that cannot be used are named",
        arguments: [
            (["name": "N", "channels": "email"], "payer P-1: column channels is not a JSON array: email"),
            (
                ["name": "N", "channels": "[\"fax\"]"],
                "payer P-1: column channels has an unknown channel \"fax\" (email, sms, letter)"
            ),
            (["name": "N", "kind": "robot"], "payer P-1: column kind is 'robot', not business or consumer"),
            (["channels": "[\"email\"]"], "payer P-1: column name is empty"),
        ])
    func unusable(_ columns: [String: String], _ message: String) {
        guard case .failure(let why) = Self.profile(columns) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(why.message == message)
    }
}
