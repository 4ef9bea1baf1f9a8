import Foundation
import Testing

@testable import RelanceCore

@Suite("ISO 11649 creditor references and IBANs")
struct PaymentReferenceTests {
    @Test(
        "the standard's examples read, written as people and banks write them",
        arguments: [
            ("RF18 5390 0754 7034", "RF18539007547034"), ("RF18539007547034", "RF18539007547034"),
            ("rf18 5390 0754 7034", "RF18539007547034"), ("RF45G72UUR", "RF45G72UUR"), ("RF712348231", "RF712348231"),
            ("RF45 g72u ur", "RF45G72UUR"),
        ])
    func reads(written: String, stored: String) throws {
        #expect(try #require(RFReference(written)).text == stored)
    }

    @Test("the check digits are computed from the body")
    func builds() throws {
        #expect(RFReference(body: "539007547034")?.text == "RF18539007547034")
        #expect(RFReference(body: "G72UUR")?.text == "RF45G72UUR")
        #expect(RFReference(body: "2348231")?.grouped == "RF71 2348 231")
        #expect(RFReference(body: "") == nil)
        #expect(RFReference(body: String(repeating: "9", count: 22)) == nil)
        #expect(RFReference(body: "F-1") == nil)
        #expect(try #require(RFReference(body: String(repeating: "Z", count: 21))).text.count == 25)
    }

    @Test(
        "not references",
        arguments: [
            "", "RF", "RF18", "RF1853900754703", "RF19539007547034", "XX18539007547034", "RF1A539007547034",
            "RF18-5390-0754-7034", "RF18 5390 0754 7034 0000 0000 0000 0", "RF18\u{0}539007547034", "RF18５３９００７５４７０３４",
        ])
    func refuses(written: String) {
        #expect(RFReference(written) == nil)
    }

    /// MOD 97-10 catches every change of a digit for a digit or a letter for a letter, and
    /// every swap of two neighbours of the same kind; a letter for a digit changes the
    /// number's length and is caught 96 times in 97 (measured here, not guaranteed).
    @Test("a character changed or two neighbours swapped break the check (1,000 random references)")
    func everyChangeIsCaught() throws {
        var random = SystemRandomNumberGenerator()
        let digits = Array("0123456789")
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var mixed = (tried: 0, caught: 0)
        for _ in 0..<1000 {
            let length = Int.random(in: 1...21, using: &random)
            let body = String((0..<length).map { _ in (digits + letters).randomElement(using: &random)! })
            let reference = try #require(RFReference(body: body))
            let chars = Array(reference.text)
            for at in 2..<chars.count {
                let kind = chars[at].isNumber ? digits : letters
                var changed = chars
                changed[at] = kind.filter { $0 != chars[at] }.randomElement(using: &random)!
                #expect(RFReference(String(changed)) == nil, "\(reference.text) → \(String(changed))")
                if at >= 4 {
                    changed[at] = (chars[at].isNumber ? letters : digits).randomElement(using: &random)!
                    mixed.tried += 1
                    if RFReference(String(changed)) == nil { mixed.caught += 1 }
                }
                if at >= 4, at + 1 < chars.count, chars[at] != chars[at + 1],
                    chars[at].isNumber == chars[at + 1].isNumber
                {
                    var swapped = chars
                    swapped.swapAt(at, at + 1)
                    #expect(RFReference(String(swapped)) == nil, "\(reference.text) → \(String(swapped))")
                }
            }
        }
        #expect(Double(mixed.caught) / Double(mixed.tried) > 0.95, "\(mixed)")
    }

    @Test("an invoice number gives a readable body when it can, a digest otherwise")
    func invoiceCandidates() throws {
        let plain = RFReference.candidates(forInvoice: "F-2026-0042")
        #expect(plain.map(\.body) == ["F20260042", plain[1].body])
        #expect(plain[1].body.count == 21)
        #expect(RFReference.candidates(forInvoice: "f2026/0042")[0].body == "F20260042")
        // Too long, or nothing to keep: the digest alone, stable.
        let long = RFReference.candidates(forInvoice: "INV-2026-000000000000000042")
        #expect(long.count == 1 && long[0].body.count == 21)
        #expect(long == RFReference.candidates(forInvoice: "INV-2026-000000000000000042"))
        #expect(RFReference.candidates(forInvoice: "---").count == 1)
        #expect(RFReference.candidates(forInvoice: "Ré-1")[0].body == "R1")
        // Two numbers with the same letters and digits share the first form, never the second.
        #expect(
            RFReference.candidates(forInvoice: "F-1")[0] == RFReference.candidates(forInvoice: "F1")[0]
                && RFReference.candidates(forInvoice: "F-1")[1] != RFReference.candidates(forInvoice: "F1")[1])
    }

    @Test("references are found in what a payer typed")
    func findsInText() {
        #expect(RFReference.find(in: "Facture RF18 5390 0754 7034 merci").map(\.text) == ["RF18539007547034"])
        #expect(RFReference.find(in: "ref:rf18539007547034/F-1").map(\.text) == ["RF18539007547034"])
        #expect(RFReference.find(in: "RF19 5390 0754 7034").isEmpty)
        #expect(RFReference.find(in: "XRF18539007547034").isEmpty)
        #expect(RFReference.find(in: "RF45G72UUR RF18539007547034").map(\.text) == ["RF45G72UUR", "RF18539007547034"])
        #expect(RFReference.find(in: "").isEmpty)
        // Words after a reference could extend it: every prefix that ends a group and checks.
        let typed = RFReference.find(in: "RF69 F202 6004 2 CLIENT").map(\.text)
        #expect(typed.contains("RF69F20260042"), "\(typed)")
        #expect(RFReference.find(in: "Reglement RF69 F202 6004 2").map(\.text) == ["RF69F20260042"])
        #expect(RFReference.find(in: "RF").isEmpty)
    }

    @Test(
        "IBANs from the register's examples",
        arguments: [
            "GB82 WEST 1234 5698 7654 32", "FR76 3000 6000 0112 3456 7890 189", "DE89370400440532013000",
            "be71096123456769", "NL91ABNA0417164300",
        ])
    func ibans(written: String) throws {
        let iban = try #require(IBAN(written))
        #expect(!iban.text.contains(" ") && iban.text == iban.text.uppercased())
        #expect(IBAN.problem(written) == nil)
    }

    @Test(
        "not IBANs, each with its reason",
        arguments: [
            ("GB82WEST12345698765433", "check digits"), ("FR763000600001123456789018", "27 characters"),
            ("1234", "15 to 34"), ("GBXXWEST12345698765432", "country code"),
            ("GB82WEST1234569876543-", "letters and digits"),
            ("XX82WEST1", "15 to 34"),
        ])
    func notIBANs(written: String, reason: String) throws {
        #expect(IBAN(written) == nil)
        #expect(try #require(IBAN.problem(written)).contains(reason))
    }
}

@Suite("Pay links")
struct PayLinkTests {
    static let secret = "0123456789abcdef-secret"

    @Test("the link names the case and a token carrying the amount that only the secret verifies")
    func roundTrip() throws {
        let link = try PayLink(template: "https://pay.example/{case}?t={token}&c={currency}", secret: Self.secret)
        let url = link.url(caseRef: "FA/2026 01", amount: Decimal(string: "1250.5")!, currency: "EUR")
        #expect(url.hasPrefix("https://pay.example/FA%2F2026%2001?t=1250.50EUR.") && url.hasSuffix("&c=EUR"))
        let token = link.token(caseRef: "FA/2026 01", amount: Decimal(string: "1250.5")!, currency: "EUR")
        #expect(link.verify(token: token, caseRef: "FA/2026 01")?.amount == Decimal(string: "1250.50"))
        #expect(link.verify(token: token, caseRef: "FA/2026 02") == nil)
        #expect(
            link.verify(token: token.replacingOccurrences(of: "1250.50", with: "1.00"), caseRef: "FA/2026 01") == nil)
        #expect(link.verify(token: "garbage", caseRef: "FA/2026 01") == nil)
        let other = try PayLink(template: "https://pay.example/{case}?t={token}", secret: Self.secret + "x")
        #expect(other.verify(token: token, caseRef: "FA/2026 01") == nil)
    }

    @Test(
        "templates refused, each with why",
        arguments: [
            ("http://pay.example/{case}?t={token}", "https://"),
            ("http://localhost.evil.example/{case}?t={token}", "https://"),
            ("https:///{case}?t={token}", "host"),
            ("https://user:pw@pay.example/{case}?t={token}", "user name"),
            ("https://{case}.pay.example/?t={token}", "placeholder in its host"),
            ("https://pay.example/{case}?t={tok}", "{case} and {token}"),
            ("https://pay.example/{case}", "{case} and {token}"),
            ("https://pay.example/{case}?t={token}&x={other}", "placeholders"),
            ("https://pay.example/{case} ?t={token}", "not allowed in a URL"),
        ])
    func refused(template: String, why: String) {
        #expect(throws: FieldError.self) { try PayLink(template: template, secret: Self.secret) }
        do { _ = try PayLink(template: template, secret: Self.secret) } catch {
            #expect(error.message.contains(why), "\(template): \(error.message)")
        }
    }

    @Test("http is for this machine only; the secret must be 16 bytes besides white space")
    func local() throws {
        _ = try PayLink(template: "http://localhost:8080/{case}?t={token}", secret: Self.secret)
        _ = try PayLink(template: "http://127.0.0.1/{case}?t={token}", secret: Self.secret)
        #expect(throws: FieldError.self) {
            try PayLink(template: "https://pay.example/{case}?t={token}", secret: String(repeating: " ", count: 20))
        }
    }
}
