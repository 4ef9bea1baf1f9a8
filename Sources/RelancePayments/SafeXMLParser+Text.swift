/// The byte-level rules of `SafeXMLParser`: the encoding, the XML declaration, character
/// data, attribute values and references.
extension SafeXMLParser {
    /// The whole input is UTF-8 (a byte order mark allowed), with no NUL and no control
    /// character but tab, CR and LF, and none of the non-characters U+FFFE, U+FFFF.
    mutating func checkEncoding() throws {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw fail("the document is UTF-16 (its byte order mark says so): only UTF-8 is read", at: 0)
        }
        if n >= 2, bytes[0] == 0 || bytes[1] == 0 {
            throw fail("the document starts with a NUL byte (UTF-16 or UTF-32?): only UTF-8 is read", at: 0)
        }
        var k = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while k < n {
            let lead = bytes[k]
            if lead < 0x80 {
                if lead < 0x20 && lead != 0x09 && lead != 0x0A && lead != 0x0D {
                    throw fail(
                        lead == 0
                            ? "a NUL byte"
                            : "the control character U+00\(Self.hex2(lead)) (XML allows only tab, CR and LF)",
                        at: k)
                }
                k += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: throw fail("invalid UTF-8 (byte 0x\(Self.hex2(lead)))", at: k)
            }
            guard k + length <= n else { throw fail("invalid UTF-8 (a character cut at the end)", at: k) }
            guard (low...high).contains(bytes[k + 1]),
                (1..<length).allSatisfy({ bytes[k + $0] & 0xC0 == 0x80 })
            else { throw fail("invalid UTF-8 (byte 0x\(Self.hex2(lead)) not followed as it must be)", at: k) }
            if lead == 0xEF, bytes[k + 1] == 0xBF, bytes[k + 2] >= 0xBE {
                throw fail("U+FFF\(bytes[k + 2] == 0xBE ? "E" : "F") is not a character XML allows", at: k)
            }
            k += length
        }
    }

    static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`, if the document starts
    /// with one: any encoding but UTF-8 is refused.
    mutating func readDeclaration() throws {
        guard starts(with: "<?xml", at: i), Self.isSpace(byte(at: i + 5)) || byte(at: i + 5) == 0x3F else { return }
        let start = i
        i += 5
        var seen: [String] = []
        while true {
            skipSpace()
            guard i < n else { throw fail("the XML declaration is not closed ('?>' missing)", at: start) }
            if starts(with: "?>", at: i) {
                i += 2
                break
            }
            let nameStart = i
            let name = text(try readName("version, encoding or standalone in the XML declaration"))
            skipSpace()
            guard byte(at: i) == 0x3D else { throw fail("expected '=' after \(name) in the XML declaration") }
            i += 1
            skipSpace()
            let quote = byte(at: i)
            guard quote == 0x22 || quote == 0x27 else { throw fail("expected a quoted value for \(name)") }
            let valueStart = i + 1
            var end = valueStart
            while end < n, bytes[end] != quote, end - valueStart <= 64 { end += 1 }
            guard end < n, bytes[end] == quote else {
                throw fail("the value of \(name) in the XML declaration is not closed", at: i)
            }
            let value = text(valueStart..<end)
            i = end + 1
            let order = ["version", "encoding", "standalone"]
            guard let rank = order.firstIndex(of: name), seen.allSatisfy({ order.firstIndex(of: $0)! < rank }) else {
                throw fail(
                    "the XML declaration takes version, encoding and standalone, in this order; not \(name)",
                    at: nameStart)
            }
            seen.append(name)
            switch name {
            case "version":
                guard value.hasPrefix("1."), value.count > 2, value.dropFirst(2).allSatisfy(\.isASCIIDigitCharacter)
                else { throw fail("the XML version \(Self.quoted(value)) is not 1.x", at: valueStart) }
            case "encoding":
                guard value.lowercased() == "utf-8" else {
                    throw fail(
                        "the XML declaration names the encoding \(Self.quoted(value)): only UTF-8 is read",
                        at: valueStart)
                }
            default:
                guard value == "yes" || value == "no" else {
                    throw fail("standalone is yes or no, not \(Self.quoted(value))", at: valueStart)
                }
            }
        }
        guard seen.first == "version" else { throw fail("the XML declaration has no version", at: start) }
    }

    /// A value quoted in a message: at most 40 characters, on one line.
    static func quoted(_ value: String) -> String {
        let cleaned = String(value.unicodeScalars.prefix(40).map { $0.value < 0x20 ? " " : Character($0) })
        return "'" + cleaned + (value.unicodeScalars.count > 40 ? "…'" : "'")
    }

    /// Text up to the next `<`. Outside the root, only whitespace may be there.
    mutating func characterData() throws {
        let start = i
        let keep = !stack.isEmpty
        var run: [UInt8] = []
        var onlySpace = true
        while i < n, bytes[i] != 0x3C {
            let current = bytes[i]
            if current == 0x26 {
                guard keep else { throw fail("a reference outside the root element") }
                Self.appendUTF8(try reference(), to: &run)
                onlySpace = false
            } else if current == 0x5D, starts(with: "]]>", at: i) {
                throw fail("']]>' in text (it may only end a CDATA section)")
            } else if current == 0x0D {
                if keep { run.append(0x0A) }
                i += byte(at: i + 1) == 0x0A ? 2 : 1
            } else {
                if !Self.isSpace(current) {
                    guard keep else {
                        throw fail(
                            rootClosed ? "text after the root element" : "text before the root element", at: i)
                    }
                    onlySpace = false
                }
                if keep { run.append(current) }
                i += 1
            }
            if run.count > limits.maxTextBytes, let open = stack.last {
                throw fail("the text of <\(text(open.name))> is longer than \(limits.maxTextBytes) bytes", at: start)
            }
        }
        guard let open = stack.last, !(onlySpace && !open.kept) else { return }
        try appendText(run[...], at: start, normalizing: false)
    }

    /// Adds text to the innermost open element (CR LF and CR read as LF when `normalizing`).
    mutating func appendText(_ content: ArraySlice<UInt8>, at start: Int, normalizing: Bool) throws {
        let top = stack.count - 1
        guard top >= 0 else { return }
        if stack[top].text.count + content.count > limits.maxTextBytes {
            throw fail(
                "the text of <\(text(stack[top].name))> is longer than \(limits.maxTextBytes) bytes", at: start)
        }
        stack[top].kept = true
        guard normalizing else {
            stack[top].text.append(contentsOf: content)
            return
        }
        var k = content.startIndex
        while k < content.endIndex {
            if content[k] == 0x0D {
                stack[top].text.append(0x0A)
                k += k + 1 < content.endIndex && content[k + 1] == 0x0A ? 2 : 1
            } else {
                stack[top].text.append(content[k])
                k += 1
            }
        }
    }

    /// An attribute value in single or double quotes, references replaced; tab, CR and LF
    /// become spaces (XML's attribute-value normalization, CR LF as one).
    mutating func attributeValue(of attribute: Range<Int>) throws -> String {
        let quote = byte(at: i)
        guard quote == 0x22 || quote == 0x27 else {
            throw fail("expected a quoted value for the attribute \(text(attribute))")
        }
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < n else { throw fail("the value of the attribute \(text(attribute)) is not closed", at: start) }
            let current = bytes[i]
            if current == quote {
                i += 1
                break
            }
            switch current {
            case 0x3C: throw fail("'<' in the value of the attribute \(text(attribute))")
            case 0x26: Self.appendUTF8(try reference(), to: &out)
            case 0x0D:
                out.append(0x20)
                i += byte(at: i + 1) == 0x0A ? 2 : 1
            case 0x09, 0x0A:
                out.append(0x20)
                i += 1
            default:
                out.append(current)
                i += 1
            }
            if out.count > limits.maxAttributeBytes {
                throw fail(
                    "the value of the attribute \(text(attribute)) is longer than \(limits.maxAttributeBytes) bytes",
                    at: start)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// At `&`: one of the five predefined entities or a character reference.
    mutating func reference() throws -> UInt32 {
        let start = i
        var end = i + 1
        while end < n, bytes[end] != 0x3B, end - start <= 32 { end += 1 }
        guard end < n, bytes[end] == 0x3B, end > start + 1 else {
            throw fail("'&' starts no reference (an ampersand is written &amp;)")
        }
        let body = bytes[(start + 1)..<end]
        i = end + 1
        switch String(decoding: body, as: UTF8.self) {
        case "lt": return 0x3C
        case "gt": return 0x3E
        case "amp": return 0x26
        case "apos": return 0x27
        case "quot": return 0x22
        default: break
        }
        guard body.first == 0x23 else {
            guard body.allSatisfy(Self.isNameByte) else {
                throw fail("'&' starts no reference (an ampersand is written &amp;)", at: start)
            }
            throw fail(
                "the entity &\(text((start + 1)..<end)); is not one of XML's five (lt, gt, amp, apos, quot): "
                    + "no DTD is read, so no other entity exists", at: start)
        }
        let hex = body.dropFirst().first == 0x78
        let digits = body.dropFirst(hex ? 2 : 1)
        var value: UInt32 = 0
        for digit in digits {
            let d: UInt32
            switch digit {
            case 0x30...0x39: d = UInt32(digit - 0x30)
            case 0x61...0x66 where hex: d = UInt32(digit - 0x61 + 10)
            case 0x41...0x46 where hex: d = UInt32(digit - 0x41 + 10)
            default: throw fail("&\(text((start + 1)..<end)); is not a character reference", at: start)
            }
            value = min(value * (hex ? 16 : 10) + d, 0x11_0000)
        }
        guard !digits.isEmpty else {
            throw fail("&\(text((start + 1)..<end)); is not a character reference", at: start)
        }
        guard value != 0 else { throw fail("a character reference to NUL (&\(text((start + 1)..<end));)", at: start) }
        guard Self.isXMLChar(value) else {
            throw fail("&\(text((start + 1)..<end)); names no character XML allows", at: start)
        }
        return value
    }

    /// XML 1.0's Char production.
    static func isXMLChar(_ value: UInt32) -> Bool {
        value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
            || (0xE000...0xFFFD).contains(value) || (0x1_0000...0x10_FFFF).contains(value)
    }

    static func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        switch value {
        case ..<0x80:
            out.append(UInt8(value))
        case ..<0x800:
            out.append(UInt8(0xC0 | (value >> 6)))
            out.append(UInt8(0x80 | (value & 0x3F)))
        case ..<0x1_0000:
            out.append(UInt8(0xE0 | (value >> 12)))
            out.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (value & 0x3F)))
        default:
            out.append(UInt8(0xF0 | ((value >> 18) & 0x07)))
            out.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (value & 0x3F)))
        }
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
