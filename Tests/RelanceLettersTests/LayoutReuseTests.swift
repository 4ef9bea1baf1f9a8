import CPangoCairo
import Foundation
import Testing

@testable import RelanceLetters

/// What the renderer does to go faster must not change what it prints: a block measured and then reused
/// sits where a layout made at the final width would put it, and the Pango context kept per thread
/// carries nothing from one letter to the next.
@Suite("Layouts reused, per-thread typesetter")
struct LayoutReuseTests {
    let renderer = LetterRenderer()

    func sameLines(_ reused: TextBlock, _ laidOut: TextBlock) -> Bool {
        reused.lines.count == laidOut.lines.count
            && zip(reused.lines, laidOut.lines).allSatisfy {
                $0.x == $1.x && $0.width == $1.width && $0.top == $1.top && $0.height == $1.height
                    && $0.baseline == $1.baseline
            }
    }

    @Test(
        "a one-line cell measured without a width lines up as if laid out at the column width",
        arguments: ["1 234,56 €", "F-2026-0001", "Reste dû", "12 septembre 2026"])
    func reusedCell(_ text: String) {
        let typesetter = Typesetter.forCurrentThread(fontFamily: "DejaVu Sans")
        for style in [TextStyle.table, .tableBold] {
            let measured = typesetter.text(text, style: style)
            let room = measured.width + mm(7.3)
            #expect(measured.isOneLine(within: room))
            #expect(sameLines(measured, typesetter.text(text, style: style, width: room)))
            measured.alignRight(within: room)
            #expect(
                sameLines(measured, typesetter.text(text, style: style, width: room, alignment: PANGO_ALIGN_RIGHT)))
        }
    }

    @Test("a cell wider than its column, or on two lines, is laid out again")
    func notReused() {
        let typesetter = Typesetter.forCurrentThread(fontFamily: "DejaVu Sans")
        let wide = typesetter.text("SOCIETE DES ETABLISSEMENTS MARTIN", style: .table)
        #expect(!wide.isOneLine(within: wide.width - 0.5))
        #expect(wide.isOneLine(within: wide.width))
        #expect(!typesetter.text("a\nb", style: .table).isOneLine(within: 500))
    }

    @Test("a table with a narrow text column wraps its cells and keeps right-aligned amounts flush right")
    func wrappedTable() throws {
        let typesetter = Typesetter.forCurrentThread(fontFamily: "DejaVu Sans")
        let long = "Prestation de conseil et d'accompagnement du mois de septembre 2026, deuxième partie"
        let table = InvoiceTable(
            headers: ["N°", "Libellé", "Montant"], rows: [["1", long, "1 234,56 €"], ["2", "Court", "9,00 €"]],
            total: ["Total", "", "1 243,56 €"], rightAligned: [2])
        let layout = try TableLayout(table, x: 0, width: mm(170), typesetter: typesetter)
        let wrapped = layout.rows[0].cells[1]
        #expect(wrapped.lines.count >= 2)
        #expect(layout.rows[0].height > layout.rows[1].height)
        // Amounts end at the same x, reused or not.
        let rightEdges = (layout.rows + [layout.total!]).map { row in
            row.cells[2].lines[0].x + row.cells[2].lines[0].width
        }
        #expect(rightEdges.allSatisfy { abs($0 - rightEdges[0]) < 0.001 })
        // The empty total cell takes no text but the row's height.
        #expect(layout.total!.cells[1].lines.allSatisfy { $0.width == 0 })
    }

    @Test("one typesetter per thread; letters rendered one after the other on a thread share nothing")
    func perThread() async throws {
        let here = Typesetter.forCurrentThread(fontFamily: "DejaVu Sans")
        #expect(Typesetter.forCurrentThread(fontFamily: "DejaVu Sans") === here)
        #expect(Typesetter.forCurrentThread(fontFamily: "DejaVu Serif") !== here)

        let a = Fixture.letter(invoices: 2)
        let b = Fixture.letter(invoices: 60, recipient: ["M. Jean MARTIN", "3 place Bellecour", "69002 LYON"])
        let first = try renderer.render(a, envelope: .frDLRight)
        let other = try renderer.render(b, envelope: .frDLRight)
        let again = try renderer.render(a, envelope: .frDLRight)
        #expect(first.sha256 == again.sha256)
        #expect(first.sha256 != other.sha256)
        // The same letter rendered on a thread of its own, with a fresh typesetter, gives the same bytes.
        let fresh = try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result(catching: { try LetterRenderer().render(b, envelope: .frDLRight).sha256 }))
            }.start()
        }
        #expect(fresh == other.sha256)
    }

    @Test("the PDF creation date, in UTC to the second")
    func creationDate() {
        #expect(PDFWriter.iso8601(Date(timeIntervalSince1970: 1_795_426_200)) == "2026-11-23T09:30:00Z")
        #expect(PDFWriter.iso8601(Date(timeIntervalSince1970: 1_795_426_200.999)) == "2026-11-23T09:30:00Z")
        #expect(PDFWriter.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(PDFWriter.iso8601(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
        #expect(PDFWriter.iso8601(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test("a line of spaces, tabs or no-break spaces separates paragraphs")
    func blankLines() {
        #expect(
            BodyPart.split("a\n\t \u{00A0}\u{202F}\nb\n\u{3000}\nc")
                == [.paragraph("a"), .paragraph("b"), .paragraph("c")])
        #expect(BodyPart.split("a\n.\nb") == [.paragraph("a\n.\nb")])
    }
}
