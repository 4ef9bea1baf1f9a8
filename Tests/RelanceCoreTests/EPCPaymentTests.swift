import Foundation
import Testing

@testable import RelanceCore

@Suite("EPCPayment")
struct EPCPaymentTests {
    static let iban = IBAN("BE72000000001616")!

    /// The example of EPC069-12 (Belgian Red Cross), in version 002.
    static let redCross = EPCPayment(
        name: "Red Cross of Belgium", iban: iban, bic: "BPOTBEB1", amount: 1, remittance: .unstructured("Urgency fund"),
        purpose: "CHAR", information: "Sample EPC QR code")

    @Test("The EPC069-12 example")
    func example() throws {
        // The document writes the amount `EUR1`; we always write two decimals, which the
        // standard equally allows ("EUR" then at most two decimals).
        let expected = [
            "BCD", "002", "1", "SCT", "BPOTBEB1", "Red Cross of Belgium", "BE72000000001616", "EUR1.00", "CHAR", "",
            "Urgency fund", "Sample EPC QR code",
        ].joined(separator: "\n")
        #expect(try Self.redCross.payload() == expected)
    }

    @Test(
        "Payloads",
        arguments: [
            // Only what is required: the lines after the amount are left out.
            (
                EPCPayment(name: "ACME SARL", iban: iban, amount: Decimal(string: "12.3")!),
                "BCD\n002\n1\nSCT\n\nACME SARL\nBE72000000001616\nEUR12.30"
            ),
            // A creditor reference: field 10, field 11 empty, nothing after it.
            (
                EPCPayment(
                    name: "ACME SARL", iban: iban, bic: "GEBABEBB", amount: Decimal(string: "1250.5")!,
                    remittance: .structured(RFReference("RF18 5390 0754 7034")!)),
                "BCD\n002\n1\nSCT\nGEBABEBB\nACME SARL\nBE72000000001616\nEUR1250.50\n\nRF18539007547034"
            ),
            // Information alone keeps the empty lines before it.
            (
                EPCPayment(name: "ACME", iban: iban, amount: Decimal(string: "0.01")!, information: "Merci"),
                "BCD\n002\n1\nSCT\n\nACME\nBE72000000001616\nEUR0.01\n\n\n\nMerci"
            ),
            // The largest amount, an 11-character BIC, UTF-8 text as it is.
            (
                EPCPayment(
                    name: "Société Générale Équipement", iban: iban, bic: "BPOTBEB1XXX",
                    amount: Decimal(string: "999999999.99")!,
                    remittance: .unstructured("Facture n° F-2026-0042 — échéance"),
                    purpose: "GDDS"),
                "BCD\n002\n1\nSCT\nBPOTBEB1XXX\nSociété Générale Équipement\nBE72000000001616\nEUR999999999.99\nGDDS\n\n"
                    + "Facture n° F-2026-0042 — échéance"
            ),
            (
                EPCPayment(name: "A", iban: iban, amount: Decimal(string: "42.10")!),
                "BCD\n002\n1\nSCT\n\nA\nBE72000000001616\nEUR42.10"
            ),
        ])
    func payloads(_ payment: EPCPayment, _ expected: String) throws {
        #expect(try payment.payload() == expected)
    }

    @Test("Lengths at the limit are accepted")
    func limits() throws {
        var payment = Self.redCross
        payment.name = String(repeating: "é", count: 70)  // 70 characters, 140 bytes
        payment.remittance = .unstructured(String(repeating: "x", count: 140))
        payment.information = nil
        payment.purpose = nil
        #expect(try payment.payload().utf8.count == 331)
        payment.information = String(repeating: "i", count: 70)
        #expect(throws: EPCPaymentError.self) { try payment.payload() }
    }

    static func changed(_ change: (inout EPCPayment) -> Void) -> EPCPayment {
        var payment = redCross
        change(&payment)
        return payment
    }

    @Test(
        "Each bad field is refused, with what and why",
        arguments: [
            (changed { $0.name = "" }, EPCPaymentError.Field.name, "empty"),
            (changed { $0.name = "   " }, .name, "empty"),
            (changed { $0.name = String(repeating: "n", count: 71) }, .name, "71 characters, over the 70"),
            // A decomposed é counts two characters (e + U+0301).
            (changed { $0.name = String(repeating: "e\u{301}", count: 36) }, .name, "72 characters"),
            (changed { $0.name = "Red Cross\nBE00" }, .name, "a line break (U+000A) at character 10"),
            (changed { $0.name = "Red Cross\r" }, .name, "a line break (U+000D)"),
            (changed { $0.name = "Red\u{2028}Cross" }, .name, "a line break (U+2028)"),
            (changed { $0.name = "Red\u{7}Cross" }, .name, "a control character (U+0007)"),
            (changed { $0.name = "Red\u{85}Cross" }, .name, "a line break (U+0085)"),
            (changed { $0.name = "Red\u{E000}" }, .name, "U+E000"),
            (changed { $0.bic = "BPOTBEB" }, .bic, "7 characters, not 8 or 11"),
            (changed { $0.bic = "BPOTBEB1XX" }, .bic, "10 characters"),
            (changed { $0.bic = "bpotbeb1" }, .bic, "upper-case"),
            (changed { $0.bic = "BP0TBEB1" }, .bic, "ISO 9362"),
            (changed { $0.bic = "BPOTBEB1\n" }, .bic, "9 characters"),
            (changed { $0.bic = "" }, .bic, "0 characters"),
            (changed { $0.amount = 0 }, .amount, "outside the EPC's range"),
            (changed { $0.amount = -5 }, .amount, "outside"),
            (changed { $0.amount = Decimal(string: "0.009")! }, .amount, "outside"),
            (changed { $0.amount = Decimal(string: "1000000000")! }, .amount, "outside"),
            (changed { $0.amount = Decimal(string: "12.345")! }, .amount, "more than two decimals"),
            (changed { $0.purpose = "char" }, .purpose, "four upper-case letters"),
            (changed { $0.purpose = "CHA" }, .purpose, "ISO 20022"),
            (changed { $0.purpose = "CHARS" }, .purpose, "ISO 20022"),
            (changed { $0.purpose = "CH4R" }, .purpose, "ISO 20022"),
            (changed { $0.purpose = "" }, .purpose, "ISO 20022"),
            (changed { $0.remittance = .unstructured("") }, .remittance, "the remittance text is empty"),
            (
                changed { $0.remittance = .unstructured(String(repeating: "r", count: 141)) }, .remittance,
                "141 characters"
            ),
            (changed { $0.remittance = .unstructured("Invoice\t42") }, .remittance, "control character (U+0009)"),
            (changed { $0.remittance = .unstructured("Invoice\r\n42") }, .remittance, "line break"),
            (changed { $0.information = "" }, .information, "empty"),
            (changed { $0.information = String(repeating: "i", count: 71) }, .information, "71 characters"),
            (changed { $0.information = "Thanks\u{0}" }, .information, "control character (U+0000)"),
            (changed { $0.information = "Thanks\u{7F}" }, .information, "control character (U+007F)"),
            (
                changed {
                    $0.name = String(repeating: "€", count: 70)
                    $0.remittance = .unstructured(String(repeating: "é", count: 140))
                },
                .payload, "bytes in UTF-8, over the 331"
            ),
        ])
    func refused(_ payment: EPCPayment, _ field: EPCPaymentError.Field, _ fragment: String) {
        do throws(EPCPaymentError) {
            let payload = try payment.payload()
            Issue.record("accepted: \(payload.debugDescription)")
        } catch {
            #expect(error.field == field)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.description.hasPrefix("EPC QR code: "))
        }
    }

    @Test("A refused field is named in the message")
    func messages() throws {
        let error = try #require(throws: EPCPaymentError.self) {
            try Self.changed { $0.bic = "bpotbeb1" }.payload()
        }
        #expect(error.message.contains("\"bpotbeb1\""))
        let amount = try #require(throws: EPCPaymentError.self) {
            try Self.changed { $0.amount = Decimal(string: "12.345")! }.payload()
        }
        #expect(amount.message == "the amount 12.345 EUR has more than two decimals (cents)")
    }
}
