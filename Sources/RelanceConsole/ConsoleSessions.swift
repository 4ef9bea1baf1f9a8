import Foundation
import Synchronization

/// A signed-in user's session, kept in the daemon's memory only: a restart signs
/// everyone out, and behind a load balancer each node has its own (sticky sessions).
public struct ConsoleSession: Sendable {
    public var user: String
    public var role: ConsoleRole
    /// The user's password hash when the session opened: a new password ends it.
    public var hash: String
    /// The token every form carries (CSRF), compared with the one posted.
    public var csrf: String
    public var created: Date
    public var lastSeen: Date
}

/// Sessions by token, with an idle and an absolute lifetime, and the login throttle.
public final class ConsoleSessions: Sendable {
    public let idleLifetime: TimeInterval
    public let absoluteLifetime: TimeInterval
    /// Beyond this many sessions the least recently seen one is dropped.
    let capacity: Int
    private let sessions = Mutex<[String: ConsoleSession]>([:])
    private let failures = Mutex<[String: [Date]]>([:])

    public init(
        idleLifetime: TimeInterval = 30 * 60, absoluteLifetime: TimeInterval = 12 * 3600, capacity: Int = 10_000
    ) {
        self.idleLifetime = idleLifetime
        self.absoluteLifetime = absoluteLifetime
        self.capacity = capacity
    }

    /// 32 random bytes from the kernel, as URL-safe base64 (a cookie value).
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A new session for the user; returns its token.
    public func open(user: String, role: ConsoleRole, hash: String = "", now: Date = Date()) -> String {
        let token = Self.randomToken()
        let session = ConsoleSession(
            user: user, role: role, hash: hash, csrf: Self.randomToken(), created: now, lastSeen: now)
        sessions.withLock { all in
            if all.count >= capacity, let oldest = all.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                all[oldest] = nil
            }
            all[token] = session
        }
        return token
    }

    /// The live session of the token, its idle time renewed; nil when unknown or expired.
    public func session(_ token: String, now: Date = Date()) -> ConsoleSession? {
        sessions.withLock { all in
            guard var session = all[token] else { return nil }
            if now.timeIntervalSince(session.lastSeen) > idleLifetime
                || now.timeIntervalSince(session.created) > absoluteLifetime
            {
                all[token] = nil
                return nil
            }
            session.lastSeen = now
            all[token] = session
            return session
        }
    }

    /// True while the session lives, without renewing its idle time (a live log left open
    /// does not keep a session alive).
    public func isLive(_ token: String, now: Date = Date()) -> Bool {
        sessions.withLock { all in
            guard let session = all[token] else { return false }
            return now.timeIntervalSince(session.lastSeen) <= idleLifetime
                && now.timeIntervalSince(session.created) <= absoluteLifetime
        }
    }

    /// The live session of the token, its idle time not renewed.
    public func peek(_ token: String, now: Date = Date()) -> ConsoleSession? {
        isLive(token, now: now) ? sessions.withLock { $0[token] } : nil
    }

    public func close(_ token: String) { _ = sessions.withLock { $0.removeValue(forKey: token) } }

    /// Ends every session of a user (removed from the file, or given another role).
    public func closeAll(user: String) { sessions.withLock { all in all = all.filter { $0.value.user != user } } }

    // MARK: login throttle

    /// Failed sign-ins allowed in `window`: per user name (a password guessed), and per
    /// client address (names tried in turn). The address's limit is far higher: behind a
    /// proxy every visitor has the proxy's address, and a stranger must not be able to
    /// lock the team out by failing five times.
    public static let allowedFailuresPerUser = 5
    public static let allowedFailuresPerClient = 100
    public static let window: TimeInterval = 300

    /// True when the user name or the client address failed too often lately: the attempt
    /// is refused unread.
    public func isThrottled(user: String, client: String, now: Date = Date()) -> Bool {
        failures.withLock { all in
            func recent(_ key: String) -> Int {
                (all[key] ?? []).filter { now.timeIntervalSince($0) < Self.window }.count
            }
            return recent("user:" + user.lowercased()) >= Self.allowedFailuresPerUser
                || recent("client:" + client) >= Self.allowedFailuresPerClient
        }
    }

    /// Checks the throttle and counts this attempt as a failure in one step, before the
    /// password is verified: attempts sent at once cannot all pass the check while the
    /// first ones are still being verified. False when throttled (nothing counted).
    public func reserveAttempt(user: String, client: String, now: Date = Date()) -> Bool {
        failures.withLock { all in
            func recent(_ key: String) -> [Date] { (all[key] ?? []).filter { now.timeIntervalSince($0) < Self.window } }
            let userKey = "user:" + user.lowercased()
            let clientKey = "client:" + client
            if recent(userKey).count >= Self.allowedFailuresPerUser
                || recent(clientKey).count >= Self.allowedFailuresPerClient
            {
                return false
            }
            if all.count > 100_000 {
                all = all.filter { $0.value.contains { now.timeIntervalSince($0) < Self.window } }
            }
            all[userKey] = recent(userKey) + [now]
            all[clientKey] = recent(clientKey) + [now]
            return true
        }
    }

    /// After a sign-in succeeded: the user's failures are forgotten, and the attempt
    /// reserved for it is taken back from the address's count.
    public func attemptSucceeded(user: String, client: String) {
        failures.withLock { all in
            all["user:" + user.lowercased()] = nil
            if var times = all["client:" + client], !times.isEmpty {
                times.removeLast()
                all["client:" + client] = times
            }
        }
    }

    /// Password verifications running now, across the console: bcrypt takes a quarter of
    /// a second of a core each, and a burst of sign-ins must not take the daemon's.
    public static let maximumVerifications = 2
    private let verifications = Mutex(0)

    /// Takes a verification slot; false when all are busy (the attempt is refused).
    public func startVerification() -> Bool {
        verifications.withLock { running in
            guard running < Self.maximumVerifications else { return false }
            running += 1
            return true
        }
    }

    public func endVerification() { verifications.withLock { $0 -= 1 } }

    public func recordFailure(user: String, client: String, now: Date = Date()) {
        failures.withLock { all in
            if all.count > 100_000 {
                all = all.filter { $0.value.contains { now.timeIntervalSince($0) < Self.window } }
            }
            for key in ["user:" + user.lowercased(), "client:" + client] {
                all[key] = (all[key] ?? []).filter { now.timeIntervalSince($0) < Self.window } + [now]
            }
        }
    }

    /// After a sign-in: that user's failures are forgotten (not the address's).
    public func clearFailures(user: String) {
        _ = failures.withLock { $0.removeValue(forKey: "user:" + user.lowercased()) }
    }

    /// Two tokens compared in constant time.
    public static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
