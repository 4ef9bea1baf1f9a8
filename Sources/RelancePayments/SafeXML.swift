/// A minimal, non-validating XML reader for hostile input (bank statements uploaded by an
/// operator, or fetched from a bank): UTF-8 only, no DTD, no entity but the five
/// predefined ones and character references, bounded depth, size and counts. It reads the
/// whole document into a flat table of elements (no recursion, no pointers), matched by
/// local name: prefixes are kept but only to resolve each element's namespace.
///
/// What it refuses, it says with the line and column (in characters, from 1) and, when it
/// is inside an element, the path of open elements: `line 12, column 5, in
/// Document/BkToCstmrStmt/Stmt/Ntry: </Amt> closes <Ntry>`.
public enum SafeXML {
    /// Bounds on what one document may hold; every one of them fails the read when passed.
    public struct Limits: Sendable, Equatable {
        /// Input bytes (the caller should refuse larger uploads before reading them).
        public var maxInputBytes: Int
        /// Elements open at once.
        public var maxDepth: Int
        /// Elements in the whole document.
        public var maxElements: Int
        /// Bytes of character data kept for one element.
        public var maxTextBytes: Int
        /// Attributes on one element.
        public var maxAttributes: Int
        /// Bytes of one element or attribute name.
        public var maxNameBytes: Int
        /// Bytes of one attribute value.
        public var maxAttributeBytes: Int

        public init(
            maxInputBytes: Int = 64 << 20, maxDepth: Int = 64, maxElements: Int = 2_000_000,
            maxTextBytes: Int = 1 << 20, maxAttributes: Int = 64, maxNameBytes: Int = 256,
            maxAttributeBytes: Int = 64 << 10
        ) {
            self.maxInputBytes = maxInputBytes
            self.maxDepth = maxDepth
            self.maxElements = maxElements
            self.maxTextBytes = maxTextBytes
            self.maxAttributes = maxAttributes
            self.maxNameBytes = maxNameBytes
            self.maxAttributeBytes = maxAttributeBytes
        }

        public static let standard = Limits()
    }

    public struct Attribute: Sendable, Equatable {
        /// The local name (`Ccy`; `ns` for `xmlns:ns`).
        public var name: String
        /// The prefix as written (`xmlns` for a namespace declaration), or nil.
        public var prefix: String?
        /// With references replaced, and tab, CR and LF written as such turned into spaces.
        public var value: String
    }

    public struct Element: Sendable {
        /// The local name: `Ntry` for `<ns:Ntry>`.
        public let name: String
        /// The prefix as written, or nil.
        public let prefix: String?
        /// The namespace the prefix (or the default declaration in scope) names, or nil.
        public let namespace: String?
        public let attributes: [Attribute]
        /// Indexes of the child elements in `Document.elements`, in document order.
        public internal(set) var children: [Int]
        /// Character data directly inside (CDATA included, references replaced, line ends
        /// read as LF), without the comments and the children. Runs of whitespace before
        /// the first other character are left out: indentation between children is not kept.
        public internal(set) var text: String
        /// The parent's index; nil for the root.
        public let parent: Int?
        /// Byte offset of the element's `<` in the input.
        public let offset: Int

        /// The value of the attribute whose local name is `name`.
        public func attribute(_ name: String) -> String? {
            attributes.first { $0.name == name && $0.prefix != "xmlns" }?.value
        }
    }

    /// A document read: its elements in document order, the root first.
    public struct Document: Sendable {
        public internal(set) var elements: [Element]
        /// The input, kept to tell the line and column of an element.
        let bytes: [UInt8]

        /// The root element's index (always 0).
        public var root: Int { 0 }

        public subscript(index: Int) -> Element { elements[index] }

        /// The children of `parent` whose local name is `name`.
        public func children(of parent: Int, named name: String) -> [Int] {
            elements[parent].children.filter { elements[$0].name == name }
        }

        /// The first child of `parent` named `path[0]`, then its first child named
        /// `path[1]`, and so on; nil as soon as one is missing.
        public func first(_ parent: Int, _ path: String...) -> Int? {
            first(parent, path: path)
        }

        public func first(_ parent: Int, path: [String]) -> Int? {
            var current = parent
            for name in path {
                guard let next = elements[current].children.first(where: { elements[$0].name == name }) else {
                    return nil
                }
                current = next
            }
            return current
        }

        /// `Document/BkToCstmrStmt/Stmt`: the local names from the root down to `index`.
        public func path(of index: Int) -> String {
            var names: [String] = []
            var current: Int? = index
            while let at = current, names.count <= elements.count {
                names.append(elements[at].name)
                current = elements[at].parent
            }
            return names.reversed().joined(separator: "/")
        }

        /// Where the element starts: line and column, from 1.
        public func position(of index: Int) -> (line: Int, column: Int) {
            SafeXML.position(in: bytes, offset: elements[index].offset)
        }
    }

    /// Why a document was refused, and where.
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let column: Int
        /// The open elements' local names (`Document/BkToCstmrStmt/Stmt`), or nil outside
        /// the root.
        public let path: String?
        /// What is wrong, in English, without the position.
        public let reason: String

        /// `path` and `reason` are kept on one line: any control character (C0, DEL, C1,
        /// U+2028, U+2029) a name or a quoted value brought in becomes `?`.
        public init(line: Int, column: Int, path: String?, reason: String) {
            self.line = line
            self.column = column
            self.path = path.map(SafeXML.printable)
            self.reason = SafeXML.printable(reason)
        }

        /// `line 12, column 5, in Document/BkToCstmrStmt/Stmt/Ntry: </Amt> closes <Ntry>`.
        public var description: String {
            "line \(line), column \(column)" + (path.map { ", in \($0)" } ?? "") + ": " + reason
        }
    }

    /// Reads a whole document. Never traps, never recurses; throws `SafeXML.Error`.
    public static func parse(_ bytes: [UInt8], limits: Limits = .standard) throws -> Document {
        var parser = SafeXMLParser(bytes: bytes, limits: limits)
        do {
            try parser.run()
        } catch let failure as SafeXMLParser.Failure {
            let (line, column) = position(in: bytes, offset: failure.offset)
            let names = parser.openPath()
            throw Error(line: line, column: column, path: names.isEmpty ? nil : names, reason: failure.reason)
        }
        return Document(elements: parser.elements, bytes: bytes)
    }

    /// `text` with every control character (C0, DEL, C1, U+2028, U+2029) replaced by `?`:
    /// what an error message quotes from the input stays on one line.
    public static func printable(_ text: String) -> String {
        let isControl = { (scalar: Unicode.Scalar) in
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                || scalar.value == 0x2029
        }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "?" : $0 }))
    }

    /// Line and column (in characters, from 1) of a byte offset. A UTF-8 byte order mark
    /// takes no column; CR LF, LF and a lone CR each end a line.
    static func position(in bytes: [UInt8], offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var k = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let end = min(max(offset, 0), bytes.count)
        while k < end {
            let byte = bytes[k]
            if byte == 10 {
                line += 1
                column = 1
            } else if byte == 13 {
                if k + 1 >= bytes.count || bytes[k + 1] != 10 {
                    line += 1
                    column = 1
                }
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            k += 1
        }
        return (line, column)
    }
}
