import Foundation
import RelanceCore
import Testing

@testable import RelanceConsole

@Suite("Console: what the reviews found")
struct ConsoleAttackTests {
    @Test(
        "only a path of this console is a place to go back to",
        arguments: [
            ("/", true), ("/payers?q=a%20b", true), ("/jobs/12", true), ("//evil.example/x", false),
            ("/\t/evil.example/x", false), ("/\\evil.example", false), ("https://evil.example", false),
            ("evil", false), ("/a\nLocation: x", false), ("/caf\u{E9}", false), ("", false),
        ])
    func localPaths(path: String, allowed: Bool) { #expect(Console.isLocalPath(path) == allowed) }

    @Test("a quote or a bracket followed by a combining mark is escaped on every page")
    func combiningMarks() {
        let hostile = "a\"\u{301}>\u{301}<img src=x onerror=alert(1)>"
        let html = ConsoleViews.render("payers", ["q": hostile, "t": ConsoleLanguage.en.phrases])
        let broken = "\"\u{301}>"
        let escaped = "a&quot;\u{301}&gt;\u{301}&lt;img"
        #expect(!html.contains(broken))
        #expect(html.contains(escaped))
        #expect(!html.contains("<img"))
    }

    @Test("attempts sent at once are counted before their passwords are checked")
    func reservation() {
        let sessions = ConsoleSessions()
        let now = Date()
        let granted = (0..<40).filter { _ in sessions.reserveAttempt(user: "alice", client: "10.0.0.1", now: now) }
        #expect(granted.count == ConsoleSessions.allowedFailuresPerUser)
        sessions.attemptSucceeded(user: "alice", client: "10.0.0.1")
        #expect(sessions.reserveAttempt(user: "alice", client: "10.0.0.1", now: now))
    }

    @Test("at most two passwords are checked at a time")
    func verificationSlots() {
        let sessions = ConsoleSessions()
        #expect(sessions.startVerification() && sessions.startVerification())
        #expect(!sessions.startVerification())
        sessions.endVerification()
        #expect(sessions.startVerification())
    }

    @Test("a long password and an unknown name take a verification's time")
    func timing() async throws {
        let hash = try await PasswordHash.hash("correct horse battery", cost: 10)
        var clock = ContinuousClock.now
        _ = await PasswordHash.verify(String(repeating: "x", count: 80), hash: hash)
        let long = ContinuousClock.now - clock
        clock = ContinuousClock.now
        _ = await PasswordHash.verify("wrong horse battery", hash: hash)
        let wrong = ContinuousClock.now - clock
        #expect(long > wrong / 4, "\(long) against \(wrong)")
    }

    @Test("throttled sign-ins reach the audit trail once a minute per name")
    func auditThrottle() {
        let throttle = AuditThrottle()
        let now = Date()
        #expect(throttle.shouldRecord("alice", now: now))
        #expect(!throttle.shouldRecord("ALICE", now: now + 30))
        #expect(throttle.shouldRecord("bob", now: now + 30))
        #expect(throttle.shouldRecord("alice", now: now + 61))
    }

    @Test("live logs are counted per session and in all")
    func streams() {
        let count = StreamCount()
        for _ in 0..<StreamCount.perSession { #expect(count.open(session: "a")) }
        #expect(!count.open(session: "a"))
        count.close(session: "a")
        #expect(count.open(session: "a"))
    }

    @Test("a ZIP past the format's 65,535 files is refused, not a crash")
    func zipLimits() throws {
        var zip = ZipWriter(date: Date())
        for n in 0..<0xFFFF { try zip.add("f\(n)", []) }
        #expect(throws: ZipError.self) { try zip.add("one-too-many", []) }
    }
}
