import Foundation

/// The exact bytes of a message as they were handed to a provider, kept as evidence:
/// an e-mail's whole MIME message (DKIM signature included), an SMS's text as the
/// gateway got it, a letter's PDF. Keyed by the SHA-256 of those bytes, which the trace
/// records (`content_sha256` in the `rendered` event).
public struct ArchivedMessage: Sendable, Equatable {
    /// `message/rfc822`, `text/plain; charset=utf-8` or `application/pdf`.
    public var mediaType: String
    public var bytes: [UInt8]
    /// Lower-case hex SHA-256 of `bytes`.
    public var sha256: String

    public static let email = "message/rfc822"
    public static let sms = "text/plain; charset=utf-8"
    public static let letter = "application/pdf"

    public init(mediaType: String, bytes: [UInt8]) {
        self.mediaType = mediaType
        self.bytes = bytes
        sha256 = SHA256.hex(bytes)
    }

    /// True when `sha256` is 64 lower-case hex digits (a key the archive may hold).
    public static func isKey(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
