import RelancePayments
import Testing

@Suite("SafeXML: the reader")
struct SafeXMLTests {
    static func parse(_ text: String) throws -> SafeXML.Document {
        try SafeXML.parse(Array(text.utf8))
    }

    static func refusal(_ bytes: [UInt8], limits: SafeXML.Limits = .standard) -> SafeXML.Error? {
        do {
            _ = try SafeXML.parse(bytes, limits: limits)
            return nil
        } catch let error as SafeXML.Error {
            return error
        } catch {
            Issue.record("not a SafeXML.Error: \(error)")
            return nil
        }
    }

    @Test(
        "the text of the root element",
        arguments: [
            ("<a>x</a>", "x"),
            ("<a>&lt;&gt;&amp;&apos;&quot;</a>", "<>&'\""),
            ("<a>&#65;&#x42;&#x1F600;&#233;&#xE9;</a>", "AB😀éé"),
            ("<a><![CDATA[<b>&amp;</b>]]></a>", "<b>&amp;</b>"),
            ("<a>x<!-- <b>not</b> -->y<?pi data?>z</a>", "xyz"),
            ("<a>one\r\ntwo\rthree</a>", "one\ntwo\nthree"),
            ("<a>\n   <b/>\n  </a>", ""),
            ("<a>\n <b/> mixed <c/> text\n</a>", " mixed  text\n"),
            ("<a>&#13;</a>", "\r"),
            ("\u{FEFF}<?xml version=\"1.0\"?>\n<a>é 🙂</a>\n", "é 🙂"),
            ("<?xml version='1.0' encoding='utf-8' standalone='yes'?><a>k</a>", "k"),
            ("<!-- before --><?pi?>\n<a>k</a><!-- after -->\n<?pi?>", "k"),
        ])
    func text(_ input: String, _ expected: String) throws {
        let document = try Self.parse(input)
        #expect(document[document.root].text == expected)
    }

    @Test("namespaces: local names, prefixes resolved, default namespace, attributes")
    func namespaces() throws {
        let document = try Self.parse(
            """
            <p:Document xmlns:p="urn:one" xmlns="urn:default">
              <p:Amt Ccy="EUR" p:x='1 &amp; 2'>1</p:Amt>
              <Plain a="tab\there"/>
              <Inner xmlns="urn:inner"><Deep/></Inner>
              <Empty xmlns=""/>
            </p:Document>
            """)
        let root = document[0]
        #expect(root.name == "Document" && root.prefix == "p" && root.namespace == "urn:one")
        let amount = try #require(document.first(0, "Amt"))
        #expect(document[amount].attribute("Ccy") == "EUR")
        #expect(document[amount].attribute("x") == "1 & 2")
        #expect(document[amount].namespace == "urn:one")
        let plain = try #require(document.first(0, "Plain"))
        #expect(document[plain].namespace == "urn:default")
        #expect(document[plain].attribute("a") == "tab here")
        #expect(document[try #require(document.first(0, "Inner", "Deep"))].namespace == "urn:inner")
        #expect(document[try #require(document.first(0, "Empty"))].namespace == nil)
        #expect(document.path(of: try #require(document.first(0, "Inner", "Deep"))) == "Document/Inner/Deep")
        #expect(document.children(of: 0, named: "Amt").count == 1)
        #expect(document.position(of: amount) == (line: 2, column: 3))
    }

    @Test(
        "what it refuses, where, and why",
        arguments: [
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", 1, 1, nil, "a DOCTYPE is refused: this reader takes no DTD"),
            (
                "<?xml version=\"1.0\"?>\n<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", 2, 1, nil,
                "loads no external entity"
            ),
            ("<a><!DOCTYPE a></a>", 1, 4, "a", "a DOCTYPE is refused"),
            (
                "<a>&x;</a>", 1, 4, "a",
                "the entity &x; is not one of XML's five (lt, gt, amp, apos, quot): no DTD is read"
            ),
            ("<a>&#0;</a>", 1, 4, "a", "a character reference to NUL (&#0;)"),
            ("<a>&#xD800;</a>", 1, 4, "a", "&#xD800; names no character XML allows"),
            ("<a>&#x110000;</a>", 1, 4, "a", "&#x110000; names no character XML allows"),
            ("<a>&#1;</a>", 1, 4, "a", "&#1; names no character XML allows"),
            ("<a>&#;</a>", 1, 4, "a", "&#; is not a character reference"),
            ("<a>&#X43;</a>", 1, 4, "a", "&#X43; is not a character reference"),
            ("<a>&#x12G;</a>", 1, 4, "a", "&#x12G; is not a character reference"),
            ("<a>a & b</a>", 1, 6, "a", "'&' starts no reference (an ampersand is written &amp;)"),
            ("<a>x\0y</a>", 1, 5, nil, "a NUL byte"),
            ("<a>\u{7}</a>", 1, 4, nil, "the control character U+0007 (XML allows only tab, CR and LF)"),
            ("<a>\u{FFFF}</a>", 1, 4, nil, "U+FFFF is not a character XML allows"),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", 1, 31, nil,
                "the XML declaration names the encoding 'ISO-8859-1': only UTF-8 is read"
            ),
            ("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>", 1, 31, nil, "encoding 'UTF-16': only UTF-8"),
            ("<?xml encoding=\"UTF-8\"?><a/>", 1, 1, nil, "the XML declaration has no version"),
            ("<?xml version=\"2.0\"?><a/>", 1, 16, nil, "the XML version '2.0' is not 1.x"),
            ("<?xml version=\"1.0\" standalone=\"yes\" encoding=\"UTF-8\"?><a/>", 1, 38, nil, "in this order"),
            ("<a/>\n<?xml version=\"1.0\"?>", 2, 1, nil, "an XML declaration is allowed only at the very start"),
            ("<a><b></a>", 1, 7, "a/b", "</a> closes <b>"),
            ("<a></b>", 1, 4, "a", "</b> closes <a>"),
            ("</a>", 1, 1, nil, "</a> closes no element"),
            ("<a><b>", 1, 7, "a/b", "the document ends inside <b>: 2 element(s) not closed (truncated?)"),
            ("<a", 1, 1, nil, "the start tag <a> is not closed"),
            ("<a></a", 1, 4, "a", "the end tag </a> is not closed"),
            ("<a><!-- x</a>", 1, 4, "a", "a comment is not closed"),
            ("<a><!-- x -- y --></a>", 1, 11, "a", "'--' inside a comment"),
            ("<a><![CDATA[x</a>", 1, 4, "a", "a CDATA section is not closed"),
            ("<a><?pi x</a>", 1, 4, "a", "a processing instruction is not closed"),
            ("<a>]]></a>", 1, 4, "a", "']]>' in text"),
            ("<a><!ELEMENT a></a>", 1, 4, "a", "'<!' starts neither a comment nor a CDATA section"),
            ("", 1, 1, nil, "the document has no root element"),
            ("  \n ", 2, 2, nil, "the document has no root element"),
            ("x<a/>", 1, 1, nil, "text before the root element"),
            ("<a/>x", 1, 5, nil, "text after the root element"),
            ("<a/><b/>", 1, 5, nil, "a second root element <b>"),
            ("<![CDATA[x]]><a/>", 1, 1, nil, "a CDATA section outside the root element"),
            ("<a b=\"1\" b='2'/>", 1, 10, nil, "the attribute b appears twice in <a>"),
            ("<a b=1/>", 1, 6, nil, "expected a quoted value for the attribute b"),
            ("<a b/>", 1, 5, nil, "expected '=' after the attribute b"),
            ("<a b=\"1\"c=\"2\"/>", 1, 9, nil, "expected a space, '>' or '/>' in <a>, found 'c'"),
            ("<a b=\"x<y\"/>", 1, 8, nil, "'<' in the value of the attribute b"),
            ("<a b=\"x/>", 1, 6, nil, "the value of the attribute b is not closed"),
            ("<1a/>", 1, 2, nil, "expected an element name after '<', found '1'"),
            ("<a:b:c/>", 1, 2, nil, "'a:b:c' is not a valid qualified name"),
            ("<x:a/>", 1, 1, nil, "the prefix x of <x:a> is not declared"),
            ("<a x:b=\"1\"/>", 1, 4, nil, "the prefix x of the attribute x:b is not declared"),
            ("<a xmlns:x=\"\"/>", 1, 4, nil, "the namespace prefix x is declared empty"),
            ("<a>\n  <b>\n    </c>", 3, 5, "a/b", "</c> closes <b>"),
        ] as [(String, Int, Int, String?, String)])
    func refusals(_ input: String, _ line: Int, _ column: Int, _ path: String?, _ reason: String) throws {
        let error = try #require(Self.refusal(Array(input.utf8)), "accepted: \(input.debugDescription)")
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
        #expect(error.path == path, "\(error)")
    }

    @Test(
        "encodings other than UTF-8, and invalid UTF-8",
        arguments: [
            ([0xFF, 0xFE, 0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E, 0x00], "the document is UTF-16"),
            ([0x3C, 0x00, 0x61, 0x00], "starts with a NUL byte"),
            (Array("<a>".utf8) + [0xC3] + Array("</a>".utf8), "invalid UTF-8"),
            (Array("<a>".utf8) + [0xC0, 0xAF] + Array("</a>".utf8), "invalid UTF-8 (byte 0xC0)"),
            (Array("<a>".utf8) + [0xED, 0xA0, 0x80] + Array("</a>".utf8), "invalid UTF-8 (byte 0xED"),
            (Array("<a>".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("</a>".utf8), "invalid UTF-8 (byte 0xF4"),
            (Array("<a>".utf8) + [0xE9] + Array("</a>".utf8), "invalid UTF-8 (byte 0xE9"),
            (Array("<a>x".utf8) + [0xF0, 0x9F], "a character cut at the end"),
            (Array("<a>".utf8) + [0x80] + Array("</a>".utf8), "invalid UTF-8 (byte 0x80)"),
        ] as [([UInt8], String)])
    func encodings(_ bytes: [UInt8], _ reason: String) throws {
        let error = try #require(Self.refusal(bytes))
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test("limits: depth, element count, text, attributes, input size; no recursion on deep input")
    func limits() throws {
        let deep = String(repeating: "<a>", count: 65) + String(repeating: "</a>", count: 65)
        let error = try #require(Self.refusal(Array(deep.utf8)))
        #expect(error.reason == "<a> is nested deeper than 64 elements")
        #expect(error.column == 193)
        #expect(error.path?.split(separator: "/").count == 64)
        let allowed = String(repeating: "<a>", count: 64) + String(repeating: "</a>", count: 64)
        #expect(try Self.parse(allowed).elements.count == 64)
        // A million open tags: refused at the limit, in a loop.
        let huge = Array(String(repeating: "<a>", count: 1_000_000).utf8)
        #expect(Self.refusal(huge)?.reason == "<a> is nested deeper than 64 elements")

        var small = SafeXML.Limits()
        small.maxElements = 3
        #expect(Self.refusal(Array("<a><b/><b/><b/></a>".utf8), limits: small)?.reason == "more than 3 elements")
        small = SafeXML.Limits(maxTextBytes: 4)
        #expect(
            Self.refusal(Array("<a>12345</a>".utf8), limits: small)?.reason == "the text of <a> is longer than 4 bytes")
        #expect(
            Self.refusal(Array("<a>12<![CDATA[345]]></a>".utf8), limits: small)?.reason.contains("longer than 4")
                == true)
        small = SafeXML.Limits(maxAttributes: 2)
        #expect(
            Self.refusal(Array("<a b='' c='' d=''/>".utf8), limits: small)?.reason == "<a> has more than 2 attributes")
        small = SafeXML.Limits(maxInputBytes: 10)
        #expect(
            Self.refusal(Array("<a>0123456789</a>".utf8), limits: small)?.reason.contains(
                "is 17 bytes, more than the 10") == true)
        small = SafeXML.Limits(maxNameBytes: 3)
        #expect(Self.refusal(Array("<abcd/>".utf8), limits: small)?.reason == "a name longer than 3 bytes")
        small = SafeXML.Limits(maxAttributeBytes: 3)
        #expect(
            Self.refusal(Array("<a b='1234'/>".utf8), limits: small)?.reason.contains("longer than 3 bytes") == true)
        // Indentation between many children is not text: it never reaches the limit.
        small = SafeXML.Limits(maxTextBytes: 16)
        let wide = "<a>" + String(repeating: "\n    <b>x</b>", count: 100) + "\n</a>"
        #expect(try SafeXML.parse(Array(wide.utf8), limits: small).elements.count == 101)
    }

    @Test("the error's description: line, column, path, reason")
    func description() throws {
        let error = try #require(Self.refusal(Array("<Document>\n  <Ntry>\n    </Amt>".utf8)))
        #expect(error.description == "line 3, column 5, in Document/Ntry: </Amt> closes <Ntry>")
        #expect(
            SafeXML.Error(line: 1, column: 1, path: nil, reason: "a DOCTYPE is refused").description
                == "line 1, column 1: a DOCTYPE is refused")
    }

    @Test("an error stays on one line whatever it quotes (the fuzzer's first finding: a C1 control in a value)")
    func printableErrors() throws {
        let crasher = Array("<?xml version='1amt.04.000.08\">\n<nv)rsio\u{91}n='1.01111pH111d".utf8)
        let error = try #require(Self.refusal(crasher))
        #expect(error.reason == "the XML version '1amt.04.000.08\"> <nv)rsio?n=' is not 1.x")
        let name = try #require(Self.refusal(Array("<a\u{85}b></c>".utf8)))
        #expect(name.description == "line 1, column 6, in a?b: </c> closes <a?b>")
        #expect(SafeXML.printable("a\u{2028}b\tc\u{7F}") == "a?b?c?")
    }

    @Test("garbage never traps", arguments: [1, 2, 3])
    func garbage(_ seed: UInt64) {
        var state = seed
        func next() -> UInt8 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        let alphabet = Array("<>/?!-[]&#;x:=\"' aAbB\n".utf8)
        for length in [0, 1, 5, 64, 4_096] {
            let random = (0..<length).map { _ in next() }
            _ = Self.refusal(random)
            let markup = (0..<length).map { _ in alphabet[Int(next()) % alphabet.count] }
            _ = try? SafeXML.parse(markup)
            _ = try? CamtReader.read(markup)
        }
    }
}
