import Foundation
import RelanceCore

/// The outbox transports' common step: a message written whole into a folder instead
/// of being sent, so that a bare machine works and a person can look at what would go.
public enum OutboxFile {
    /// Writes `bytes` to `directory/name` (whole, then renamed: a reader never sees half
    /// a file) and reports it as accepted, with its path and SHA-256 in the trace.
    public static func write(_ bytes: [UInt8], directory: String, name: String) -> DispatchOutcome {
        let path = directory + "/" + name
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            return .transient(
                DispatchFailure(reason: "outbox", message: "cannot write \(path): \(error.localizedDescription)"))
        }
        return .accepted(
            ProviderResponse(
                text: "written to \(path)", providerRef: name,
                detail: [
                    "path": .string(path), "bytes": .number(String(bytes.count)), "sha256": .string(SHA256.hex(bytes)),
                ]))
    }
}
