import CCrypto
import Foundation

/// SHA-256, for the evidence kept in the trace (rendered content, letters).
public enum SHA256 {
    public static func hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(bytes)
        input.withUnsafeBytes { raw in
            relance_sha256(raw.baseAddress, raw.count, &digest)
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }
}
