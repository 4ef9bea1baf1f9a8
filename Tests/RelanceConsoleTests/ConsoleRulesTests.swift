import Foundation
import RelanceStore
import Testing

@testable import RelanceConsole

@Suite("Console rules")
struct ConsoleRulesTests {
    @Test(
        "ageing bands by days late",
        arguments: [
            (-10, Aging.Band.notDue), (0, .notDue), (1, .days1to30), (30, .days1to30), (31, .days31to60),
            (60, .days31to60), (61, .days61to90), (90, .days61to90), (91, .over90), (4000, .over90),
        ])
    func bands(days: Int, band: Aging.Band) {
        #expect(Aging.Band.of(daysLate: days) == band)
    }

    @Test("ageing sums each currency apart, across a leap day and a year end")
    func aging() {
        let balances = [
            OpenBalance(currency: "EUR", dueDate: "2024-03-01", balance: 100),  // 2024-02-29 existed: 31 days
            OpenBalance(currency: "EUR", dueDate: "2024-03-31", balance: Decimal(string: "0.10")!),  // 1 day
            OpenBalance(currency: "EUR", dueDate: "2024-04-01", balance: 5),  // due today
            OpenBalance(currency: "GBP", dueDate: "2023-12-31", balance: 7),  // 92 days
            OpenBalance(currency: "EUR", dueDate: "not a date", balance: 1),  // kept, as not due
        ]
        let aging = Aging(balances, today: "2024-04-01")
        #expect(aging.amounts["EUR"] == [6, Decimal(string: "0.10")!, 100, 0, 0])
        #expect(aging.counts["EUR"] == [2, 1, 1, 0, 0])
        #expect(aging.amounts["GBP"] == [0, 0, 0, 0, 7])
    }

    @Test(
        "day numbers", arguments: [("1970-01-01", 0), ("2000-03-01", 11017), ("2024-02-29", 19782)])
    func dayNumbers(text: String, day: Int) { #expect(Aging.dayNumber(text) == day) }

    @Test("impossible dates are not days", arguments: ["2023-02-29", "2024-13-01", "2024-00-10", "24-01-01", ""])
    func notDays(text: String) { #expect(Aging.dayNumber(text) == nil) }

    @Test("the users file: lines, comments, and what is refused with its line")
    func usersFile() throws {
        let hash = "$2b$12$" + String(repeating: "a", count: 53)
        let users = try ConsoleUsers.parse(
            "# comment\n\nalice:admin:\(hash)\r\nbob@bank.fr:advisor:\(hash)\n", source: "u")
        #expect(users.users.map(\.name) == ["alice", "bob@bank.fr"])
        #expect(users.user(named: "bob@bank.fr")?.role == .advisor)
        for (text, expected) in [
            ("alice:root:\(hash)", "u:1: unknown role 'root'"),
            ("alice:admin:plain", "u:1: the password hash is not a bcrypt hash"),
            ("al ice:admin:\(hash)", "u:1: user name may hold only"),
            ("alice:admin", "u:1: expected name:role:hash"),
            ("a:admin:\(hash)\na:viewer:\(hash)", "u:2: user a is listed twice"),
        ] {
            #expect(throws: ConsoleUsersError.self) { try ConsoleUsers.parse(text, source: "u") }
            do { _ = try ConsoleUsers.parse(text, source: "u") } catch {
                #expect("\(error)".hasPrefix(expected), "\(error)")
                #expect(!"\(error)".contains("plain"), "a hash is never printed")
            }
        }
        var edited = users
        edited.set(ConsoleUser(name: "alice", role: .viewer, hash: hash))
        #expect(try ConsoleUsers.parse(edited.text, source: "u") == edited.sortedByName)
    }

    @Test("bcrypt: a hash verifies its password only")
    func bcrypt() async throws {
        let hash = try await PasswordHash.hash("correct horse battery", cost: 4)
        #expect(PasswordHash.isBcrypt(hash))
        #expect(await PasswordHash.verify("correct horse battery", hash: hash))
        #expect(!(await PasswordHash.verify("correct horse batterY", hash: hash)))
        #expect(!(await PasswordHash.verify("", hash: hash)))
        #expect(!(await PasswordHash.verify("correct horse battery", hash: "$2b$04$short")))
        #expect(try await PasswordHash.hash("correct horse battery", cost: 4) != hash, "salted")
    }

    @Test(
        "passwords bcrypt cannot keep whole are refused",
        arguments: ["short", String(repeating: "é", count: 37), "twelve chars\u{0}x", "line\nbreak pass"])
    func passwordProblems(password: String) { #expect(PasswordHash.problem(password) != nil) }

    @Test("sessions expire when idle and after their absolute lifetime; the CSRF token is per session")
    func sessions() {
        let sessions = ConsoleSessions(idleLifetime: 60, absoluteLifetime: 300)
        let start = Date(timeIntervalSince1970: 1_000_000)
        let token = sessions.open(user: "alice", role: .admin, now: start)
        let other = sessions.open(user: "bob", role: .viewer, now: start)
        #expect(token != other && token.count >= 43)
        #expect(sessions.session(token, now: start)?.csrf != sessions.session(other, now: start)?.csrf)
        #expect(sessions.session(token, now: start + 50) != nil)
        #expect(sessions.session(token, now: start + 100) != nil, "renewed at +50")
        #expect(sessions.isLive(other, now: start + 100) == false)
        #expect(sessions.session(other, now: start + 100) == nil)
        for seconds in [150.0, 200, 250, 299] { #expect(sessions.session(token, now: start + seconds) != nil) }
        #expect(sessions.session(token, now: start + 301) == nil, "absolute lifetime")
    }

    @Test("failed sign-ins are throttled per user, and per address only far above that; then forgotten")
    func throttle() {
        let sessions = ConsoleSessions()
        let start = Date(timeIntervalSince1970: 1_000_000)
        for i in 0..<ConsoleSessions.allowedFailuresPerUser {
            #expect(!sessions.isThrottled(user: "alice", client: "127.0.0.1", now: start + Double(i)))
            sessions.recordFailure(user: "Alice", client: "127.0.0.1", now: start + Double(i))
        }
        #expect(sessions.isThrottled(user: "alice", client: "10.0.0.9", now: start + 10), "per user, any address")
        #expect(!sessions.isThrottled(user: "bob", client: "127.0.0.1", now: start + 10), "bob is not locked out")
        for i in 0..<(ConsoleSessions.allowedFailuresPerClient - ConsoleSessions.allowedFailuresPerUser) {
            sessions.recordFailure(user: "nobody-\(i)", client: "127.0.0.1", now: start + 20)
        }
        #expect(sessions.isThrottled(user: "bob", client: "127.0.0.1", now: start + 30), "names tried in turn")
        #expect(!sessions.isThrottled(user: "bob", client: "10.0.0.2", now: start + 30))
        #expect(!sessions.isThrottled(user: "alice", client: "10.0.0.2", now: start + ConsoleSessions.window + 10))
        sessions.clearFailures(user: "ALICE")
        #expect(!sessions.isThrottled(user: "alice", client: "10.0.0.2", now: start + 30))
    }

    @Test("tokens compare in constant time, and an empty one never matches")
    func same() {
        #expect(ConsoleSessions.same("abc", "abc"))
        #expect(!ConsoleSessions.same("abc", "abd"))
        #expect(!ConsoleSessions.same("abc", "abcd"))
        #expect(!ConsoleSessions.same("", ""))
    }

    @Test(
        "the interface language from Accept-Language",
        arguments: [
            (nil, ConsoleLanguage.en), ("fr-FR,fr;q=0.9,en;q=0.8", .fr), ("de-DE, en;q=0.5, fr;q=0.7", .fr),
            ("en-GB", .en), ("de", .en), ("fr;q=0", .en), ("FR-be", .fr),
        ])
    func language(header: String?, expected: ConsoleLanguage) {
        #expect(ConsoleLanguage.from(acceptLanguage: header) == expected)
    }

    @Test("every phrase exists in both languages")
    func phrases() {
        for (key, pair) in ConsoleText.table {
            #expect(!pair.0.isEmpty && !pair.1.isEmpty, "\(key)")
        }
    }

    @Test("a chart escapes its labels and draws no bar for zero")
    func chart() {
        let svg = SVGChart(
            title: "T <&>",
            bars: [.init(label: "<script>\u{1}", value: 0, text: "0 €"), .init(label: "b", value: 2, text: "2")]
        ).svg
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;\u{FFFD}"))
        #expect(svg.contains("width=\"0\""))
        #expect(svg.contains("width=\"330\""))
        #expect(!svg.contains("style="), "the CSP forbids inline styles")
    }
}

extension ConsoleUsers {
    var sortedByName: ConsoleUsers { ConsoleUsers(users: users.sorted { $0.name < $1.name }) }
}
