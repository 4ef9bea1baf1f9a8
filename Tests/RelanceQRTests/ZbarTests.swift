import Foundation
import RelanceCore
import Testing

@testable import RelanceQR

/// The PNG read by another decoder: zbar's `zbarimg` (package zbar-tools, which
/// `make test` installs). Missing, it fails the test rather than skipping it.
///
/// zbar guesses the character set of byte-mode QR data, and takes UTF-8 accents for
/// Shift-JIS (`é` comes out as `ｃｩ`) even with `--raw`; `-Sbinary` gives the bytes as
/// they are, without a line break after them. `--nodbus` keeps it off the system bus.
@Suite("zbarimg reads the PNG back")
struct ZbarTests {
    static let zbarimg = "/usr/bin/zbarimg"

    static func decode(_ png: [UInt8]) throws -> [UInt8] {
        try #require(
            FileManager.default.isExecutableFile(atPath: zbarimg),
            "\(zbarimg) is missing: install zbar-tools (make deps-test-system)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relance-qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("code.png")
        try Data(png).write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: zbarimg)
        process.arguments = ["--raw", "-q", "--nodbus", "-Sbinary", file.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "zbarimg: \(String(decoding: complaint, as: UTF8.self))")
        return Array(bytes)
    }

    @Test(
        "A UTF-8 payload comes back byte for byte",
        arguments: [
            EPCPayment(
                name: "Société Générale Équipement", iban: IBAN("FR76 3000 6000 0112 3456 7890 189")!, bic: "AGRIFRPP",
                amount: Decimal(string: "1250.50")!,
                remittance: .unstructured("Facture F-2026-0042 — échéance du 15 août"),
                information: "Merci de votre règlement"),
            QRCodeTests.payment,
            EPCPayment(
                name: "ACME", iban: IBAN("BE72000000001616")!, amount: Decimal(string: "12.30")!,
                remittance: .structured(RFReference("RF18539007547034")!)),
        ])
    func roundTrip(_ payment: EPCPayment) throws {
        let payload = try payment.payload()
        let code = try QRCode.encode(payment)
        let decoded = try Self.decode(PNGImage.encode(code, scale: 4))
        #expect(String(decoding: decoded, as: UTF8.self) == payload)
        #expect(decoded == Array(payload.utf8))
    }

    @Test("The longest payload the EPC allows, at the smallest scale")
    func longest() throws {
        var payment = QRCodeTests.payment
        payment.name = String(repeating: "é", count: 70)
        payment.remittance = .unstructured(String(repeating: "x", count: 140))
        payment.information = nil
        payment.purpose = nil
        let payload = try payment.payload()
        #expect(payload.utf8.count == EPCPayment.maxPayloadBytes)
        let code = try QRCode.encode(payment)
        #expect(code.version == 13)
        for scale in [2, 3] {
            #expect(try Self.decode(PNGImage.encode(code, scale: scale)) == Array(payload.utf8), "scale \(scale)")
        }
    }
}
