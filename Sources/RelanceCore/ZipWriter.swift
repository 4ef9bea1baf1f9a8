import Foundation

/// A ZIP archive of files stored as they are (method 0, no compression: the archive's
/// contents stay readable by any tool, and PDFs and deflated MIME gain little). Pure.
public struct ZipWriter: Sendable {
    private var data: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0
    private var names: Set<String> = []
    /// The files' time, in MS-DOS form (the ZIP format's).
    private let nameBytesLimit = 0x1_0000
    private let dosTime: UInt16
    private let dosDate: UInt16

    public init(date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        dosTime = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        dosDate = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
    }

    /// Adds a file; a name is a relative path with `/` (no `..`, no leading `/`), once.
    public mutating func add(_ name: String, _ bytes: [UInt8]) throws {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(".."), !names.contains(name),
            name.utf8.count < 0xFFFF
        else { throw ZipError("cannot add \(name) to the archive") }
        // The classic format's limits (no ZIP64): 65,535 files, 4 GiB in all.
        guard count < 0xFFFF, data.count + bytes.count + nameBytesLimit < 0xFFFF_0000 else {
            throw ZipError("the archive would exceed the ZIP format's limits (65,535 files, 4 GiB)")
        }
        names.insert(name)
        let nameBytes = Array(name.utf8)
        let crc = Self.crc32(bytes)
        let offset = UInt32(data.count)
        func common(_ out: inout [UInt8]) {
            Self.le16(&out, 20)  // version needed: 2.0
            Self.le16(&out, 0x0800)  // flags: names in UTF-8
            Self.le16(&out, 0)  // stored
            Self.le16(&out, dosTime)
            Self.le16(&out, dosDate)
            Self.le32(&out, crc)
            Self.le32(&out, UInt32(bytes.count))
            Self.le32(&out, UInt32(bytes.count))
            Self.le16(&out, UInt16(nameBytes.count))
            Self.le16(&out, 0)  // extra field
        }
        Self.le32(&data, 0x0403_4b50)
        common(&data)
        data += nameBytes
        data += bytes
        Self.le32(&central, 0x0201_4b50)
        Self.le16(&central, 0x031E)  // made by: Unix, 3.0
        common(&central)
        Self.le16(&central, 0)  // comment
        Self.le16(&central, 0)  // disk
        Self.le16(&central, 0)  // internal attributes
        Self.le32(&central, 0o100644 << 16)  // external: a regular file, rw-r--r--
        Self.le32(&central, offset)
        central += nameBytes
        count += 1
    }

    /// The whole archive.
    public func finish() -> [UInt8] {
        var out = data + central
        Self.le32(&out, 0x0605_4b50)
        Self.le16(&out, 0)
        Self.le16(&out, 0)
        Self.le16(&out, UInt16(count))
        Self.le16(&out, UInt16(count))
        Self.le32(&out, UInt32(central.count))
        Self.le32(&out, UInt32(data.count))
        Self.le16(&out, 0)
        return out
    }

    static func le16(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(value & 0xFF))
        out.append(UInt8(value >> 8))
    }

    static func le32(_ out: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309), as ZIP uses.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

public struct ZipError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
