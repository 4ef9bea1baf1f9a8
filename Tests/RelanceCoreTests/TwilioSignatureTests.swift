import RelanceCore
import Testing

@Suite("Twilio request signatures")
struct TwilioSignatureTests {
    @Test("HMAC-SHA1 in Base64 (RFC 2202 test case 2, the URL standing for the data)")
    func rfc2202() {
        #expect(
            TwilioSignature.compute(url: "what do ya want for nothing?", fields: [], authToken: "Jefe")
                == "7/zfauXrL6LSdBbV8YTfnCWafHk=")
    }

    @Test("the URL, then the fields sorted by name, each name followed by its value")
    func sortedFields() {
        let fields = [("MessageSid", "SM1"), ("Bb", ""), ("Aa", "")]
        let signature = "iO2m5AXQP9zkvN0FbcZ9Aie70z8="
        #expect(TwilioSignature.compute(url: "https://x/cb?token=1", fields: fields, authToken: "tok") == signature)
        #expect(TwilioSignature.verify(signature, url: "https://x/cb?token=1", fields: fields, authToken: "tok"))
        #expect(!TwilioSignature.verify(signature, url: "https://x/cb?token=2", fields: fields, authToken: "tok"))
        #expect(!TwilioSignature.verify(signature, url: "https://x/cb?token=1", fields: [], authToken: "tok"))
        #expect(!TwilioSignature.verify("", url: "https://x/cb?token=1", fields: fields, authToken: "tok"))
    }
}
