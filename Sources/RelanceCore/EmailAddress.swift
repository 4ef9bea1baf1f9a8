/// A syntactically valid mailbox address (`local@domain`).
///
/// Rules (RFC 5321 §4.5.3.1 limits, RFC 5322 dot-atom local part, RFC 1035 labels):
/// at most 254 characters, local part at most 64, no whitespace or control
/// characters (so an address can never inject an SMTP command or a header),
/// a domain of at least two labels made of letters, digits and hyphens
/// (internationalized domains are accepted as A-labels or UTF-8 letters).
/// Quoted local parts and IP literals are refused: no payer needs them and
/// they are a classic vector for header tricks.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public var localPart: Substring { value[..<value.lastIndex(of: "@")!] }
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }

    /// Why an address was refused.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var address: String
        public var reason: String
        public var description: String { "invalid e-mail address \(EmailAddress.quoted(address)): \(reason)" }
    }

    public init(_ raw: String) throws {
        if Self.isValidASCII(raw) {
            self.init(checked: raw)
        } else {
            try self.init(validating: raw)
        }
    }

    private init(checked value: String) { self.value = value }

    /// True for a printable-ASCII address that passes every rule of `init(validating:)`,
    /// checked on bytes: the address of nearly every payer, checked for every message
    /// sent. Anything else (spaces to trim, non-ASCII, an error to explain) goes the
    /// long way.
    static func isValidASCII(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard (1...254).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let at = bytes.lastIndex(of: UInt8(ascii: "@"))
        else { return false }
        let local = bytes[..<at]
        guard !local.isEmpty, local.count <= 64, local.first != UInt8(ascii: "."), local.last != UInt8(ascii: ".")
        else { return false }
        var previous: UInt8 = 0
        for b in local {
            guard b.isASCIILetterOrDigit || "!#$%&'*+-/=?^_`{|}~.".utf8.contains(b) else { return false }
            if b == UInt8(ascii: "."), previous == b { return false }
            previous = b
        }
        let labels = bytes[bytes.index(after: at)...].split(
            separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                label.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return !labels.last!.contains(where: \.isASCIIDigit)
    }

    /// Every rule, on Characters, with the reason of a refusal.
    init(validating raw: String) throws {
        let address = raw.trimmingSpaces()
        func invalid(_ reason: String) -> Invalid { Invalid(address: raw, reason: reason) }
        guard !address.isEmpty else { throw invalid("empty") }
        guard address.utf8.count <= 254 else { throw invalid("longer than 254 characters") }
        guard
            !address.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F
            })
        else { throw invalid("contains a space or a control character") }
        guard let at = address.lastIndex(of: "@") else { throw invalid("missing '@'") }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty else { throw invalid("empty local part") }
        guard local.utf8.count <= 64 else { throw invalid("local part longer than 64 characters") }
        let atext = Set("!#$%&'*+-/=?^_`{|}~.")
        for ch in local where !(ch.isLetter || ch.isNumber || atext.contains(ch)) {
            throw invalid("character '\(ch)' not allowed in the local part")
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.containsBytes("..") {
            throw invalid("misplaced '.' in the local part")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw invalid("domain '\(domain)' has no dot") }
        for label in labels {
            guard !label.isEmpty else { throw invalid("empty label in domain '\(domain)'") }
            guard label.utf8.count <= 63 else { throw invalid("domain label longer than 63 characters") }
            guard label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !label.hasPrefix("-"),
                !label.hasSuffix("-")
            else { throw invalid("invalid domain label '\(label)'") }
        }
        guard labels.last!.allSatisfy({ !$0.isNumber }) else { throw invalid("top-level domain is numeric") }
        self.value = address
    }

    /// Quotes a value for an error message with control characters made visible.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars.prefix(300) {
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
