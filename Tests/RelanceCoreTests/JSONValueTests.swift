import Foundation
import RelanceCore
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test("parses objects, arrays and scalars")
    func parsesStructure() throws {
        let value = try JSONValue.parse(
            #"{"name": "Dupont & Fils", "paid": false, "note": null, "tags": ["a", 1, true], "nested": {"k": "v"}}"#)
        #expect(
            value
                == .object([
                    "name": .string("Dupont & Fils"), "paid": .bool(false), "note": .null,
                    "tags": .array([.string("a"), .number("1"), .bool(true)]), "nested": .object(["k": .string("v")]),
                ]))
        #expect(value["name"]?.stringValue == "Dupont & Fils")
        #expect(value["tags"]?.arrayValue?.count == 3)
        #expect(value["nested"]?.objectValue == ["k": .string("v")])
        #expect(value["missing"] == nil)
    }

    @Test("booleans and the numbers 0 and 1 are not confused")
    func boolsAreNotNumbers() throws {
        let items = try #require(try JSONValue.parse("[0, 1, true, false, 12]").arrayValue)
        #expect(items == [.number("0"), .number("1"), .bool(true), .bool(false), .number("12")])
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("0") == .number("0"))
    }

    @Test("strings keep escapes, unicode and slashes")
    func strings() throws {
        let value = try JSONValue.parse(#"{"s": "l\u00e9a \"q\" \\ / \n 🙂 https://x.example/p"}"#)
        #expect(value["s"] == .string("léa \"q\" \\ / \n 🙂 https://x.example/p"))
    }

    @Test(
        "numbers keep their decimal value exactly, never through Double",
        arguments: [
            "0.1", "0.3", "1250.5", "-3.75", "9007199254740993", "123456789012345678.25", "0", "42",
            "3.14159265358979323846", "-0.000000000000000000001",
        ])
    func exactNumbers(_ text: String) throws {
        let value = try JSONValue.parse(#"{"n": \#(text)}"#)
        #expect(value["n"] == .number(text))
    }

    @Test(
        "a JSON number keeps its exact value but not its trailing zeros (amounts are decimal strings for that reason)")
    func trailingZeros() throws {
        let value = try JSONValue.parse(#"{"amount": 1250.10, "fee": 12.00, "text": "1250.10"}"#)
        func decimal(_ v: JSONValue?) -> Decimal? {
            if case .number(let n) = v { return Decimal(string: n) }
            return nil
        }
        #expect(decimal(value["amount"]) == Decimal(string: "1250.1"))
        #expect(decimal(value["fee"]) == 12)
        #expect(value["text"] == .string("1250.10"))
    }

    @Test("nesting up to the documented depth parses")
    func nesting() throws {
        // Deepest value at depth maximumDepth: arrays at depths 0 ..< maximumDepth, then the number.
        let depth = JSONValue.maximumDepth
        #expect(depth >= 32, "job data needs a few levels (invoices, amounts…)")
        let text = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        var value = try JSONValue.parse(text)
        for _ in 0..<depth {
            value = try #require(value.arrayValue?.first)
        }
        #expect(value == .number("1"))
        // Objects count the same way.
        let objects = String(repeating: #"{"a":"#, count: depth) + "true" + String(repeating: "}", count: depth)
        #expect(try JSONValue.parse(objects) != .null)
    }

    @Test("deeper nesting is refused with an error, not a crash", arguments: [JSONValue.maximumDepth + 1, 100_000])
    func tooDeep(depth: Int) {
        let text = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test(
        "malformed JSON throws JSONParseError",
        arguments: [
            "", " ", "{", "}", #"{"a":}"#, #"{"a" 1}"#, "{'a':1}", "tru", "nul",
            #""unterminated"#, #"{"a":1}}"#, "[1] [2]", "NaN", "01", "1.", ".5", "+1", #"{"a":"\x"}"#, "[1 2]",
        ])
    func malformed(_ text: String) {
        #expect {
            try JSONValue.parse(text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return !error.message.isEmpty && error.description.hasPrefix("malformed JSON: ")
        }
    }

    @Test(
        "trailing commas are refused (RFC 8259): other readers of the jobs table would choke on them",
        arguments: ["[1,]", #"{"a":1,}"#])
    func trailingComma(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test(
        "what else RFC 8259 refuses is refused, and the error says where",
        arguments: [
            ("\"a\tb\"", "control character in a string (escape it) at byte 2"),
            (#""\ud800""#, "lone UTF-16 surrogate in a \\u escape at byte 7"),
            (#""\udc00x""#, "lone UTF-16 surrogate in a \\u escape at byte 7"),
            (#"{"a":1,"b":tru}"#, "invalid literal, expected 'true' at byte 11"),
            (#"[1,2"#, "unexpected end of input, expected ',' or ']' at byte 4"),
            (#"{"a" 1}"#, "unexpected '1', expected ':' at byte 5"),
            ("-", "invalid number at byte 1"),
            ("1e", "invalid number (no digit in the exponent) at byte 2"),
            ("[1,]", "unexpected ']', expected a value at byte 3"),
        ])
    func strictErrors(_ text: String, _ message: String) {
        #expect {
            try JSONValue.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.message == message
        }
    }

    @Test("invalid UTF-8 is refused, valid multi-byte text is kept")
    func utf8() throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(data: Data([0x22, 0xC3, 0x28, 0x22])) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(data: Data([0x22, 0xED, 0xA0, 0x80, 0x22])) }
        #expect(try JSONValue.parse(data: Data(#""Société \u00e9 \ud83d\ude42""#.utf8)) == .string("Société é 🙂"))
    }

    @Test(
        "a number with an exponent is kept as the decimal it stands for",
        arguments: [
            ("1e3", "1000"), ("1.5E+3", "1500"), ("25e-4", "0.0025"), ("-2.50e1", "-25"), ("0e5", "0"),
            ("1.2345e2", "123.45"), ("-0.0e0", "0"), ("12.00", "12"), ("1250.10", "1250.1"), ("0.0", "0"),
            ("-0.50", "-0.5"), ("1e64", "1" + String(repeating: "0", count: 64)), ("1e65", "1e65"),
            ("2.5e-999999", "2.5e-999999"), ("1e99999999999999999999", "1e99999999999999999999"),
        ])
    func exponents(_ text: String, _ expected: String) throws {
        #expect(try JSONValue.parse(text) == .number(expected))
    }

    @Test(
        "a member name twice in one object is refused (a proxy reading the first and Relance the last would disagree)",
        arguments: [#"{"a":1,"a":2}"#, #"{"payer_ref":"FN1","x":{},"payer_ref":"NOPE"}"#, #"[{"b":{"c":1,"c":1}}]"#])
    func duplicateKeys(_ text: String) throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        // The same name in different objects is no duplicate.
        #expect(try JSONValue.parse(#"{"a":{"a":1},"b":[{"a":2},{"a":3}]}"#).objectValue?.count == 2)
    }

    @Test("jsonText sorts keys at every level and does not escape slashes")
    func sortedKeys() throws {
        let value: JSONValue = ["b": 1, "a": ["d": "x", "c": [true, nil]], "url": "https://pay.example/r/1"]
        #expect(value.jsonText == #"{"a":{"c":[true,null],"d":"x"},"b":1,"url":"https://pay.example/r/1"}"#)
    }

    @Test(
        "jsonText round-trips through parse",
        arguments: [
            #"{}"#, #"[]"#, #"{"a":[1,2,{"b":null}],"c":"é\"\n","d":false}"#, #"{"amount":"1250.10","currency":"EUR"}"#,
            #"[0.1,-2.5,1000000,"🙂"]"#, #""just a string""#, "true", "null", "12.5",
        ])
    func roundTrip(_ text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.jsonText) == value)
        // Stable: rendering twice gives the same text (hashes in the trace rely on it).
        #expect(try JSONValue.parse(value.jsonText).jsonText == value.jsonText)
    }

    @Test("a number is written as the text it holds")
    func numberText() {
        #expect(JSONValue.number("0.1").jsonText == "0.1")
        #expect(JSONValue.number("-3.75").jsonText == "-3.75")
        #expect(JSONValue.number("1250.10").jsonText == "1250.10")
    }
}
