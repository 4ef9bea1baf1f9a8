import Testing

@testable import RelanceAPI

@Suite("API tokens")
struct APITokensTests {
    static let file = """
        # NAME SCOPES TOKEN
        billing   enqueue        billing-0123456789abcdef
        dashboard read           dashboard-0123456789abcd

        ops       admin,read     ops-0123456789abcdefgh
        """

    @Test("a known token gives its name and scopes; an unknown or truncated one gives nothing")
    func authenticate() throws {
        let tokens = try APITokens.parse(Self.file, source: "tokens")
        #expect(tokens.count == 3)
        let billing = try #require(tokens.authenticate("billing-0123456789abcdef"))
        #expect(billing.name == "billing" && billing.scopes == [.enqueue])
        #expect(tokens.authenticate("ops-0123456789abcdefgh")?.scopes == [.admin, .read])
        #expect(tokens.authenticate("billing-0123456789abcde") == nil)
        #expect(tokens.authenticate("") == nil)
        #expect(APITokens.none.authenticate("billing-0123456789abcdef") == nil)
    }

    @Test(
        "a broken line is refused with its line number, never the token",
        arguments: [
            ("a enqueue", "tokens:1: expected 'NAME SCOPES TOKEN'"),
            ("a write secret-0123456789abcdef", "tokens:1: unknown scope 'write'"),
            ("# c\na read short", "tokens:2: token of 'a' is shorter than 16 characters"),
        ])
    func broken(text: String, message: String) {
        #expect {
            try APITokens.parse(text, source: "tokens")
        } throws: { error in
            "\(error)".hasPrefix(message) && !"\(error)".contains("secret-0123456789abcdef")
        }
    }

    @Test("digests are compared without early exit, and only equal lengths match")
    func constantTime() {
        #expect(APITokens.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!APITokens.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!APITokens.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    @Test(
        "405 is told apart from 404 by the route table",
        arguments: [
            ("/v1/jobs", true), ("/v1/jobs/12", true), ("/v1/payers/ACME", true), ("/v1/cases/F-1/cancel", true),
            ("/healthz", true), ("/v1/nothing", false), ("/v1/jobs/12/trace", false), ("/", false),
        ])
    func routes(path: String, known: Bool) {
        #expect((APIServer.allowedMethods(path: path) != nil) == known)
    }
}
