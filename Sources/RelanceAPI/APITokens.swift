import CCrypto
import Foundation
import RelanceCore

/// What a bearer token may do.
public enum APIScope: String, Sendable, CaseIterable {
    case enqueue
    case read
    case admin
}

/// The bearer tokens, read from a secret file of lines `NAME SCOPES TOKEN`
/// (scopes comma-separated; `#` starts a comment). Only SHA-256 digests are kept in
/// memory, and a presented token is compared with every one in constant time.
public struct APITokens: Sendable {
    struct Entry: Sendable {
        var name: String
        var scopes: Set<APIScope>
        var digest: [UInt8]
    }
    let entries: [Entry]

    public static let none = APITokens(entries: [])
    public var count: Int { entries.count }

    init(entries: [Entry]) { self.entries = entries }

    /// Parses the file's text; errors name the line, never a token.
    public static func parse(_ text: String, source: String) throws -> APITokens {
        var entries: [Entry] = []
        var lines: [String: Int] = [:]  // name → line, digest → line
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 3 else {
                throw TokenFileError("\(source):\(index + 1): expected 'NAME SCOPES TOKEN'")
            }
            var scopes: Set<APIScope> = []
            for scope in parts[1].split(separator: ",") {
                guard let s = APIScope(rawValue: String(scope)) else {
                    throw TokenFileError("\(source):\(index + 1): unknown scope '\(scope)' (enqueue, read, admin)")
                }
                scopes.insert(s)
            }
            guard parts[2].utf8.count >= 16 else {
                throw TokenFileError("\(source):\(index + 1): token of '\(parts[0])' is shorter than 16 characters")
            }
            let tokenDigest = digest(parts[2])
            let digestKey = "\u{0}" + tokenDigest.map { String($0) }.joined(separator: ",")
            // The same token twice would authenticate as whichever entry came last; the
            // same name twice makes the log ambiguous. Both are mistakes: refused.
            if let earlier = lines[digestKey] {
                throw TokenFileError("\(source):\(index + 1): the same token as line \(earlier)")
            }
            if let earlier = lines[parts[0]] {
                throw TokenFileError(
                    "\(source):\(index + 1): the name '\(parts[0])' is already used on line \(earlier)")
            }
            lines[digestKey] = index + 1
            lines[parts[0]] = index + 1
            entries.append(Entry(name: parts[0], scopes: scopes, digest: tokenDigest))
        }
        return APITokens(entries: entries)
    }

    /// The name and scopes of the token, or nil. Every entry is compared, always in full.
    public func authenticate(_ token: String) -> (name: String, scopes: Set<APIScope>)? {
        let presented = Self.digest(token)
        var match: Entry?
        for entry in entries where Self.constantTimeEqual(entry.digest, presented) {
            match = entry
        }
        return match.map { ($0.name, $0.scopes) }
    }

    /// Equal-length digests compared without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { ConstantTime.equal(a, b) }

    static func digest(_ text: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { relance_sha256($0.baseAddress, $0.count, &out) }
        return out
    }

}

public struct TokenFileError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
