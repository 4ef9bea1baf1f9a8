/// ISO 7064 MOD 97-10 over an alphanumeric text, as IBANs (ISO 13616) and creditor
/// references (ISO 11649) compute it: letters count as two digits (A = 10 … Z = 35),
/// the remainder of the whole number by 97 is taken digit by digit.
enum Mod97 {
    /// The remainder by 97 of `text` read as a number, or nil when a character is not
    /// an ASCII digit or an upper-case letter.
    static func remainder<S: Sequence>(_ text: S) -> Int? where S.Element == UInt8 {
        var remainder = 0
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                remainder = (remainder * 10 + Int(byte - UInt8(ascii: "0"))) % 97
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                remainder = (remainder * 100 + Int(byte - UInt8(ascii: "A")) + 10) % 97
            default:
                return nil
            }
        }
        return remainder
    }

    /// The two check digits that make `body` + `prefix` + digits leave 1: `98 − r`.
    static func checkDigits(body: some Sequence<UInt8>, prefix: String) -> String? {
        guard let r = remainder(Array(body) + Array(prefix.utf8) + Array("00".utf8)) else { return nil }
        let check = 98 - r
        return check < 10 ? "0\(check)" : "\(check)"
    }
}

/// How payment identifiers are printed for a person to copy: in groups of four.
enum GroupsOfFour {
    static func text(_ text: String) -> String {
        var out = ""
        for (i, c) in text.enumerated() {
            if i > 0, i % 4 == 0 { out.append(" ") }
            out.append(c)
        }
        return out
    }
}
