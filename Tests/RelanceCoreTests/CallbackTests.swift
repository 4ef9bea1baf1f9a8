import Testing

@testable import RelanceCore

@Suite("Delivery-report callbacks: tokens, parsing, form encoding")
struct CallbackTests {
    let signer = CallbackSigner(secret: "a-secret-of-some-length")

    @Test("a token verifies for its provider, job and attempt only")
    func token() {
        let token = signer.token(provider: "kannel", jobID: 42, attempt: 1)
        #expect(token.count == 32 && token.allSatisfy(\.isHexDigit))
        #expect(signer.verify(token, provider: "kannel", jobID: 42, attempt: 1))
        #expect(!signer.verify(token, provider: "kannel", jobID: 42, attempt: 2))
        #expect(!signer.verify(token, provider: "kannel", jobID: 43, attempt: 1))
        #expect(!signer.verify(token, provider: "twilio", jobID: 42, attempt: 1))
        #expect(!signer.verify(token.uppercased(), provider: "kannel", jobID: 42, attempt: 1))
        #expect(!signer.verify("", provider: "kannel", jobID: 42, attempt: 1))
        #expect(
            !CallbackSigner(secret: "another-secret-entirely").verify(token, provider: "kannel", jobID: 42, attempt: 1))
    }

    @Test("HMAC-SHA-256 matches RFC 4231 test case 2")
    func rfc4231() {
        // key "Jefe", data "what do ya want for nothing?"; our token is the first 128 bits of the
        // HMAC of "relance-callback:v1:…", so check the primitive through a known vector instead.
        var digest = [UInt8](repeating: 0, count: 32)
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        _ = relanceHMAC(key: key, data: data, into: &digest)
        let hex = digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let provider: String
        let fields: [String: String]
        let expected: String
        var testDescription: String { "\(provider) \(fields) → \(expected)" }
    }

    static let cases: [Case] = [
        Case(provider: "kannel", fields: ["type": "1", "answer": "ACK"], expected: "delivered"),
        Case(provider: "kannel", fields: ["type": "2"], expected: "undelivered"),
        Case(provider: "kannel", fields: ["type": "16"], expected: "undelivered"),
        Case(provider: "kannel", fields: ["type": "4"], expected: "interim"),
        Case(provider: "kannel", fields: ["type": "8"], expected: "interim"),
        Case(provider: "kannel", fields: ["type": "3"], expected: "invalid"),
        Case(provider: "kannel", fields: [:], expected: "invalid"),
        Case(provider: "twilio", fields: ["MessageStatus": "delivered", "MessageSid": "SM1"], expected: "delivered"),
        Case(provider: "twilio", fields: ["MessageStatus": "read", "SmsSid": "SM1"], expected: "delivered"),
        Case(
            provider: "twilio", fields: ["MessageStatus": "undelivered", "ErrorCode": "30003", "MessageSid": "SM1"],
            expected: "undelivered"),
        Case(provider: "twilio", fields: ["MessageStatus": "failed", "MessageSid": "SM1"], expected: "undelivered"),
        Case(provider: "twilio", fields: ["MessageStatus": "sent", "MessageSid": "SM1"], expected: "interim"),
        Case(provider: "twilio", fields: ["MessageStatus": "exploded", "MessageSid": "SM1"], expected: "invalid"),
        // Without MessageSid a Twilio callback is refused, whatever its status.
        Case(provider: "twilio", fields: ["MessageStatus": "delivered"], expected: "invalid"),
        Case(provider: "twilio", fields: ["MessageStatus": "delivered", "MessageSid": ""], expected: "invalid"),
        Case(provider: "webhook", fields: ["status": "DELIVERED"], expected: "delivered"),
        Case(provider: "webhook", fields: ["status": "expired"], expected: "undelivered"),
        Case(provider: "webhook", fields: ["status": "enroute"], expected: "interim"),
        Case(provider: "webhook", fields: [:], expected: "invalid"),
        Case(provider: "nobody", fields: ["status": "delivered"], expected: "invalid"),
    ]

    @Test("provider fields map to final, intermediate or invalid reports", arguments: cases)
    func parse(_ c: Case) {
        let result: String
        switch DeliveryReportParser.parse(provider: c.provider, fields: c.fields) {
        case .final(let delivered, _, _, _): result = delivered ? "delivered" : "undelivered"
        case .interim: result = "interim"
        case .invalid: result = "invalid"
        }
        #expect(result == c.expected)
    }

    @Test("a Twilio report carries its message sid and error code")
    func twilioDetail() {
        let parsed = DeliveryReportParser.parse(
            provider: "twilio", fields: ["MessageStatus": "undelivered", "MessageSid": "SM9", "ErrorCode": "30005"])
        #expect(
            parsed
                == .final(
                    delivered: false, status: "undelivered", providerRef: "SM9",
                    detail: ["provider": "twilio", "status": "undelivered", "error_code": "30005"]))
    }

    @Test("form encoding escapes everything but unreserved characters and decodes back")
    func form() {
        let fields = [("text", "Rappel : 1 934,60 € & co=1+1"), ("to", "+33612345678")]
        let encoded = FormEncoding.encode(fields)
        #expect(encoded == "text=Rappel%20%3A%201%20934%2C60%20%E2%82%AC%20%26%20co%3D1%2B1&to=%2B33612345678")
        #expect(
            FormEncoding.decode(Substring(encoded)) == ["text": "Rappel : 1 934,60 € & co=1+1", "to": "+33612345678"])
        #expect(FormEncoding.decode("a=1+2&b&c=%zz") == ["a": "1 2", "b": "", "c": "%zz"])
    }
}
