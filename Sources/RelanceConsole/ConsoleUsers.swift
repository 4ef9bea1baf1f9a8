import CCrypto
import Foundation
import RelanceCore

/// What a console user may see and do.
public enum ConsoleRole: String, Sendable, CaseIterable {
    /// Everything, actions included.
    case admin
    /// Reads everything, changes nothing.
    case viewer
    /// The bank's advisor: the overview's aggregates only (counts, amounts by age, the
    /// effectiveness report), never a payer's name, contact point or message.
    case advisor

    /// May read payers, jobs, messages, the live log and the audit trail.
    public var readsPersonalData: Bool { self != .advisor }
    public var mayAct: Bool { self == .admin }
}

public struct ConsoleUser: Sendable, Equatable {
    public var name: String
    public var role: ConsoleRole
    /// bcrypt (`$2b$…`).
    public var hash: String
    public init(name: String, role: ConsoleRole, hash: String) {
        self.name = name
        self.role = role
        self.hash = hash
    }
}

/// The users file (`console.users_file`): one user a line, `name:role:bcrypt-hash`;
/// `#` starts a comment line. Kept like a credential: readable by the daemon only.
public struct ConsoleUsers: Sendable, Equatable {
    public var users: [ConsoleUser]

    public init(users: [ConsoleUser] = []) { self.users = users }

    public func user(named name: String) -> ConsoleUser? { users.first { $0.name == name } }

    /// A user name: 1 to 64 of letters, digits and `.`, `_`, `-`, `@` (it is shown in the
    /// audit trail and the trace, and must not carry markup or line breaks).
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty || name.utf8.count > 64 { return "must be 1 to 64 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@".utf8)
        if !name.utf8.allSatisfy(allowed.contains) { return "may hold only letters, digits and . _ - @" }
        return nil
    }

    /// Reads the file's text; `source` names it in errors, with the line.
    public static func parse(_ text: String, source: String) throws -> ConsoleUsers {
        var users: [ConsoleUser] = []
        // "\r\n" is one Character in Swift: made "\n" before splitting.
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let place = "\(source):\(index + 1)"
            let fields = trimmed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else {
                throw ConsoleUsersError("\(place): expected name:role:hash")
            }
            if let problem = nameProblem(fields[0]) { throw ConsoleUsersError("\(place): user name \(problem)") }
            guard let role = ConsoleRole(rawValue: fields[1]) else {
                throw ConsoleUsersError(
                    "\(place): unknown role '\(fields[1].prefix(20))' (\(ConsoleRole.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            guard PasswordHash.isBcrypt(fields[2]) else {
                // The hash itself is never printed: it is a secret too.
                throw ConsoleUsersError("\(place): the password hash is not a bcrypt hash ($2b$…)")
            }
            if users.contains(where: { $0.name == fields[0] }) {
                throw ConsoleUsersError("\(place): user \(fields[0]) is listed twice")
            }
            users.append(ConsoleUser(name: fields[0], role: role, hash: fields[2]))
        }
        return ConsoleUsers(users: users)
    }

    /// The file's text, one line per user, sorted by name.
    public var text: String {
        "# Relance console users: name:role:bcrypt hash (relance console user add)\n"
            + users.sorted { $0.name < $1.name }.map { "\($0.name):\($0.role.rawValue):\($0.hash)\n" }.joined()
    }

    /// Adds the user, or replaces the one with the same name.
    public mutating func set(_ user: ConsoleUser) {
        users.removeAll { $0.name == user.name }
        users.append(user)
    }
}

public struct ConsoleUsersError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// bcrypt through libxcrypt, off the caller's thread (a hash takes about a quarter of a
/// second by design: it must not hold one of the few threads that run the daemon).
public enum PasswordHash {
    public static let cost: Int32 = 12

    /// bcrypt reads at most 72 bytes and stops at a NUL: longer passwords, or ones with a
    /// NUL or a line break, are refused rather than silently cut.
    public static func problem(_ password: String) -> String? {
        if password.utf8.count < 12 { return "must be at least 12 characters" }
        if password.utf8.count > 72 { return "must be at most 72 bytes (bcrypt reads no further)" }
        if password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain control characters"
        }
        return nil
    }

    public static func isBcrypt(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0].isEmpty && ["2b", "2y", "2a"].contains(parts[1])
            && parts[2].count == 2 && parts[2].allSatisfy(\.isNumber) && parts[3].count == 53
    }

    public static func hash(_ password: String, cost: Int32 = cost) async throws -> String {
        try await offThread {
            var out = [CChar](repeating: 0, count: 128)
            guard relance_bcrypt_hash(password, cost, &out, out.count) > 0 else {
                throw ConsoleUsersError("could not hash the password (libxcrypt)")
            }
            return String(cString: out)
        }
    }

    /// Every refusal takes a verification's time, the early ones too (a password too long
    /// for bcrypt): how long an answer takes must not tell which names exist.
    public static func verify(_ password: String, hash: String) async -> Bool {
        guard isBcrypt(hash), password.utf8.count <= 72, !password.utf8.contains(0) else {
            await spendVerification("")
            return false
        }
        return (try? await offThread { relance_bcrypt_verify(password, hash) == 1 }) ?? false
    }

    /// A hash to verify against when the user does not exist, so that an unknown name
    /// takes as long to refuse as a wrong password.
    /// Made once, at the first unknown name.
    static let decoy: String = {
        var out = [CChar](repeating: 0, count: 128)
        _ = relance_bcrypt_hash(UUID().uuidString, cost, &out, out.count)
        return String(cString: out)
    }()

    /// Spends the time of a verification, for a name that does not exist.
    public static func spendVerification(_ password: String) async {
        let bounded = String(decoding: password.utf8.prefix(72).filter { $0 != 0 }, as: UTF8.self)
        _ = try? await offThread { relance_bcrypt_verify(bounded, decoy) }
    }

    private static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
