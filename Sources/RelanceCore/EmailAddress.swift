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
    static func quoted(_ s: String) -> String {
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
