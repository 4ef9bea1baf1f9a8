import RelanceCore
import Testing

@testable import RelanceQR

@Suite("PNGImage")
struct PNGImageTests {
    /// Reads `png` back and compares every pixel with the module it shows.
    static func expectPixels(_ png: [UInt8], of code: QRCode, scale: Int, quietZone: Int) throws {
        let image = try PNGReader(png)
        let side = (code.size + 2 * quietZone) * scale
        #expect(image.width == side)
        #expect(image.height == side)
        #expect(image.chunks == ["IHDR", "IDAT", "IEND"])
        var wrong = 0
        for y in 0..<side {
            for x in 0..<side {
                let dark = code.isDark(x: x / scale - quietZone, y: y / scale - quietZone)
                if image.white[y * side + x] == dark { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(wrong) pixels differ from their module")
    }

    @Test("The EPC example, read back pixel by pixel", arguments: [(1, 0), (1, 4), (3, 4), (4, 2), (8, 4)])
    func epc(_ scale: Int, _ quietZone: Int) throws {
        let code = try QRCode.encode(QRCodeTests.payment)
        let png = PNGImage.encode(code, scale: scale, quietZone: quietZone)
        try Self.expectPixels(png, of: code, scale: scale, quietZone: quietZone)
    }

    @Test("The quiet zone is 4 modules unless told")
    func defaultQuietZone() throws {
        let code = try QRCode.encode(Array("relance".utf8))
        let image = try PNGReader(PNGImage.encode(code, scale: 2))
        #expect(image.width == (code.size + 8) * 2)
        #expect(image.white[0..<(8 * image.width)].allSatisfy { $0 })
    }

    @Test("Widths that are not a multiple of 8, on a matrix drawn by hand")
    func handDrawn() throws {
        // A 3 × 3 checkerboard: 3 × (3 + 2) = 15 pixels a row, two bytes with one bit of padding.
        let code = QRCode(version: 0, size: 3, modules: (0..<9).map { $0 % 2 == 0 })
        for (scale, quietZone) in [(1, 0), (3, 1), (5, 0), (1, 2)] {
            try Self.expectPixels(
                PNGImage.encode(code, scale: scale, quietZone: quietZone), of: code, scale: scale, quietZone: quietZone)
        }
        // Scale 1, no quiet zone: the bits themselves, white set. 1 0 1 / 0 1 0 / 1 0 1 dark.
        let png = PNGImage.encode(code, scale: 1, quietZone: 0)
        let raw = try PNGReader.inflateStored(Self.idat(png))
        #expect(raw == [0, 0b0100_0000, 0, 0b1010_0000, 0, 0b0100_0000])
    }

    @Test("A large picture spans several stored blocks")
    func largePicture() throws {
        let code = try QRCode.encode([UInt8](repeating: 0x41, count: 2331))
        #expect(code.size == 177)
        let png = PNGImage.encode(code, scale: 8)
        // (177 + 8) × 8 = 1480 pixels a side, 186 bytes a row with the filter byte: 275,280 bytes, 5 blocks.
        let stream = Self.idat(png)
        #expect(stream.count == 2 + 275_280 + 5 * 5 + 4)
        try Self.expectPixels(png, of: code, scale: 8, quietZone: 4)
    }

    @Test("The file's fixed parts")
    func layout() throws {
        let code = try QRCode.encode(Array("x".utf8))
        let png = PNGImage.encode(code, scale: 1, quietZone: 0)
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: length 13, 21 × 21, bit depth 1, grayscale, deflate, filter 0, no interlace.
        let header: [UInt8] = [0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 21, 0, 0, 0, 21, 1, 0, 0, 0, 0]
        #expect(Array(png[8..<29]) == header)
        // IEND is always the same 12 bytes.
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    @Test(
        "CRC-32 against known vectors",
        arguments: [
            ("", 0x0000_0000 as UInt32),
            ("123456789", 0xCBF4_3926),
            ("IEND", 0xAE42_6082),
            ("The quick brown fox jumps over the lazy dog", 0x414F_A339),
        ])
    func crc(_ text: String, _ expected: UInt32) {
        #expect(PNGImage.crc32(Array(text.utf8)) == expected)
        #expect(PNGReader.crc32(Array(text.utf8)) == expected)
    }

    @Test(
        "Adler-32 against known vectors",
        arguments: [
            ("", 0x0000_0001 as UInt32),
            ("a", 0x0062_0062),
            ("Wikipedia", 0x11E6_0398),
            ("123456789", 0x091E_01DE),
        ])
    func adler(_ text: String, _ expected: UInt32) {
        #expect(PNGImage.adler32(Array(text.utf8)) == expected)
        #expect(PNGReader.adler32(Array(text.utf8)) == expected)
    }

    @Test("Adler-32 on long input, where the sums are reduced on the way")
    func adlerLong() {
        for count in [5551, 5552, 5553, 100_000] {
            let bytes = [UInt8](repeating: 0xFF, count: count)
            #expect(PNGImage.adler32(bytes) == PNGReader.adler32(bytes), "\(count) bytes")
        }
        let mixed = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        #expect(PNGImage.adler32(mixed) == PNGReader.adler32(mixed))
    }

    /// The IDAT chunks' data, end to end.
    static func idat(_ png: [UInt8]) -> [UInt8] {
        var at = 8
        var out: [UInt8] = []
        while at < png.count {
            let length = Int(PNGReader.bigEndian(png, at))
            if png[(at + 4)..<(at + 8)].elementsEqual("IDAT".utf8) { out += png[(at + 8)..<(at + 8 + length)] }
            at += 12 + length
        }
        return out
    }
}
