import RelanceCore
import Testing

@Suite("Enqueue requests: field checks")
struct EnqueueRequestTests {
    func request(caseRef: String) -> JSONValue {
        [
            "payer_ref": "P-1", "channel": "email", "template": "reminder-1", "case_ref": .string(caseRef),
            "data": ["n": 1],
        ]
    }

    @Test(
        "a line break or NUL in a reference is refused, whatever its encoding; other text is kept",
        arguments: [
            ("FA-2026-0142", true), ("Société Générale", true), ("FA\n1", false), ("FA\r1", false),
            ("FA\u{0B}1", false), ("FA\u{0C}1", false), ("FA\u{85}1", false), ("FA\u{2028}1", false),
            ("FA\u{2029}1", false), ("FA\u{0}1", false), ("🙂 x", true),
        ])
    func lineBreaks(caseRef: String, accepted: Bool) {
        switch EnqueueRequest.parse(request(caseRef: caseRef)) {
        case .success(let parsed):
            #expect(accepted)
            #expect(parsed.job.caseRef == caseRef)
        case .failure(let errors):
            #expect(!accepted)
            #expect(errors.errors.map(\.pointer) == ["/case_ref"])
        }
    }

    @Test("length is counted in characters: 200 accented letters pass, 201 do not")
    func length() {
        let fits = String(repeating: "é", count: 200)
        #expect((try? EnqueueRequest.parse(request(caseRef: fits)).get()) != nil)
        let over = String(repeating: "é", count: 201)
        #expect((try? EnqueueRequest.parse(request(caseRef: over)).get()) == nil)
    }

    @Test("unknown fields are each named, in order")
    func unknownFields() {
        guard case .object(var fields) = request(caseRef: "C") else { return }
        fields["zeta"] = 1
        fields["alpha"] = 2
        guard case .failure(let errors) = EnqueueRequest.parse(.object(fields)) else {
            Issue.record("accepted")
            return
        }
        #expect(errors.errors.map(\.pointer) == ["/alpha", "/zeta"])
    }
}
