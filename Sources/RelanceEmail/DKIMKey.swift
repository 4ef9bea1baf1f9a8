import CCrypto
import Foundation

/// A DKIM private key (RFC 6376 `rsa-sha256`, RFC 8463 `ed25519-sha256`), read from a PEM
/// file once. Immutable after reading: OpenSSL signs with one key from several threads.
public final class DKIMKey: @unchecked Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case ed25519, rsa

        /// The `a=` tag of a signature made with it.
        public var signatureTag: String { self == .rsa ? "rsa-sha256" : "ed25519-sha256" }
        /// The `k=` tag of its DNS record.
        var recordTag: String { self == .rsa ? "rsa" : "ed25519" }
        var cKind: Int32 { Int32(self == .rsa ? RELANCE_KEY_RSA : RELANCE_KEY_ED25519) }
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The smallest RSA key accepted: receivers (RFC 8301) ignore signatures of smaller ones.
    public static let minimumRSABits = 2048

    public let algorithm: Algorithm
    public let bits: Int
    private let handle: UnsafeMutableRawPointer

    private init(handle: UnsafeMutableRawPointer, algorithm: Algorithm, bits: Int) {
        self.handle = handle
        self.algorithm = algorithm
        self.bits = bits
    }

    deinit { relance_key_free(handle) }

    /// Reads an unencrypted PEM private key. The error says what is wrong, never the key.
    public convenience init(pem: String) throws {
        // One key a file: OpenSSL would read the first block and ignore the rest.
        guard pem.components(separatedBy: "-----BEGIN ").count <= 2 else {
            throw Problem(description: "more than one PEM block (one key a file)")
        }
        var kind: Int32 = 0
        var bits: Int32 = 0
        let bytes = Array(pem.utf8)
        guard let handle = bytes.withUnsafeBytes({ relance_key_read_pem($0.baseAddress, $0.count, &kind, &bits) })
        else {
            throw Problem(
                description: "not a PEM private key OpenSSL can read (an unencrypted `BEGIN PRIVATE KEY` block)")
        }
        let algorithm: Algorithm
        switch Int(kind) {
        case Int(RELANCE_KEY_RSA): algorithm = .rsa
        case Int(RELANCE_KEY_ED25519): algorithm = .ed25519
        default:
            relance_key_free(handle)
            throw Problem(description: "neither an RSA nor an Ed25519 key (DKIM signs with those two only)")
        }
        if algorithm == .rsa && Int(bits) > 8192 {
            relance_key_free(handle)
            throw Problem(description: "an RSA key of \(bits) bits: more than 8192 bits is not supported")
        }
        if algorithm == .rsa && Int(bits) < Self.minimumRSABits {
            relance_key_free(handle)
            throw Problem(
                description: "an RSA key of \(bits) bits: DKIM needs \(Self.minimumRSABits) bits or more (RFC 8301)")
        }
        self.init(handle: handle, algorithm: algorithm, bits: Int(bits))
    }

    /// A new key: Ed25519, or RSA of `bits` bits.
    public static func generate(_ algorithm: Algorithm, bits: Int = 2048) throws -> DKIMKey {
        guard algorithm == .ed25519 || bits >= minimumRSABits else {
            throw Problem(description: "an RSA key needs \(minimumRSABits) bits or more")
        }
        guard let handle = relance_key_generate(algorithm.cKind, Int32(bits)) else {
            throw Problem(description: "OpenSSL could not generate the key")
        }
        return DKIMKey(handle: handle, algorithm: algorithm, bits: algorithm == .rsa ? bits : 256)
    }

    /// The private key as PKCS#8 PEM, to write once with mode 0600.
    public func privatePEM() throws -> String {
        var out = [CChar](repeating: 0, count: 16384)
        let length = relance_key_private_pem(handle, &out, out.count)
        guard length > 0 else { throw Problem(description: "OpenSSL could not write the key") }
        return String(decoding: out[..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The `p=` value of the DNS record: base64 of the SubjectPublicKeyInfo (RSA) or of the
    /// raw 32-byte key (Ed25519, RFC 8463).
    public func publicKeyBase64() -> String {
        var out = [UInt8](repeating: 0, count: 4096)
        let length = relance_key_public(handle, algorithm.cKind, &out, out.count)
        return length > 0 ? Data(out[..<Int(length)]).base64EncodedString() : ""
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`.
    public func dnsRecord() -> String {
        "v=DKIM1; k=\(algorithm.recordTag); p=\(publicKeyBase64())"
    }

    /// The signature of `data` (already the SHA-256 digest for Ed25519, RFC 8463).
    func sign(_ data: [UInt8]) -> [UInt8]? {
        var signature = [UInt8](repeating: 0, count: 1024)
        let length = data.withUnsafeBytes {
            relance_key_sign(handle, algorithm.cKind, $0.baseAddress, $0.count, &signature, signature.count)
        }
        return length > 0 ? Array(signature[..<Int(length)]) : nil
    }
}
