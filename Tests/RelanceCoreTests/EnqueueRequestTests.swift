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
        "a line break, NUL, other control character or non-NFC text in a reference is refused; other text is kept",
        arguments: [
            ("FA-2026-0142", true), ("Société Générale", true), ("FA\n1", false), ("FA\r1", false),
            ("FA\u{0B}1", false), ("FA\u{0C}1", false), ("FA\u{85}1", false), ("FA\u{2028}1", false),
            ("FA\u{2029}1", false), ("FA\u{0}1", false), ("🙂 x", true), ("FA\t1", false), ("FA\u{7F}1", false),
            ("cafe\u{301}", false), ("caf\u{E9}", true),
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

    @Test(
        "null is refused where the contract has no nullable field, naming each",
        arguments: [
            "priority", "idempotency_key", "case_ref", "run_at", "payer",
        ])
    func nulls(field: String) {
        var body = request(caseRef: "C-1")
        if case .object(var o) = body {
            o[field] = .null
            body = .object(o)
        }
        guard case .failure(let errors) = EnqueueRequest.parse(body) else {
            Issue.record("null \(field) accepted")
            return
        }
        #expect(errors.errors.map(\.pointer) == ["/\(field)"])
        #expect(errors.errors.first?.message == "must not be null (leave the field out)")
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

    @Test("an empty idempotency key is refused (an unset variable would make every later job a duplicate)")
    func emptyIdempotencyKey() {
        guard case .object(var fields) = request(caseRef: "C") else { return }
        fields["idempotency_key"] = ""
        guard case .failure(let errors) = EnqueueRequest.parse(.object(fields)) else {
            Issue.record("accepted")
            return
        }
        #expect(errors.errors.map(\.pointer) == ["/idempotency_key"])
    }

    @Test(
        "a national number of a payer whose locale has no region is read with sms.default_country",
        arguments: [
            ("fr", nil, nil), ("fr", "FR", "+33612345678"), ("fr-FR", nil, "+33612345678"),
            ("en-GB", "FR", "+44612345678"),  // the locale's region wins over the default
        ] as [(String, String?, String?)])
    func defaultCountry(locale: String, country: String?, stored: String?) {
        let payer: JSONValue = [
            "ref": "P", "name": "Plomberie Dupont", "locale": .string(locale), "phone": "06 12 34 56 78",
            "channels": ["sms"],
        ]
        switch EnqueueRequest.parsePayer(payer, pointer: "", defaultCountry: country) {
        case .success(let parsed):
            #expect(parsed.phone == stored)
        case .failure(let errors):
            #expect(stored == nil)
            #expect(errors.errors.map(\.pointer) == ["/phone"])
        }
    }
}
