import CCrypto
import Foundation

/// SHA-256, for the evidence kept in the trace (rendered content, letters).
public enum SHA256 {
    public static func hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let digest = digest(bytes)
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }

    /// The 32 bytes of the digest.
    public static func digest<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(bytes)
        input.withUnsafeBytes { raw in
            relance_sha256(raw.baseAddress, raw.count, &digest)
        }
        return digest
    }
}
