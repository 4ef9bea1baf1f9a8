/// A QR code as a PNG file (ISO/IEC 15948), written here without a library: 1-bit
/// grayscale, one pixel per bit, black modules on white, the image data in stored
/// (uncompressed) deflate blocks. A QR code's picture is small (a 53-module symbol at scale
/// 4 with its quiet zone is 244 × 244 pixels: 7.6 kB), so compression is not worth zlib.
public enum PNGImage {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `code` with `scale` pixels per module and `quietZone` light modules around it (the
    /// standard asks for 4). `scale` is at least 1, `quietZone` at least 0.
    public static func encode(_ code: QRCode, scale: Int, quietZone: Int = 4) -> [UInt8] {
        precondition(scale >= 1, "a PNG of a QR code has at least one pixel per module")
        precondition(quietZone >= 0, "the quiet zone is not negative")
        let modules = code.size + 2 * quietZone
        let width = modules * scale
        precondition(width <= 1 << 20, "a QR code picture is at most 2^20 pixels wide")
        let rowBytes = (width + 7) / 8

        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(width))
        // Bit depth 1, colour type 0 (grayscale), deflate, adaptive filters, no interlace.
        header += [1, 0, 0, 0, 0]

        var raw: [UInt8] = []
        raw.reserveCapacity(width * (rowBytes + 1))
        var row = [UInt8](repeating: 0, count: rowBytes)
        for moduleY in 0..<modules {
            // One row of pixels per row of modules, repeated `scale` times. A set bit is white.
            for i in row.indices { row[i] = 0 }
            for x in 0..<width where !code.isDark(x: x / scale - quietZone, y: moduleY - quietZone) {
                row[x / 8] |= 0x80 >> UInt8(x % 8)
            }
            for _ in 0..<scale {
                raw.append(0)  // filter type None
                raw += row
            }
        }

        var png = signature
        png.appendChunk("IHDR", header)
        png.appendChunk("IDAT", zlibStored(raw))
        png.appendChunk("IEND", [])
        return png
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, section 3.2.4).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        // CMF 0x78: deflate, 32 KiB window; FLG 0x01: no dictionary, check bits so that
        // CMF × 256 + FLG is a multiple of 31.
        var out: [UInt8] = [0x78, 0x01]
        out.reserveCapacity(data.count + data.count / 65535 * 5 + 11)
        var start = 0
        repeat {
            let end = min(start + 65535, data.count)
            let length = UInt16(end - start)
            out.append(end == data.count ? 1 : 0)  // BFINAL, BTYPE 00 (stored)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            out += data[start..<end]
            start = end
        } while start < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    /// Adler-32 (RFC 1950, section 8.2).
    static func adler32(_ data: some Collection<UInt8>) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        var pending = 0
        for byte in data {
            a += UInt32(byte)
            b += a
            pending += 1
            // 5552 bytes is the most that cannot overflow 32 bits before the reduction.
            if pending == 5552 {
                a %= 65521
                b %= 65521
                pending = 0
            }
        }
        return (b % 65521) << 16 | (a % 65521)
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, the one PNG's chunks and zlib's gzip use).
    static func crc32(_ data: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [
            UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF),
        ])
    }

    /// Length, type, data, CRC-32 of type and data.
    fileprivate mutating func appendChunk(_ type: String, _ data: [UInt8]) {
        appendBigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        append(contentsOf: typed)
        appendBigEndian(PNGImage.crc32(typed))
    }
}
