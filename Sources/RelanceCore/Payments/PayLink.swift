import CCrypto
import Foundation

/// The payment link Relance puts in a reminder (`creditor.payment_url`): a URL template
/// whose `{case}`, `{amount}`, `{currency}` and `{token}` are filled per message. The token
/// is `<amount><currency>.<mac>` (`1250.00EUR.k3…`): the amount due when the message was
/// written and an HMAC-SHA-256 (128 bits, base64url) of the case, amount and currency under
/// a secret the payment page shares, so that the page can trust both without asking
/// Relance (docs/PAYMENTS.md shows how to check one).
public struct PayLink: Sendable {
    public let template: String
    private let key: [UInt8]

    public static let placeholders = ["{case}", "{amount}", "{currency}", "{token}"]

    /// `template` must be an https URL (http only for localhost) naming `{case}` and
    /// `{token}`; `secret` at least 16 bytes.
    public init(template: String, secret: String) throws(FieldError) {
        // The host as a URL parser reads it, placeholders filled with letters: no host, a
        // placeholder in the host, credentials, or http:// to anything but this machine is refused.
        let probe = template.replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "x")
        guard let url = URLComponents(string: probe), let scheme = url.scheme?.lowercased(),
            let host = url.host?.lowercased(), !host.isEmpty
        else { throw FieldError("creditor.payment_url", "is not a URL with a host") }
        if url.user != nil || url.password != nil {
            throw FieldError("creditor.payment_url", "must not hold a user name or password")
        }
        let local = ["localhost", "127.0.0.1", "[::1]", "::1"].contains(host)
        guard scheme == "https" || (scheme == "http" && local) else {
            throw FieldError("creditor.payment_url", "must be an https:// URL (http:// only for localhost)")
        }
        if let templateHost = URLComponents(string: template)?.host, templateHost.contains("{") {
            throw FieldError("creditor.payment_url", "must not have a placeholder in its host")
        }
        if !template.lowercased().hasPrefix(scheme + "://" + host) {
            throw FieldError("creditor.payment_url", "must not have a placeholder in its host")
        }
        guard template.contains("{case}"), template.contains("{token}") else {
            throw FieldError("creditor.payment_url", "must name {case} and {token} (and may name {amount}, {currency})")
        }
        if let bad = template.unicodeScalars.first(where: {
            $0.value < 0x21 || $0.value > 0x7E || "\"<>\\^`|".unicodeScalars.contains($0)
        }) {
            throw FieldError(
                "creditor.payment_url", "holds U+\(String(bad.value, radix: 16, uppercase: true)), not allowed in a URL"
            )
        }
        var rest = template
        for placeholder in Self.placeholders { rest = rest.replacingOccurrences(of: placeholder, with: "") }
        if rest.contains("{") || rest.contains("}") {
            throw FieldError(
                "creditor.payment_url", "knows only the placeholders \(Self.placeholders.joined(separator: ", "))")
        }
        guard secret.trimmingCharacters(in: .whitespacesAndNewlines).utf8.count >= 16 else {
            throw FieldError("creditor.payment_secret_file", "the secret must be at least 16 bytes")
        }
        self.template = template
        self.key = Array(secret.utf8)
    }

    /// The link for a case and the amount due, each value percent-encoded.
    public func url(caseRef: String, amount: Decimal, currency: String) -> String {
        let amountText = Invoice.text(amount)
        let values = [
            ("{case}", caseRef), ("{amount}", amountText), ("{currency}", currency),
            ("{token}", token(caseRef: caseRef, amount: amount, currency: currency)),
        ]
        var out = template
        for (placeholder, value) in values {
            out = out.replacingOccurrences(of: placeholder, with: FormEncoding.escape(value))
        }
        return out
    }

    public func token(caseRef: String, amount: Decimal, currency: String) -> String {
        let amountText = Invoice.text(amount)
        return amountText + currency + "." + mac(caseRef: caseRef, amountText: amountText, currency: currency)
    }

    /// The amount and currency a token carries, when it is this secret's for `caseRef`.
    public func verify(token: String, caseRef: String) -> (amount: Decimal, currency: String)? {
        guard let dot = token.lastIndex(of: "."), token.distance(from: token.startIndex, to: dot) >= 4 else {
            return nil
        }
        let head = token[..<dot]
        let currency = String(head.suffix(3))
        let amountText = String(head.dropLast(3))
        guard currency.allSatisfy({ $0.isASCII && $0.isUppercase }), let amount = Invoice.parseAmount(amountText),
            Invoice.text(amount) == amountText
        else { return nil }
        let expected = mac(caseRef: caseRef, amountText: amountText, currency: currency)
        guard ConstantTime.equal(Array(expected.utf8), Array(token[token.index(after: dot)...].utf8)) else {
            return nil
        }
        return (amount, currency)
    }

    func mac(caseRef: String, amountText: String, currency: String) -> String {
        // Lengths first: no two (case, amount, currency) give the same message.
        let message = Array("relance-pay:v1:\(caseRef.utf8.count):\(caseRef):\(amountText):\(currency)".utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        relanceHMAC(key: key, data: message, into: &digest)
        return Self.base64url(Array(digest.prefix(16)))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        ).replacingOccurrences(of: "=", with: "")
    }
}
