import CCrypto

/// Authenticates delivery-report callbacks. The daemon puts, in the callback URL it
/// gives a gateway, an HMAC-SHA-256 of the provider, job id and attempt under a secret
/// only it knows; a report whose token does not verify is rejected. The token names one
/// attempt of one job, so a leaked URL cannot be replayed against another job.
public struct CallbackSigner: Sendable {
    private let key: [UInt8]

    /// `secret` comes from a file (`sms.callback_secret_file`); it must be long enough
    /// to resist guessing.
    public init(secret: String) {
        self.key = Array(secret.utf8)
    }

    /// 32 hex digits (128 bits): short enough for a URL, far beyond guessing.
    public func token(provider: String, jobID: Int64, attempt: Int) -> String {
        let message = Array("relance-callback:v1:\(provider):\(jobID):\(attempt)".utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        relanceHMAC(key: key, data: message, into: &digest)
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest.prefix(16) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares in constant time.
    public func verify(_ presented: String, provider: String, jobID: Int64, attempt: Int) -> Bool {
        ConstantTime.equal(Array(token(provider: provider, jobID: jobID, attempt: attempt).utf8), Array(presented.utf8))
    }
}

/// Comparing secrets (tokens, signatures, digests) without an early exit, so the time it
/// takes tells nothing about where they differ.
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// HMAC-SHA-256 through OpenSSL's libcrypto.
@discardableResult
func relanceHMAC(key: [UInt8], data: [UInt8], into digest: inout [UInt8]) -> Bool {
    key.withUnsafeBytes { keyBytes in
        data.withUnsafeBytes { bytes in
            relance_hmac_sha256(keyBytes.baseAddress, keyBytes.count, bytes.baseAddress, bytes.count, &digest) == 1
        }
    }
}
