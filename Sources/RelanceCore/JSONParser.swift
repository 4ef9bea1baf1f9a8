/// A strict RFC 8259 JSON reader straight into `JSONValue`, over UTF-8 bytes.
///
/// It replaced `JSONSerialization` + conversion: request bodies, job data at dispatch
/// and payer rows all go through it, and building Foundation objects first (then
/// bridging each `NSNumber`) cost several times the parse itself. It is also stricter:
/// trailing commas, invalid UTF-8, lone surrogates and control characters in strings
/// are refused, each with the byte offset where reading stopped.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    func error(_ message: String) -> JSONParseError {
        JSONParseError(message: "\(message) at byte \(index)")
    }

    func unexpected(_ expecting: String) -> JSONParseError {
        guard index < bytes.count else { return error("unexpected end of input, expected \(expecting)") }
        let byte = bytes[index]
        let shown =
            (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return error("unexpected \(shown), expected \(expecting)")
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else {
            throw error("nested deeper than \(JSONValue.maximumDepth) levels")
        }
        guard index < bytes.count else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw unexpected("a value")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected)
        else { throw error("invalid literal, expected '\(word)'") }
        index += expected.count
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1  // {
        var fields: [String: JSONValue] = [:]
        // Job data objects hold a handful of members: no regrowth for those.
        fields.reserveCapacity(8)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a member name") }
            let keyStart = index
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':'") }
            index += 1
            skipWhitespace()
            let member = try value(depth: depth + 1)
            // A name twice: which one counts? A proxy reading the first and Relance the last
            // would disagree about the same request ("payer_ref" twice): refused.
            if fields.updateValue(member, forKey: key) != nil {
                index = keyStart
                throw error("the member name \"\(key.prefix(40))\" appears twice in one object")
            }
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw unexpected("',' or '}'") }
            index += 1
            return .object(fields)
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw unexpected("',' or ']'") }
            index += 1
            return .array(items)
        }
    }

    /// A string, from its opening quote.
    mutating func string() throws(JSONParseError) -> String {
        index += 1  // "
        let start = index
        var ascii = true
        // Most strings have no escape: validated and copied whole.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                // ASCII needs no UTF-8 validation.
                let text =
                    ascii
                    ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    : try utf8(start..<index)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("control character in a string (escape it)") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        var buffer = [UInt8](bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try buffer.withUnsafeBufferPointer { (b) throws(JSONParseError) -> String in
                    guard let text = String(validating: b, as: UTF8.self) else {
                        throw error("invalid UTF-8 in a string")
                    }
                    return text
                }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw unexpected("an escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("lone UTF-16 surrogate in a \\u escape") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw error("lone UTF-16 surrogate in a \\u escape")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else {
                        throw error("lone UTF-16 surrogate in a \\u escape")
                    }
                    buffer.append(contentsOf: UTF8.encode(unicode)!)
                default:
                    index -= 1
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            default:
                guard byte >= 0x20 else { throw error("control character in a string (escape it)") }
                buffer.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    func utf8(_ range: Range<Int>) throws(JSONParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        guard let text = String(validating: slice, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return text
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A number's text: its exact value, without the fraction's trailing zeros
    /// (`1250.10` → `1250.1`, `12.00` → `12`); with an exponent, the plain decimal it
    /// stands for (`1e3` → `1000`) when the exponent is at most 64 in size.
    mutating func number() throws(JSONParseError) -> String {
        let start = index
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.index
            while parser.index < parser.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index])
            {
                parser.index += 1
            }
            return parser.index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        guard digits(&self) > 0 else { throw error("invalid number") }
        if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 {
            throw error("invalid number (leading zero)")
        }
        var fractionEnd: Int?
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("invalid number (no digit after '.')") }
            fractionEnd = index
        }
        var hasExponent = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits(&self) > 0 else { throw error("invalid number (no digit in the exponent)") }
            hasExponent = true
        }
        var end = index
        if !hasExponent, fractionEnd != nil {
            while bytes[end - 1] == UInt8(ascii: "0") { end -= 1 }
            if bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        if hasExponent { return Self.expand(text) }
        return text
    }

    static let maximumExpandedExponent = 64

    /// `1.5e3` → `1500`, `25E-4` → `0.0025`: the decimal the mantissa and exponent stand for.
    static func expand(_ text: String) -> String {
        let parts = text.split(whereSeparator: { $0 == "e" || $0 == "E" })
        var mantissa = Substring(parts[0])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa = mantissa.dropFirst() }
        let dot = mantissa.firstIndex(of: ".")
        let integer = dot.map { mantissa[..<$0] } ?? mantissa
        let fraction = dot.map { mantissa[mantissa.index(after: $0)...] } ?? ""
        var digits = Array(integer + fraction)
        // The decimal point sits after `point` digits.
        // Beyond this the text stays as written (still exact): "1e999999" must not
        // become a million digits, a request body could hold thousands of them.
        guard let exponent = Int(parts[1]), abs(exponent) <= maximumExpandedExponent else { return text }
        var point = integer.count + exponent
        if point <= 0 {
            digits.insert(contentsOf: repeatElement("0", count: -point + 1), at: 0)
            point = 1
        } else if point > digits.count {
            digits.append(contentsOf: repeatElement("0", count: point - digits.count))
        }
        var whole = digits[..<point].drop { $0 == "0" }
        if whole.isEmpty { whole = ["0"] }
        var decimals = digits[point...]
        while decimals.last == "0" { decimals.removeLast() }
        var result = negative && !(whole == ["0"] && decimals.isEmpty) ? "-" : ""
        result += String(whole)
        if !decimals.isEmpty { result += "." + String(decimals) }
        return result
    }
}
