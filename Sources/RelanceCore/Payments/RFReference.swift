/// An ISO 11649 creditor reference (`RF` + two check digits + 1 to 21 letters or digits),
/// the reference a payer gives with a transfer so that the creditor's bank statement
/// names the invoice it pays. Stored upper case, without spaces; shown in groups of four.
public struct RFReference: Sendable, Hashable, CustomStringConvertible {
    /// `RF` + check digits + body, upper case, no spaces.
    public let text: String

    /// The longest body the standard allows (25 characters in all).
    public static let maxBody = 21

    /// Reads a reference as a payer or a bank may write it: spaces anywhere, lower case.
    /// Nil when it is not one (wrong prefix, length, character or check digits).
    public init?(_ written: some StringProtocol) {
        var bytes: [UInt8] = []
        for byte in written.utf8 where byte != UInt8(ascii: " ") {
            bytes.append((UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte)
        }
        guard (5...(4 + Self.maxBody)).contains(bytes.count), bytes[0] == UInt8(ascii: "R"),
            bytes[1] == UInt8(ascii: "F"), bytes[2...3].allSatisfy({ (48...57).contains($0) }),
            Mod97.remainder(bytes[4...] + bytes[0...3]) == 1
        else { return nil }
        text = String(decoding: bytes, as: UTF8.self)
    }

    /// The reference whose body is `body` (1 to 21 ASCII letters or digits, any case).
    public init?(body: some StringProtocol) {
        let upper = Array(body.uppercased().utf8)
        guard (1...Self.maxBody).contains(upper.count),
            let check = Mod97.checkDigits(body: upper, prefix: "RF")
        else { return nil }
        text = "RF" + check + String(decoding: upper, as: UTF8.self)
    }

    /// What follows `RF` and the check digits.
    public var body: Substring { text.dropFirst(4) }

    /// In groups of four, as printed for a person to copy: `RF18 5390 0754 7034`.
    public var grouped: String { GroupsOfFour.text(text) }

    public var description: String { text }

    /// `text` in groups of four when it is a reference; as it is otherwise.
    public static func display(_ text: String) -> String { RFReference(text)?.grouped ?? text }

    /// The two bodies an invoice number may get, in order of preference: its letters and
    /// digits upper-cased when there are 1 to 20 of them (`F-2026-0042` → `F20260042`),
    /// then 21 base-36 characters of its SHA-256 (numbers too long, or without a letter or
    /// digit, or whose first body another invoice already holds). The two forms never
    /// meet: the first is at most 20 characters, the second exactly 21.
    public static func candidates(forInvoice number: String) -> [RFReference] {
        var plain: [UInt8] = []
        for byte in number.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"): plain.append(byte)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): plain.append(byte - 32)
            default: continue
            }
        }
        var out: [RFReference] = []
        if (1...(maxBody - 1)).contains(plain.count),
            let first = RFReference(body: String(decoding: plain, as: UTF8.self))
        {
            out.append(first)
        }
        if let hashed = RFReference(body: base36(SHA256.digest(Array(number.utf8)), count: maxBody)) {
            out.append(hashed)
        }
        return out
    }

    /// The first `count` base-36 digits of `bytes` read as a big-endian number.
    static func base36(_ bytes: [UInt8], count: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        var number = bytes
        var digits: [UInt8] = []
        while digits.count < count {
            var remainder = 0
            for i in number.indices {
                let value = remainder * 256 + Int(number[i])
                number[i] = UInt8(value / 36)
                remainder = value % 36
            }
            digits.append(alphabet[remainder])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Every valid reference written in `text` (remittance information a payer typed):
    /// `RF`, two digits, then letters, digits and single spaces. Where the groups after a
    /// reference could extend it (`RF69 F202 6004 2 CLIENT`), every prefix that ends
    /// where a group ends and checks is returned, longest first: the caller keeps the one
    /// it knows (a random extension checks once in 97). Without a group boundary that
    /// checks, the longest valid prefix.
    public static func find(in text: String) -> [RFReference] {
        let bytes = Array(text.utf8)
        var found: [RFReference] = []
        var i = 0
        while i + 4 < bytes.count {
            defer { i += 1 }
            let (r, f) = (bytes[i] | 0x20, bytes[i + 1] | 0x20)
            guard r == UInt8(ascii: "r"), f == UInt8(ascii: "f") else { continue }
            if i > 0, isAlnum(bytes[i - 1]) { continue }
            // Up to 25 significant characters, spaces allowed between them; where each group ends.
            var j = i
            var significant: [UInt8] = []
            var groupEnds: [Int] = []
            while j < bytes.count, significant.count < 4 + maxBody {
                if isAlnum(bytes[j]) {
                    significant.append(bytes[j])
                    if j + 1 >= bytes.count || !isAlnum(bytes[j + 1]) { groupEnds.append(significant.count) }
                } else if bytes[j] != UInt8(ascii: " ") || j + 1 >= bytes.count || !isAlnum(bytes[j + 1]) {
                    break
                }
                j += 1
            }
            func reference(_ length: Int) -> RFReference? {
                length >= 5 ? RFReference(String(decoding: significant[..<length], as: UTF8.self)) : nil
            }
            var here = groupEnds.reversed().compactMap(reference)
            if here.isEmpty,
                let longest = stride(from: significant.count, through: 5, by: -1).lazy.compactMap(reference)
                    .first
            {
                here = [longest]
            }
            for reference in here where !found.contains(reference) { found.append(reference) }
        }
        return found
    }

    static func isAlnum(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }
}
