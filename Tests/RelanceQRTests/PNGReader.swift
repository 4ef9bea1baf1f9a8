/// A PNG reader for the tests, written apart from `PNGImage` (bitwise CRC-32 and a plain
/// Adler-32): it accepts only what `PNGImage` should write, 1-bit grayscale without
/// interlace, filter None, stored deflate blocks, and checks every checksum on the way.
struct PNGReader {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    let width: Int
    let height: Int
    /// Row after row, true for a white pixel.
    let white: [Bool]
    /// The chunk types in file order.
    let chunks: [String]

    init(_ png: [UInt8]) throws {
        guard png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Malformed("no PNG signature")
        }
        var at = 8
        var chunks: [String] = []
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while at < png.count {
            guard at + 12 <= png.count else { throw Malformed("truncated chunk at \(at)") }
            let length = Int(Self.bigEndian(png, at))
            guard at + 12 + length <= png.count else { throw Malformed("chunk at \(at) runs past the end") }
            let typed = Array(png[(at + 4)..<(at + 8 + length)])
            let type = String(decoding: typed[0..<4], as: UTF8.self)
            guard Self.bigEndian(png, at + 8 + length) == Self.crc32(typed) else {
                throw Malformed("bad CRC in \(type)")
            }
            chunks.append(type)
            switch type {
            case "IHDR": header = Array(typed[4...])
            case "IDAT": compressed += typed[4...]
            default: break
            }
            at += 12 + length
        }
        guard chunks.first == "IHDR", chunks.last == "IEND", header.count == 13 else {
            throw Malformed("chunks \(chunks)")
        }
        width = Int(Self.bigEndian(header, 0))
        height = Int(Self.bigEndian(header, 4))
        guard Array(header[8...]) == [1, 0, 0, 0, 0] else { throw Malformed("not 1-bit grayscale: \(header[8...])") }
        let raw = try Self.inflateStored(compressed)
        let rowBytes = (width + 7) / 8
        guard raw.count == height * (rowBytes + 1) else { throw Malformed("\(raw.count) bytes of image data") }
        var white: [Bool] = []
        for y in 0..<height {
            let row = y * (rowBytes + 1)
            guard raw[row] == 0 else { throw Malformed("filter \(raw[row]) on row \(y)") }
            for x in 0..<width { white.append(raw[row + 1 + x / 8] & (0x80 >> UInt8(x % 8)) != 0) }
        }
        self.white = white
        self.chunks = chunks
    }

    /// A zlib stream whose deflate blocks are all stored.
    static func inflateStored(_ stream: [UInt8]) throws -> [UInt8] {
        guard stream.count >= 6, stream[0] & 0x0F == 8, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0,
            stream[1] & 0x20 == 0
        else { throw Malformed("bad zlib header") }
        var out: [UInt8] = []
        var at = 2
        var final = false
        while !final {
            guard at + 5 <= stream.count else { throw Malformed("truncated deflate block") }
            final = stream[at] & 1 == 1
            guard stream[at] >> 1 & 3 == 0 else { throw Malformed("deflate block type \(stream[at] >> 1 & 3)") }
            let length = Int(stream[at + 1]) | Int(stream[at + 2]) << 8
            let complement = Int(stream[at + 3]) | Int(stream[at + 4]) << 8
            guard length ^ 0xFFFF == complement else { throw Malformed("LEN and NLEN disagree") }
            at += 5
            guard at + length <= stream.count else { throw Malformed("stored block past the end") }
            out += stream[at..<(at + length)]
            at += length
        }
        guard at + 4 == stream.count else { throw Malformed("\(stream.count - at) bytes after the last block") }
        guard bigEndian(stream, at) == adler32(out) else { throw Malformed("bad Adler-32") }
        return out
    }

    static func bigEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
