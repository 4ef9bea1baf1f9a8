import Foundation

/// A JSON document as a value: template data, trace details, API bodies.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    /// Numbers keep their textual form so that amounts never pass through `Double`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// Why a JSON text was refused.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "malformed JSON: \(message)" }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Decimal.self) {
            // Decimal keeps the exact digits of amounts; Double would not.
            self = .number(d.description)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(Decimal(string: n) ?? 0)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Parses a JSON text (RFC 8259) with Foundation's JSONSerialization, which is much
    /// cheaper than a Codable decode that tries each type in turn. Numbers come back
    /// as their shortest exact text ("1250.1"); amounts are decimal strings anyway.
    public static func parse(_ text: String) throws -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw JSONParseError(message: message ?? "\(error)")
        }
        return try convert(object, depth: 0)
    }

    static func convert(_ object: Any, depth: Int) throws -> JSONValue {
        guard depth <= maximumDepth else { throw JSONParseError(message: "nested deeper than \(maximumDepth) levels") }
        switch object {
        case let s as String: return .string(s)
        case is NSNull: return .null
        case let n as NSNumber:
            // JSON booleans arrive as NSNumber with the ObjC type 'c'.
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.description)
        case let a as [Any]: return .array(try a.map { try convert($0, depth: depth + 1) })
        case let o as [String: Any]:
            var fields: [String: JSONValue] = [:]
            fields.reserveCapacity(o.count)
            for (k, v) in o { fields[k] = try convert(v, depth: depth + 1) }
            return .object(fields)
        default: throw JSONParseError(message: "unsupported JSON value")
        }
    }

    /// Deeper documents are refused: no template needs them, and they cost stack.
    public static let maximumDepth = 64

    /// Compact JSON text with sorted keys (stable, so hashes and tests are reproducible).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
