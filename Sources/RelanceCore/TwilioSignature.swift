import CCrypto
import Foundation

/// Twilio's request signature (`X-Twilio-Signature`): Base64 of HMAC-SHA1, keyed with the
/// account's auth token, over the full URL Twilio requested followed by every POST field
/// name and value, fields sorted by name (Twilio's "Webhooks security" documentation).
public enum TwilioSignature {
    public static func compute(url: String, fields: [(String, String)], authToken: String) -> String {
        var text = url
        for (name, value) in fields.sorted(by: { $0.0 < $1.0 }) {
            text += name
            text += value
        }
        let key = Array(authToken.utf8)
        let bytes = Array(text.utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        _ = relance_hmac_sha1(key, key.count, bytes, bytes.count, &digest)
        return Data(digest).base64EncodedString()
    }

    /// Whether `signature` is the one for this request (compared in constant time).
    public static func verify(_ signature: String, url: String, fields: [(String, String)], authToken: String) -> Bool {
        ConstantTime.equal(Array(compute(url: url, fields: fields, authToken: authToken).utf8), Array(signature.utf8))
    }
}
