import Foundation
import RelanceCore
import Testing

@testable import RelanceQR

@Suite("QRCode")
struct QRCodeTests {
    static let payment = EPCPayment(
        name: "Red Cross of Belgium", iban: IBAN("BE72000000001616")!, bic: "BPOTBEB1", amount: 1,
        remittance: .unstructured("Urgency fund"), purpose: "CHAR", information: "Sample EPC QR code")

    /// The 7 × 7 finder pattern whose top left corner is (`left`, `top`): a dark ring, a
    /// light ring, a dark 3 × 3 centre, with a light separator outside.
    static func expectFinder(_ code: QRCode, left: Int, top: Int) {
        for dy in -1...7 {
            for dx in -1...7 {
                let ring = max(abs(dx - 3), abs(dy - 3))
                let dark = ring == 3 || ring <= 1
                #expect(code.isDark(x: left + dx, y: top + dy) == dark, "module (\(left + dx), \(top + dy))")
            }
        }
    }

    static func expectStructure(_ code: QRCode) {
        #expect(code.size == 4 * code.version + 17)
        #expect(code.modules.count == code.size * code.size)
        let far = code.size - 7
        expectFinder(code, left: 0, top: 0)
        expectFinder(code, left: far, top: 0)
        expectFinder(code, left: 0, top: far)
        // The corners themselves, dark.
        for (x, y) in [(0, 0), (6, 0), (0, 6), (6, 6), (far, 0), (code.size - 1, 6), (0, far), (6, code.size - 1)] {
            #expect(code.isDark(x: x, y: y))
        }
        // Timing patterns between the finders: dark on even positions.
        for i in 8..<(code.size - 8) {
            #expect(code.isDark(x: i, y: 6) == (i % 2 == 0))
            #expect(code.isDark(x: 6, y: i) == (i % 2 == 0))
        }
        // The dark module next to the bottom left finder.
        #expect(code.isDark(x: 8, y: code.size - 8))
    }

    @Test("The EPC example at level M")
    func epc() throws {
        let payload = try Self.payment.payload()
        let code = try QRCode.encode(Array(payload.utf8), level: .medium)
        Self.expectStructure(code)
        // 106 bytes in byte mode: version 6 at level M holds exactly that many.
        #expect(payload.utf8.count == 106)
        #expect(code.version == 6)
        #expect(code.size == 41)
        #expect(try QRCode.encode(Self.payment) == code)
        #expect(try QRCode.encode(Array(payload.utf8)) == code)
    }

    @Test("Every level", arguments: QRCode.ErrorCorrection.allCases)
    func levels(_ level: QRCode.ErrorCorrection) throws {
        let code = try QRCode.encode(Array("Société Générale Équipement".utf8), level: level)
        Self.expectStructure(code)
        // 32 bytes (the accents take two each): byte-mode capacities of versions 2 to 4.
        let expected: [QRCode.ErrorCorrection: Int] = [.low: 2, .medium: 3, .quartile: 3, .high: 4]
        #expect(code.version == expected[level])
    }

    /// Byte-mode capacities at level M (ISO/IEC 18004, table 7): version 1 holds 14 bytes,
    /// 6 holds 106, 13 holds 331 (the EPC's limit), 40 holds 2331.
    @Test(
        "The version grows with the data",
        arguments: [(1, 1), (14, 1), (15, 2), (106, 6), (107, 7), (331, 13), (332, 14), (2331, 40)])
    func versions(_ count: Int, _ version: Int) throws {
        let code = try QRCode.encode([UInt8](repeating: UInt8(ascii: "a"), count: count))
        Self.expectStructure(code)
        #expect(code.version == version)
    }

    @Test("Bytes that are not text go as they are, NUL included")
    func binary() throws {
        let code = try QRCode.encode([0, 255, 10, 13, 0x80])
        Self.expectStructure(code)
        #expect(code.version == 1)
    }

    @Test("Too long or empty: a typed error that says so")
    func refused() throws {
        let long = try #require(throws: QRCodeError.self) {
            try QRCode.encode([UInt8](repeating: 65, count: 2332), level: .medium)
        }
        #expect(long == .tooLong(bytes: 2332, level: .medium))
        #expect(
            long.description
                == "QR code: 2332 bytes do not fit in a QR code at error correction M (at most 2331 bytes, version 40)")
        #expect(throws: QRCodeError.tooLong(bytes: 1274, level: .high)) {
            try QRCode.encode([UInt8](repeating: 65, count: 1274), level: .high)
        }
        #expect(try QRCode.encode([UInt8](repeating: 65, count: 1273), level: .high).version == 40)
        #expect(throws: QRCodeError.empty) { try QRCode.encode([]) }
        #expect(QRCodeError.empty.description == "QR code: there is nothing to encode (0 bytes)")
    }

    @Test("A payment the EPC refuses makes no code")
    func badPayment() {
        var payment = Self.payment
        payment.name = "Red Cross\nof Belgium"
        #expect(throws: EPCPaymentError.self) { try QRCode.encode(payment) }
    }

    @Test("Outside the symbol is light")
    func quietZone() throws {
        let code = try QRCode.encode(Array("x".utf8))
        for (x, y) in [(-1, 0), (0, -1), (code.size, 0), (0, code.size), (-4, -4), (code.size + 3, code.size + 3)] {
            #expect(!code.isDark(x: x, y: y))
        }
    }
}
