import CProcessTuning
import Foundation
import Testing

@testable import RelanceLetters

@Suite("Letters rendered to PDF with Pango and Cairo")
struct LetterRendererTests {
    let renderer = LetterRenderer()
    let tools = ["pdftotext", "pdffonts", "pdfinfo", "qpdf"].allSatisfy(PDFFile.toolExists)

    @Test("a French letter with 2 invoices takes 1 page of PDF 1.5 with its metadata and embedded fonts")
    func onePage() throws {
        let letter = try renderer.render(Fixture.letter(invoices: 2), envelope: .frDLRight)
        #expect(letter.pages == 1)
        let header = String(decoding: letter.pdf.prefix(8), as: UTF8.self)
        #expect(header.hasPrefix("%PDF-1.") && Int(header.dropFirst(7))! >= 5, "header \(header)")
        #expect(letter.sha256.count == 64 && letter.sha256.allSatisfy(\.isHexDigit))
        guard tools else { return }
        let file = try PDFFile(letter)
        #expect(try file.run("qpdf", ["--check", "PDF"]).status == 0)
        let fonts = try file.fonts()
        #expect(!fonts.isEmpty)
        for font in fonts { #expect(font.embedded, "\(font.name) is not embedded") }
        let info = try file.info()
        #expect(info["Title"] == "Mise en demeure de payer")
        #expect(info["Author"] == "Atelier Dupont SAS")
        #expect(info["CreationDate"] == "2026-11-23T09:30:00Z")
        #expect(info["Pages"] == "1")
        #expect(info["Page size"] == "595.276 x 841.89 pts (A4)")
        #expect(info["PDF version"] == "1.5")
        let text = try file.text()
        #expect(text.contains("Objet : Mise en demeure de payer"))
        #expect(text.contains("F-2026-0002"))
        #expect(text.contains("1/1"))
    }

    @Test(
        "Cairo deflates the PDF's streams at zlib level 1 and stores font programs (Sources/CProcessTuning/deflate_level.c); qpdf still reads them"
    )
    func fastDeflate() throws {
        #expect(relance_default_deflate_level() == 1)
        #expect(relance_keep_freed_memory(128 << 20, 8 << 20) == 1, "glibc accepts the thresholds the daemon sets")
        let pdf = try renderer.render(Fixture.letter(invoices: 2), envelope: .frDLRight).pdf
        // Each stream starts with a zlib header: 0x78, then a byte whose top two bits give
        // the level class (0 for levels 0 and 1, 2 for the default level 6). The first
        // deflate block follows: BTYPE 00 (bits 1-2) is a stored block, whose data starts
        // 4 bytes later (its length and the length's complement).
        var compressed = 0
        var storedFonts = 0
        var levels: [UInt8] = []
        let marker = Array("stream\n".utf8)
        var i = 0
        while i + marker.count + 11 <= pdf.count {
            if pdf[i] == marker[0], Array(pdf[i..<i + marker.count]) == marker,
                i == 0 || pdf[i - 1] != UInt8(ascii: "d")
            {
                let start = i + marker.count
                if pdf[start] == 0x78 {
                    levels.append(pdf[start + 1])
                    if pdf[start + 2] & 0x06 == 0 {
                        let data = Array(pdf[start + 7..<start + 11])
                        #expect(data == [0, 1, 0, 0], "a stored stream that is not a TrueType font: \(data)")
                        storedFonts += 1
                    } else {
                        compressed += 1
                    }
                }
                i = start
            } else {
                i += 1
            }
        }
        #expect(storedFonts >= 2, "the font subsets (regular and bold) are stored")
        #expect(compressed >= 3, "the page content and the ToUnicode maps are deflated")
        #expect(levels.allSatisfy { $0 >> 6 == 0 }, "zlib headers \(levels.map { String($0, radix: 16) })")
        guard tools else { return }
        let file = try PDFFile(try renderer.render(Fixture.letter(invoices: 2), envelope: .frDLRight))
        #expect(try file.run("qpdf", ["--check", "PDF"]).status == 0)
        #expect(try file.text().contains("F-2026-0002"))
    }

    @Test(
        "font programs are told by their first four bytes",
        arguments: [
            ([0, 1, 0, 0, 0, 10] as [UInt8], true), (Array("true".utf8), true), (Array("OTTO\0".utf8), true),
            (Array("1 0 0 -1 0 8".utf8), false), (Array("/CIDInit /Pr".utf8), false), ([0, 1, 0], false),
            ([], false), ([0, 1, 0, 1], false),
        ])
    func fontProgram(_ bytes: [UInt8], _ font: Bool) {
        #expect((relance_is_font_program(bytes, UInt(bytes.count)) == 1) == font)
    }

    @Test("60 invoices flow onto a second page, which repeats the table's header row")
    func headerRepeated() throws {
        let letter = try renderer.render(Fixture.letter(invoices: 60), envelope: .frDLRight)
        #expect(letter.pages >= 2)
        guard tools else { return }
        let file = try PDFFile(letter)
        #expect(try file.run("qpdf", ["--check", "PDF"]).status == 0)
        for font in try file.fonts() { #expect(font.embedded, "\(font.name) is not embedded") }
        let second = try file.text(first: 2, last: 2)
        for header in Fixture.headers { #expect(second.contains(header), "\(header) missing on page 2") }
        #expect(second.contains("2/\(letter.pages)"))
        let all = try file.text()
        #expect(all.contains("F-2026-0060"))
        #expect(all.contains("Total"))
        #expect(all.contains("Jeanne Martin"))
        // Each invoice is printed once.
        #expect(all.components(separatedBy: "F-2026-0017").count == 2)
    }

    @Test("300 invoices are over the 10-page limit")
    func tooManyPages() {
        #expect {
            try renderer.render(Fixture.letter(invoices: 300), envelope: .frDLRight)
        } throws: { error in
            let message = (error as? LetterError)?.message ?? ""
            return message.hasPrefix("the letter takes 1") && message.hasSuffix("pages, over the limit of 10")
        }
    }

    @Test(
        "only the address prints inside the envelope window, on every page",
        arguments: EnvelopePreset.all)
    func window(_ preset: EnvelopePreset) throws {
        guard tools else { return }
        let logo = try Fixture.logoFile()
        defer { try? FileManager.default.removeItem(at: logo) }
        let letter = try renderer.render(Fixture.letter(invoices: 60, logo: logo.path), envelope: preset)
        #expect(letter.pages >= 2)
        let file = try PDFFile(letter)
        file.keep(as: "window-\(preset.name)")
        let points = 72 / 25.4
        let zone = (
            x: preset.x.lowerBound * points, y: preset.y.lowerBound * points, xMax: preset.x.upperBound * points,
            yMax: preset.y.upperBound * points
        )
        let words = try file.words()
        #expect(words.count > 300)
        let inside = words.filter { word in
            word.xMin < zone.xMax && zone.x < word.xMax && word.yMin < zone.yMax && zone.y < word.yMax
        }
        #expect(inside.map(\.text) == Fixture.recipient.flatMap { $0.split(separator: " ").map(String.init) })
        for word in inside {
            #expect(word.page == 1)
            #expect(
                word.xMin >= zone.x && word.xMax <= zone.xMax && word.yMin >= zone.y && word.yMax <= zone.yMax,
                "\(word.text) crosses the edge of the window")
        }
    }

    @Test("escaped markup prints as text")
    func escapedMarkup() throws {
        let body = "Société &lt;script&gt; &amp; Fils, <i>en italique</i>."
        let letter = try renderer.render(Fixture.letter(invoices: 0, body: body), envelope: .ukDLLeft)
        guard tools else { return }
        let text = try PDFFile(letter).text()
        #expect(text.contains("Société <script> & Fils, en italique."))
    }

    @Test("the table goes where the marker is, or after the body without one")
    func marker() throws {
        guard tools else { return }
        func order(_ body: String) throws -> [Int] {
            let letter = try renderer.render(Fixture.letter(invoices: 2, body: body), envelope: .din5008B)
            let text = try PDFFile(letter).text()
            return ["Avant", "Facture", "Après"].map { text.range(of: $0)?.lowerBound.utf16Offset(in: text) ?? -1 }
        }
        let marked = try order("Avant.\n\n%%INVOICES%%\n\nAprès.")
        #expect(marked[0] >= 0 && marked[0] < marked[1] && marked[1] < marked[2])
        let unmarked = try order("Avant.\n\nAprès.")
        #expect(unmarked[0] >= 0 && unmarked[0] < unmarked[2] && unmarked[2] < unmarked[1])
    }

    @Test("body paragraphs split on blank lines; the marker must be a line of its own")
    func bodyParts() {
        #expect(
            BodyPart.split("a\nb\n\n  \n%%INVOICES%%\r\nc %%INVOICES%%\n\n\nd\n")
                == [.paragraph("a\nb"), .invoices, .paragraph("c %%INVOICES%%"), .paragraph("d")])
        #expect(BodyPart.split("") == [])
    }

    @Test("an address line too wide for the window is refused, not ellipsized", arguments: EnvelopePreset.all)
    func wideAddressLine(_ preset: EnvelopePreset) {
        let wide = "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
        #expect(throws: LetterError.self) {
            try renderer.render(Fixture.letter(invoices: 2, recipient: ["M. Jean MARTIN", wide]), envelope: preset)
        }
        do {
            _ = try renderer.render(Fixture.letter(invoices: 2, recipient: ["M. Jean MARTIN", wide]), envelope: preset)
        } catch {
            #expect("\(error)".contains("\"\(wide)\" is too wide for the window of \(preset.name)"))
        }
    }

    static let longestLines = [
        "SOCIETE DES ETABLISSEMENTS MARTIN SARL", "Direction administrative et financiere",
        "Service de la comptabilite fournisseur", "Batiment B escalier 4 etage 3 porte 12",
        "ZONE INDUSTRIELLE DES GRANDS CHAMPS 12", "CH-1211 GENEVE 4 CASE POSTALE 1234 ABC",
        "SUISSE",
    ]

    @Test(
        "the widest and tallest addresses each preset takes keep 2.5 mm from every edge of the window (4 mm on the left), inside the address zone",
        arguments: [(EnvelopePreset.frDLRight, 7), (.ukDLLeft, 6), (.din5008B, 6)])
    func clearance(_ preset: EnvelopePreset, lines count: Int) throws {
        let lines = Array(Self.longestLines.prefix(count))
        #expect(lines.allSatisfy { $0.count <= 38 })
        let letter = try renderer.render(Fixture.letter(invoices: 2, recipient: lines), envelope: preset)
        #expect(letter.pages == 1)
        let layout = try LetterLayout(
            document: Fixture.letter(invoices: 2, recipient: lines), envelope: preset,
            typesetter: Typesetter.forCurrentThread(fontFamily: "DejaVu Sans"))
        let boxes = layout.address.map(\.box)
        #expect(boxes.count == count)
        let left = mm(preset.x.lowerBound) + mm(4)
        let right = mm(preset.x.upperBound) - mm(2.5)
        let top = mm(preset.addressY.lowerBound) + mm(2.5)
        let bottom = mm(preset.addressY.upperBound) - mm(2.5)
        for box in boxes {
            #expect(box.x >= left - 0.01 && box.x + box.width <= right + 0.01, "\(preset.name): \(box)")
            #expect(box.y >= top - 0.01 && box.y + box.height <= bottom + 0.01, "\(preset.name): \(box)")
        }
        // One line more than the preset takes is refused, saying why.
        if count < 7 {
            #expect(throws: LetterError.self) {
                try renderer.render(
                    Fixture.letter(invoices: 2, recipient: Array(Self.longestLines.prefix(count + 1))), envelope: preset
                )
            }
        }
    }

    @Test("DIN 5008 form B: the address starts in the address zone (from 62.7 mm), below the notes zone")
    func dinAddressZone() throws {
        let layout = try LetterLayout(
            document: Fixture.letter(invoices: 2, recipient: ["Herrn Hans Meier", "Hauptstr. 5", "10115 Berlin"]),
            envelope: .din5008B, typesetter: Typesetter.forCurrentThread(fontFamily: "DejaVu Sans"))
        let firstLine = try #require(layout.address.first?.box)
        #expect(firstLine.y >= mm(62.7 + 2.5) - 0.01)
    }

    @Test("an address with too many lines for the window is refused")
    func tooManyAddressLines() {
        #expect(throws: LetterError.self) {
            try renderer.render(
                Fixture.letter(invoices: 2, recipient: (1...12).map { "Ligne \($0)" }), envelope: .ukDLLeft)
        }
    }

    @Test("markup that does not parse, or a logo that cannot be read, is an error")
    func badInput() {
        #expect(throws: LetterError.self) {
            try renderer.render(Fixture.letter(invoices: 2, body: "Un <b>gras non fermé."), envelope: .frDLRight)
        }
        #expect(throws: LetterError.self) {
            try renderer.render(
                Fixture.letter(invoices: 2, logo: "/nonexistent/logo.png"), envelope: .frDLRight)
        }
    }

    @Test("presets by name")
    func presets() {
        #expect(EnvelopePreset.named("fr-dl-right") == .frDLRight)
        #expect(EnvelopePreset.named("uk-dl-left")?.x == 24.6...120)
        #expect(EnvelopePreset.named("din-5008-b")?.y == 45...90)
        #expect(EnvelopePreset.named("us-10") == nil)
    }

    @Test("renders on several threads at once give the same bytes as one render")
    func concurrent() async throws {
        let document = Fixture.letter(invoices: 60)
        let reference = try renderer.render(document, envelope: .frDLRight)
        let renderer = self.renderer
        let hashes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try renderer.render(document, envelope: .frDLRight).sha256 }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(hashes == Array(repeating: reference.sha256, count: 8))
    }
}
