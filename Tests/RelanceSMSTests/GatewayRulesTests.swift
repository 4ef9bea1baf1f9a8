import RelanceCore
import RelanceTransport
import Testing

@testable import RelanceSMS

@Suite("Gateway rules: rate limit, answer classification, callback URLs")
struct GatewayRulesTests {
    @Test("the rate limiter spaces messages 1/rate apart across callers, and catches up after idle time")
    func rate() {
        let limiter = RateLimiter(rate: 4)
        #expect(limiter.reserve(now: 100) == 0)
        #expect(abs(limiter.reserve(now: 100) - 0.25) < 1e-9)
        #expect(abs(limiter.reserve(now: 100) - 0.5) < 1e-9)
        #expect(abs(limiter.reserve(now: 100.6) - 0.15) < 1e-9)
        // After a pause no backlog of credit builds up: the next message goes at once, the one after waits.
        #expect(limiter.reserve(now: 200) == 0)
        #expect(abs(limiter.reserve(now: 200) - 0.25) < 1e-9)
        let unlimited = RateLimiter(rate: nil)
        #expect((0..<1000).allSatisfy { _ in unlimited.reserve(now: 1) == 0 })
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        let status: Int
        let transient: Bool
        var testDescription: String { "\(status) → \(transient ? "transient" : "permanent")" }
    }

    static let statuses: [StatusCase] = [
        .init(status: 400, transient: false), .init(status: 404, transient: false),
        .init(status: 422, transient: false),
        .init(status: 401, transient: true), .init(status: 403, transient: true), .init(status: 408, transient: true),
        .init(status: 429, transient: true), .init(status: 500, transient: true), .init(status: 503, transient: true),
    ]

    @Test("HTTP answers: 4xx permanent except credentials, timeouts and throttling; 5xx transient", arguments: statuses)
    func classify(_ c: StatusCase) {
        let outcome = HTTPClassification.failure(.response(status: c.status, body: "no\n  way "), what: "gw")
        switch outcome {
        case .transient(let f):
            #expect(c.transient && f.message == "gw answered \(c.status): no way" && f.code == c.status)
        case .permanent(let f): #expect(!c.transient && f.message == "gw answered \(c.status): no way")
        case .accepted, .uncertain: Issue.record("\(outcome)")
        }
    }

    @Test("a request written without an answer is uncertain; a fenced one is transient with nothing sent")
    func unanswered() {
        let outcome = HTTPClassification.failure(.unanswered("the connection closed"), what: "kannel x")
        guard case .uncertain(let failure) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(failure.reason == .httpRequest)
        #expect(failure.message.hasPrefix("kannel x: the connection closed"))
        guard case .transient(let fenced) = HTTPClassification.failure(.fenced, what: "kannel x") else {
            Issue.record("fenced must be transient")
            return
        }
        #expect(fenced.reason == .lease)
    }

    @Test("no answer at all is a transient network failure")
    func network() {
        #expect(
            HTTPClassification.failure(.failure("Couldn't connect to server (libcurl 7)"), what: "kannel x")
                == .transient(
                    DispatchFailure(reason: .network, message: "kannel x: Couldn't connect to server (libcurl 7)")))
        #expect(HTTPClassification.summarize("") == "(empty body)")
        #expect(HTTPClassification.summarize(String(repeating: "é", count: 400)).count == 301)
    }

    @Test("callback URLs carry the job, the attempt and a token that verifies")
    func callbackURL() throws {
        let signer = CallbackSigner(secret: "0123456789abcdef")
        let settings = CallbackSettings(baseURL: "https://relance.example.com/", signer: signer)
        let url = settings.url(provider: "twilio", jobID: 7, attempt: 2)
        let prefix = "https://relance.example.com/v1/callbacks/twilio/7/2?token="
        #expect(url.hasPrefix(prefix))
        #expect(signer.verify(String(url.dropFirst(prefix.count)), provider: "twilio", jobID: 7, attempt: 2))
    }

    @Test("gateway URLs are shown without path, query or credentials")
    func display() {
        #expect(GatewayURL.display("http://u:p@127.0.0.1:13013/cgi-bin/sendsms?password=x") == "http://127.0.0.1:13013")
        #expect(GatewayURL.display("https://api.twilio.com") == "https://api.twilio.com")
        #expect(GatewayURL.display("not a url") == "(gateway)")
    }

    @Test("the webhook body uses the configured field names")
    func webhookBody() {
        let transport = WebhookTransport(
            settings: WebhookSettings(
                url: "http://127.0.0.1/sms", toField: "msisdn", textField: "message", sender: "ACME",
                encodingField: "coding", extra: ["account": "main"]),
            http: HTTPSettings(), callbacks: nil)
        let sms = OutgoingSMS(jobID: 5, attempt: 1, to: "+33612345678", text: "Bonjour", encoding: .gsm7, segments: 1)
        #expect(
            transport.body(sms)
                == .object([
                    "msisdn": "+33612345678", "message": "Bonjour", "from": "ACME", "reference": "relance-5-1",
                    "coding": "gsm7", "account": "main",
                ]))
    }
}
