import Testing

@testable import RelanceCore

/// A 64-character local part, "@", and a domain of exactly `domainLength` characters
/// (labels of 63, 63 and the rest, then ".fr"), for the 254-character limit.
private func address(domainLength: Int) -> String {
    let third = domainLength - 63 - 1 - 63 - 1 - 3
    let domain =
        String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "."
        + String(repeating: "c", count: third) + ".fr"
    return String(repeating: "l", count: 64) + "@" + domain
}

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test(
        "accepts ordinary addresses",
        arguments: [
            "jean.dupont@example.fr",
            "billing+relance@acme.fr",
            "o'brien@acme.co.uk",
            "a@mail.eu.acme.example.com",
            "compta@xn--caf-dma.fr",
            "josé@café.fr",
            "müller@bücher.de",
            "ops-2026@a-b.example",
            String(repeating: "a", count: 64) + "@example.fr",
        ])
    func valid(_ raw: String) throws {
        let address = try EmailAddress(raw)
        #expect(address.value == raw)
        #expect(address.description == raw)
        #expect(String(address.localPart) + "@" + String(address.domain) == raw)
    }

    @Test("an address of exactly 254 characters is accepted")
    func longestAccepted() throws {
        let raw = address(domainLength: 189)
        #expect(raw.utf8.count == 254)
        #expect(address(domainLength: 190).utf8.count == 255)
        #expect(try EmailAddress(raw).value == raw)
    }

    @Test("surrounding spaces are trimmed")
    func trimmed() throws {
        let address = try EmailAddress("  jean@example.fr ")
        #expect(address.value == "jean@example.fr")
        #expect(address.localPart == "jean")
        #expect(address.domain == "example.fr")
    }

    @Test(
        "refuses malformed addresses with the reason",
        arguments: [
            ("", "empty"),
            ("   ", "empty"),
            ("jean.example.fr", "missing '@'"),
            ("@example.fr", "empty local part"),
            ("jean..dupont@example.fr", "misplaced '.' in the local part"),
            (".jean@example.fr", "misplaced '.' in the local part"),
            ("jean.@example.fr", "misplaced '.' in the local part"),
            ("jean dupont@example.fr", "contains a space or a control character"),
            ("jean@example.fr\r\nBcc: x@y.z", "contains a space or a control character"),
            ("a@b.fr\r\nBcc: x@y.z", "contains a space or a control character"),
            ("jean@exa\tmple.fr", "contains a space or a control character"),
            ("jean\u{0}@example.fr", "contains a space or a control character"),
            ("jean\u{2028}@example.fr", "contains a space or a control character"),
            (String(repeating: "a", count: 65) + "@example.fr", "local part longer than 64 characters"),
            (address(domainLength: 190), "longer than 254 characters"),
            ("jean@-acme.fr", "invalid domain label '-acme'"),
            ("jean@acme-.fr", "invalid domain label 'acme-'"),
            ("jean@ac_me.fr", "invalid domain label 'ac_me'"),
            ("jean@[192.168.0.1]", "invalid domain label '[192'"),
            ("jean@acme.123", "top-level domain is numeric"),
            ("jean@localhost", "domain 'localhost' has no dot"),
            ("jean@acme..fr", "empty label in domain 'acme..fr'"),
            ("jean@.acme.fr", "empty label in domain '.acme.fr'"),
            ("jean@" + String(repeating: "d", count: 64) + ".fr", "domain label longer than 63 characters"),
            ("\"jean dupont\"@example.fr", "contains a space or a control character"),
            ("jean<x>@example.fr", "character '<' not allowed in the local part"),
            ("jean,paul@example.fr", "character ',' not allowed in the local part"),
        ])
    func invalid(_ raw: String, _ reason: String) {
        #expect {
            try EmailAddress(raw)
        } throws: { error in
            guard let invalid = error as? EmailAddress.Invalid else { return false }
            return invalid.reason == reason && invalid.address == raw
        }
    }

    @Test("the error message shows control characters instead of breaking the log line")
    func errorMessageIsOneLine() throws {
        let error = try #require(throws: EmailAddress.Invalid.self) { try EmailAddress("a@b.fr\r\nBcc: x@y.z") }
        #expect(
            error.description
                == #"invalid e-mail address "a@b.fr\r\nBcc: x@y.z": contains a space or a control character"#)
        #expect(!error.description.contains("\n"))
        #expect(!error.description.contains("\r"))
    }

    @Test("the byte-wise check for ASCII addresses agrees with the full rules, on 20,000 random ones")
    func asciiFastPath() {
        // Short pieces that hit each rule: dots, dashes, digits in the TLD, '@' twice,
        // spaces, control characters, non-ASCII, long labels.
        let pieces = [
            "a", "Z", "9", ".", "..", "-", "@", "_", "+", "!", "(", " ", "\t", "\r\n", "é", "fr", "com", "x1",
            String(repeating: "l", count: 40), String(repeating: "d", count: 63), "\u{7F}", "\"", "[",
        ]
        var state: UInt64 = 20_261_204
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var accepted = 0
        for _ in 0..<20_000 {
            var raw = ""
            for _ in 0..<(1 + next(4)) { raw += pieces[next(pieces.count)] }
            raw += next(8) == 0 ? "" : "@"
            raw += pieces[next(pieces.count)]
            for _ in 0..<(1 + next(2)) { raw += (next(6) == 0 ? "" : ".") + pieces[next(pieces.count)] }
            let full = (try? EmailAddress(validating: raw))?.value
            if EmailAddress.isValidASCII(raw) {
                #expect(full == raw, "\(raw.debugDescription)")
                accepted += 1
            } else if raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                #expect(full == nil, "\(raw.debugDescription)")
            }
        }
        #expect(accepted > 100, "\(accepted)")
    }
}
