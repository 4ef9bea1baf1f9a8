import Foundation

/// Byte scanning with memchr and memcmp: the reader's loops run over every byte of a
/// message, and must stay fast in a debug build too (where the generic collection
/// algorithms are not specialized).
enum BounceByteSearch {
    /// The end of the line that starts at `start`: where its content ends (before CR LF or
    /// LF) and where the next line starts.
    static func lineEnd(in bytes: ArraySlice<UInt8>, from start: Int) -> (content: Int, next: Int) {
        bytes.withUnsafeBufferPointer { buffer in
            let offset = start - bytes.startIndex
            guard let base = buffer.baseAddress, offset < buffer.count,
                let found = memchr(base + offset, 10, buffer.count - offset)
            else { return (bytes.endIndex, bytes.endIndex) }
            let lf = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
            let content = lf > offset && base[lf - 1] == 13 ? lf - 1 : lf
            return (bytes.startIndex + content, bytes.startIndex + lf + 1)
        }
    }

    /// Whether the bytes from `start` begin with `prefix`.
    static func hasPrefix(_ bytes: ArraySlice<UInt8>, at start: Int, end: Int, _ prefix: [UInt8]) -> Bool {
        guard end - start >= prefix.count else { return false }
        guard !prefix.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { buffer in
            prefix.withUnsafeBufferPointer { wanted in
                memcmp(buffer.baseAddress! + (start - bytes.startIndex), wanted.baseAddress!, wanted.count) == 0
            }
        }
    }

    /// The offset of the first occurrence of `needle` in `haystack`. memchr looks for the
    /// needle's least common byte in English text, so that few candidates need comparing.
    static func firstOffset(of needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard haystack.count >= needle.count, let base = haystack.baseAddress, let wanted = needle.baseAddress else {
            return nil
        }
        var anchor = 0
        var index = 1
        while index < needle.count {
            if commonness(needle[index]) < commonness(needle[anchor]) { anchor = index }
            index += 1
        }
        let anchorByte = Int32(needle[anchor])
        let last = haystack.count - needle.count
        var offset = 0
        while offset <= last {
            guard let hit = memchr(base + offset + anchor, anchorByte, last - offset + 1) else { return nil }
            let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit)) - anchor
            if base[at] == wanted[0] && memcmp(base + at, wanted, needle.count) == 0 { return at }
            offset = at + 1
        }
        return nil
    }

    /// How common a byte is in English text, roughly (higher is more common).
    static func commonness(_ byte: UInt8) -> Int {
        switch byte {
        case 32: return 30
        case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
            UInt8(ascii: "n"):
            return 20
        case UInt8(ascii: "s"), UInt8(ascii: "h"), UInt8(ascii: "r"), UInt8(ascii: "d"), UInt8(ascii: "l"):
            return 15
        case UInt8(ascii: "c"), UInt8(ascii: "u"), UInt8(ascii: "m"), UInt8(ascii: "w"), UInt8(ascii: "f"),
            UInt8(ascii: "g"), UInt8(ascii: "y"), UInt8(ascii: "p"):
            return 10
        case UInt8(ascii: "b"), UInt8(ascii: "v"), UInt8(ascii: "k"), UInt8(ascii: "."), UInt8(ascii: ","):
            return 6
        default: return 3
        }
    }

}

/// Text with its ASCII letters lowercased, as bytes (the offsets stay those of the
/// original's UTF-8), for finding the fixed phrases of bounces quickly. Phrases are
/// written in lowercase; non-ASCII capitals are not folded.
struct FoldedText {
    var bytes: [UInt8]

    init(_ text: some StringProtocol) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            var index = 0
            while index < buffer.count {
                if buffer[index] >= 65 && buffer[index] <= 90 { buffer[index] |= 0x20 }
                index += 1
            }
        }
        self.bytes = bytes
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    func offset(of phrase: String, from start: Int = 0) -> Int? {
        guard start < bytes.count else { return phrase.isEmpty ? bytes.count : nil }
        var phrase = phrase
        return phrase.withUTF8 { needle in
            bytes.withUnsafeBufferPointer { buffer in
                BounceByteSearch.firstOffset(of: needle, in: UnsafeBufferPointer(rebasing: buffer[start...])).map {
                    $0 + start
                }
            }
        }
    }

    func contains(_ phrase: String) -> Bool { offset(of: phrase) != nil }

    func containsAny(_ phrases: [String]) -> Bool { phrases.contains { contains($0) } }

    func hasPrefix(_ phrase: String) -> Bool { bytes.starts(with: phrase.utf8) }
}
