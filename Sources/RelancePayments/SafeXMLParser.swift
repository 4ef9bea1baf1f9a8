/// The reader behind `SafeXML.parse`: one pass over the bytes with an explicit stack of
/// open elements. Every loop advances `i`; every index is checked against `n`.
struct SafeXMLParser {
    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    /// An element not yet closed.
    struct Open {
        var index: Int
        /// Where its qualified name is in the input (the end tag must repeat it).
        var name: Range<Int>
        var text: [UInt8] = []
        /// Whether anything but leading whitespace was kept in `text`.
        var kept = false
        /// `namespaces.count` before its declarations.
        var scopeBase: Int
    }

    let bytes: [UInt8]
    let n: Int
    let limits: SafeXML.Limits
    var i = 0
    var elements: [SafeXML.Element] = []
    var stack: [Open] = []
    /// Namespace declarations in scope, innermost last ("" is the default namespace).
    var namespaces: [(prefix: String, uri: String)] = []
    var rootClosed = false

    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    init(bytes: [UInt8], limits: SafeXML.Limits) {
        self.bytes = bytes
        self.n = bytes.count
        self.limits = limits
    }

    func fail(_ reason: String, at offset: Int? = nil) -> Failure {
        Failure(offset: offset ?? i, reason: reason)
    }

    /// The local names of the open elements, root first.
    func openPath() -> String {
        stack.map { elements[$0.index].name }.joined(separator: "/")
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    func byte(at k: Int) -> UInt8 { k < n ? bytes[k] : 0 }

    func starts(with literal: StaticString, at k: Int) -> Bool {
        literal.withUTF8Buffer { wanted in
            let count = wanted.count
            guard k + count <= n else { return false }
            var j = 0
            while j < count {
                if bytes[k + j] != wanted[j] { return false }
                j += 1
            }
            return true
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x3A || byte >= 0x80
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x2E
    }

    /// Skips whitespace; says whether there was any.
    @discardableResult
    mutating func skipSpace() -> Bool {
        let start = i
        while i < n, Self.isSpace(bytes[i]) { i += 1 }
        return i > start
    }

    mutating func readName(_ what: String) throws -> Range<Int> {
        let start = i
        guard i < n, Self.isNameStart(bytes[i]) else {
            throw fail(
                i < n
                    ? "expected \(what), found \(Self.describe(bytes[i]))"
                    : "the document ends where \(what) was expected")
        }
        while i < n, Self.isNameByte(bytes[i]) {
            i += 1
            if i - start > limits.maxNameBytes {
                throw fail("a name longer than \(limits.maxNameBytes) bytes", at: start)
            }
        }
        return start..<i
    }

    /// Prefix and local name of a qualified name (one colon at most, not at either end).
    func split(_ name: Range<Int>) throws -> (prefix: String?, local: String) {
        let colons = bytes[name].indices.filter { bytes[$0] == 0x3A }
        guard let colon = colons.first else { return (nil, text(name)) }
        guard colons.count == 1, colon > name.lowerBound, colon + 1 < name.upperBound,
            Self.isNameStart(bytes[colon + 1])
        else { throw fail("'\(text(name))' is not a valid qualified name", at: name.lowerBound) }
        return (text(name.lowerBound..<colon), text((colon + 1)..<name.upperBound))
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return byte == 0x20 ? "a space" : "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func run() throws {
        guard n <= limits.maxInputBytes else {
            throw fail("the document is \(n) bytes, more than the \(limits.maxInputBytes) allowed", at: 0)
        }
        try checkEncoding()
        i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        try readDeclaration()
        while i < n {
            if bytes[i] == 0x3C {
                try markup()
            } else {
                try characterData()
            }
        }
        if let open = stack.last {
            throw fail(
                "the document ends inside <\(text(open.name))>: \(stack.count) element(s) not closed (truncated?)")
        }
        guard !elements.isEmpty else { throw fail("the document has no root element") }
    }

    /// At a `<`: a tag, a comment, a CDATA section or a processing instruction.
    mutating func markup() throws {
        let start = i
        switch byte(at: i + 1) {
        case 0x2F: try endTag()
        case 0x3F: try processingInstruction()
        case 0x21:
            if starts(with: "<!--", at: i) {
                try comment()
            } else if starts(with: "<![CDATA[", at: i) {
                try cdata()
            } else if starts(with: "<!DOCTYPE", at: i) || starts(with: "<!doctype", at: i) {
                throw fail(
                    "a DOCTYPE is refused: this reader takes no DTD, loads no external entity and expands no entity",
                    at: start)
            } else {
                throw fail("'<!' starts neither a comment nor a CDATA section", at: start)
            }
        default: try startTag()
        }
    }

    mutating func startTag() throws {
        let start = i
        i += 1
        let name = try readName("an element name after '<'")
        if rootClosed { throw fail("a second root element <\(text(name))>", at: start) }
        if stack.count >= limits.maxDepth {
            throw fail("<\(text(name))> is nested deeper than \(limits.maxDepth) elements", at: start)
        }
        if elements.count >= limits.maxElements {
            throw fail("more than \(limits.maxElements) elements", at: start)
        }
        var raw: [(name: Range<Int>, value: String, at: Int)] = []
        var selfClosing = false
        while true {
            let spaced = skipSpace()
            guard i < n else { throw fail("the start tag <\(text(name))> is not closed", at: start) }
            if bytes[i] == 0x3E {
                i += 1
                break
            }
            if bytes[i] == 0x2F {
                guard byte(at: i + 1) == 0x3E else { throw fail("expected '>' after '/' in <\(text(name))>") }
                i += 2
                selfClosing = true
                break
            }
            guard spaced else {
                throw fail("expected a space, '>' or '/>' in <\(text(name))>, found \(Self.describe(bytes[i]))")
            }
            let at = i
            let attribute = try readName("an attribute name")
            skipSpace()
            guard byte(at: i) == 0x3D else { throw fail("expected '=' after the attribute \(text(attribute))") }
            i += 1
            skipSpace()
            let value = try attributeValue(of: attribute)
            if raw.contains(where: { bytes[$0.name] == bytes[attribute] }) {
                throw fail("the attribute \(text(attribute)) appears twice in <\(text(name))>", at: at)
            }
            guard raw.count < limits.maxAttributes else {
                throw fail("<\(text(name))> has more than \(limits.maxAttributes) attributes", at: at)
            }
            raw.append((attribute, value, at))
        }
        try open(name, at: start, attributes: raw, selfClosing: selfClosing)
    }

    /// Declares the element's namespaces, resolves its prefix, and records it.
    mutating func open(
        _ name: Range<Int>, at start: Int, attributes raw: [(name: Range<Int>, value: String, at: Int)],
        selfClosing: Bool
    ) throws {
        let scopeBase = namespaces.count
        var attributes: [SafeXML.Attribute] = []
        attributes.reserveCapacity(raw.count)
        for (range, value, at) in raw {
            let (prefix, local) = try split(range)
            if prefix == nil && local == "xmlns" {
                namespaces.append(("", value))
            } else if prefix == "xmlns" {
                guard !value.isEmpty else { throw fail("the namespace prefix \(local) is declared empty", at: at) }
                namespaces.append((local, value))
            }
            attributes.append(SafeXML.Attribute(name: local, prefix: prefix, value: value))
        }
        for (range, _, at) in raw {
            if let prefix = try split(range).prefix, prefix != "xmlns", resolve(prefix) == nil {
                throw fail("the prefix \(prefix) of the attribute \(text(range)) is not declared", at: at)
            }
        }
        let (prefix, local) = try split(name)
        let namespace = resolve(prefix ?? "")
        if let prefix, namespace == nil {
            throw fail("the prefix \(prefix) of <\(text(name))> is not declared", at: start)
        }
        let index = elements.count
        let parent = stack.last?.index
        elements.append(
            SafeXML.Element(
                name: local, prefix: prefix, namespace: namespace.flatMap { $0.isEmpty ? nil : $0 },
                attributes: attributes, children: [], text: "", parent: parent, offset: start))
        if let parent { elements[parent].children.append(index) }
        if selfClosing {
            namespaces.removeLast(namespaces.count - scopeBase)
            if stack.isEmpty { rootClosed = true }
        } else {
            stack.append(Open(index: index, name: name, scopeBase: scopeBase))
        }
    }

    func resolve(_ prefix: String) -> String? {
        if prefix == "xml" { return Self.xmlNamespace }
        for declaration in namespaces.reversed() where declaration.prefix == prefix { return declaration.uri }
        return prefix.isEmpty ? "" : nil
    }

    mutating func endTag() throws {
        let start = i
        i += 2
        let name = try readName("an element name after '</'")
        skipSpace()
        guard byte(at: i) == 0x3E else { throw fail("the end tag </\(text(name))> is not closed", at: start) }
        i += 1
        guard let open = stack.last else {
            throw fail("</\(text(name))> closes no element", at: start)
        }
        guard bytes[name] == bytes[open.name] else {
            throw fail("</\(text(name))> closes <\(text(open.name))>", at: start)
        }
        if open.kept { elements[open.index].text = String(decoding: open.text, as: UTF8.self) }
        stack.removeLast()
        namespaces.removeLast(namespaces.count - open.scopeBase)
        if stack.isEmpty { rootClosed = true }
    }

    mutating func comment() throws {
        let start = i
        i += 4
        while i + 1 < n {
            if bytes[i] == 0x2D && bytes[i + 1] == 0x2D {
                guard byte(at: i + 2) == 0x3E else { throw fail("'--' inside a comment") }
                i += 3
                return
            }
            i += 1
        }
        throw fail("a comment is not closed ('-->' missing)", at: start)
    }

    mutating func processingInstruction() throws {
        let start = i
        i += 2
        let target = try readName("a processing instruction's target after '<?'")
        if text(target).lowercased() == "xml" {
            throw fail("an XML declaration is allowed only at the very start of the document", at: start)
        }
        while i + 1 < n {
            if bytes[i] == 0x3F && bytes[i + 1] == 0x3E {
                i += 2
                return
            }
            i += 1
        }
        throw fail("a processing instruction is not closed ('?>' missing)", at: start)
    }

    mutating func cdata() throws {
        let start = i
        guard !stack.isEmpty else { throw fail("a CDATA section outside the root element", at: start) }
        i += 9
        let contentStart = i
        while i + 2 < n {
            if bytes[i] == 0x5D && bytes[i + 1] == 0x5D && bytes[i + 2] == 0x3E {
                try appendText(bytes[contentStart..<i], at: start, normalizing: true)
                i += 3
                return
            }
            i += 1
        }
        throw fail("a CDATA section is not closed (']]>' missing)", at: start)
    }
}
