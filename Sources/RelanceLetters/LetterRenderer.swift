import CPangoCairo
import Foundation
import RelanceCore

/// Renders letters to PDF (A4, PDF 1.5, fonts embedded and subset) with Pango and Cairo.
///
/// Page 1: logo and sender block in the top corner away from the envelope window, the recipient's
/// address inside the window, then place and date (right-aligned), references, subject (bold), body and
/// invoice table. The table flows onto further pages, its header row repeated on each. Pages 2 and later
/// start below the window's bottom edge, so that nothing but the address ever prints inside the window.
/// Every page has a footer: the sender's name on the left, the page label on the right.
///
/// Thread-safe: each call has its own Cairo surface and layouts, and uses the calling thread's Pango
/// context (kept from one call to the next on that thread, see `Typesetter.forCurrentThread`) and default
/// PangoCairo font map (one per thread since Pango 1.32.6), so calls on several threads at once share no
/// Pango state.
public struct LetterRenderer: Sendable {
    public var fontFamily: String
    public var maxPages: Int

    public init(fontFamily: String = "DejaVu Sans", maxPages: Int = 10) {
        self.fontFamily = fontFamily
        self.maxPages = maxPages
    }

    public func render(_ document: LetterDocument, envelope: EnvelopePreset) throws -> RenderedLetter {
        let typesetter = Typesetter.forCurrentThread(fontFamily: fontFamily)
        // A character no installed font has would print as a box with its code in it: the
        // letter is refused, naming the characters, rather than posted so.
        var table: [String] = []
        if let t = document.table { table = t.headers + t.rows.flatMap { $0 } + t.total }
        let texts =
            document.senderLines + document.recipientLines + [
                document.placeAndDate, document.subject, document.bodyMarkup,
            ]
            + document.references.flatMap { [$0.label, $0.value] } + table
        try printable(texts, typesetter: typesetter, what: "the letter")
        let letter = try LetterLayout(document: document, envelope: envelope, typesetter: typesetter)
        guard letter.pages.count <= maxPages else {
            throw LetterError("the letter takes \(letter.pages.count) pages, over the limit of \(maxPages)")
        }
        let pdf = try PDFWriter.write(letter, document: document)
        return RenderedLetter(pdf: pdf, pages: letter.pages.count, sha256: SHA256.hex(pdf))
    }

    /// What `render` would refuse about the recipient's address alone, without rendering:
    /// a character the fonts lack, a line too wide for the window even at 8 pt, too many
    /// lines. Enqueue calls it so that such an address is refused at once, not at dispatch.
    public func checkAddress(_ lines: [String], envelope: EnvelopePreset) throws(LetterError) {
        let typesetter = Typesetter.forCurrentThread(fontFamily: fontFamily)
        try printable(lines, typesetter: typesetter, what: "the address")
        _ = try LetterLayout.address(
            lines, in: LetterLayout.addressZone(of: envelope), of: envelope, typesetter: typesetter)
    }

    /// Refuses `texts` when a character in them is in no installed font (it would print as a
    /// box with its code in it), naming the characters.
    private func printable(_ texts: [String], typesetter: Typesetter, what: String) throws(LetterError) {
        let missing = typesetter.unprintable(texts.joined(separator: "\n"))
        guard !missing.isEmpty else { return }
        let named = missing.prefix(10).map { "\(Character($0)) (U+\(String($0.value, radix: 16, uppercase: true)))" }
        throw LetterError(
            "the fonts cannot print \(missing.count) character(s) of \(what): \(named.joined(separator: ", "))\(missing.count > 10 ? ", …" : "") (letters.font: \(fontFamily))"
        )
    }
}

/// A letter laid out into pages of drawing operations.
struct LetterLayout {
    static let pageWidth = mm(210)
    static let pageHeight = mm(297)
    static let left = mm(20)
    static let right = mm(190)
    static let contentWidth = right - left
    static let headerTop = mm(15)
    static let contentBottom = mm(275)
    static let footerTop = mm(281)

    /// Inside the window: room kept between its edges and the address, at least 2.5 mm on
    /// every side so that a letter shifting in its envelope never shows a cut line.
    static let windowPadding = (left: mm(4), right: mm(2.5), top: mm(2.5), bottom: mm(2.5))
    /// Sizes tried for the address, largest first.
    static let addressSizes: [Double] = [10, 9.5, 9, 8.5, 8]

    /// Every page's operations; the address is in `address`, apart.
    var pages: [[DrawOp]]
    var address: [DrawOp]

    init(document: LetterDocument, envelope: EnvelopePreset, typesetter: Typesetter) throws(LetterError) {
        let window = Box(
            x: mm(envelope.x.lowerBound), y: mm(envelope.y.lowerBound),
            width: mm(envelope.x.upperBound - envelope.x.lowerBound),
            height: mm(envelope.y.upperBound - envelope.y.lowerBound))
        guard window.x >= 0, window.y >= 0, window.x + window.width <= Self.pageWidth, window.width > 0,
            window.height > 0, window.y + window.height <= Self.pageHeight / 2
        else { throw LetterError("the window of \(envelope.name) is not in the top half of an A4 page") }

        address = try Self.address(
            document.recipientLines, in: Self.addressZone(of: envelope), of: envelope, typesetter: typesetter)
        var header: [DrawOp] = []
        let headerBottom = try Self.header(
            document, avoiding: window, of: envelope, typesetter: typesetter, into: &header)

        var flow = PageFlow(
            firstTop: max(window.y + window.height, headerBottom) + mm(8),
            continuationTop: max(mm(20), window.y + window.height + mm(5)), bottom: Self.contentBottom)
        for op in header { flow.add(op) }
        try Self.body(document, folds: envelope.folds.map(mm), typesetter: typesetter, into: &flow)

        pages = flow.pages
        for (index, _) in pages.enumerated() {
            pages[index] += Self.footer(document, page: index + 1, of: pages.count, typesetter: typesetter)
            for op in pages[index] {
                let box = op.box
                if box.width > 0 && box.height > 0 && box.intersects(window) {
                    throw LetterError(
                        "the layout would print inside the address window of \(envelope.name) on page \(index + 1)")
                }
            }
        }
    }

    /// The part of the window the address may take (the whole window, or a band of it:
    /// DIN 5008 form B keeps the address out of the notes zone).
    static func addressZone(of envelope: EnvelopePreset) -> Box {
        Box(
            x: mm(envelope.x.lowerBound), y: mm(envelope.addressY.lowerBound),
            width: mm(envelope.x.upperBound - envelope.x.lowerBound),
            height: mm(envelope.addressY.upperBound - envelope.addressY.lowerBound))
    }

    /// The recipient's lines, from the top of the window, at the largest size from 10 down to 8 pt that fits
    /// the window; throws when a line is too wide, or the lines too many, even at 8 pt.
    static func address(
        _ lines: [String], in window: Box, of envelope: EnvelopePreset, typesetter: Typesetter
    ) throws(LetterError) -> [DrawOp] {
        guard lines.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw LetterError("the letter has no recipient address")
        }
        if let line = lines.first(where: { $0.contains(where: \.isNewline) }) {
            throw LetterError("the address line \"\(line)\" holds a line break")
        }
        let padding = windowPadding
        let room = (
            width: window.width - padding.left - padding.right, height: window.height - padding.top - padding.bottom
        )
        var widest: (line: String, width: Double) = ("", 0)
        for points in addressSizes {
            let blocks = lines.map { typesetter.text($0, style: .address, points: points) }
            widest = zip(lines, blocks.map(\.width)).max { $0.1 < $1.1 }.map { (line: $0.0, width: $0.1) } ?? widest
            guard widest.width <= room.width, blocks.map(\.height).reduce(0, +) <= room.height else { continue }
            var ops: [DrawOp] = []
            var y = window.y + padding.top
            for block in blocks {
                ops.append(.text(block, lines: 0..<1, x: window.x + padding.left, y: y, gray: 0))
                y += block.height
            }
            return ops
        }
        if widest.width > room.width {
            throw LetterError(
                "the address line \"\(widest.line)\" is too wide for the window of \(envelope.name) "
                    + "(\(millimetres(widest.width)) mm at \(addressSizes.last!) pt, at most \(millimetres(room.width)) mm)"
            )
        }
        throw LetterError(
            "the address has \(lines.count) lines, too many for the window of \(envelope.name) "
                + "(\(millimetres(room.height)) mm high inside 2.5 mm margins)")
    }

    /// Logo and sender block, in the top corner the window leaves free. Returns the bottom of the header.
    private static func header(
        _ document: LetterDocument, avoiding window: Box, of envelope: EnvelopePreset, typesetter: Typesetter,
        into ops: inout [DrawOp]
    ) throws(LetterError) -> Double {
        // The sender block goes on the side of the window with more room: left of a right-hand window,
        // right of a left-hand one.
        let leftRoom = window.x - mm(5) - left
        let rightStart = window.x + window.width + mm(5)
        let column =
            leftRoom >= right - rightStart
            ? (x: left, width: leftRoom) : (x: rightStart, width: right - rightStart)
        guard column.width >= mm(45) else {
            throw LetterError("the window of \(envelope.name) leaves no room for the sender block")
        }
        var bottom = headerTop
        var senderTop = headerTop
        if let path = document.logoPNG {
            let logo = try LogoImage(path: path)
            // Top-left, 40 x 20 mm at most, shrunk to stay above a window below it, or else at the top
            // of the sender column.
            var frame = Box(x: left, y: headerTop, width: mm(40), height: mm(20))
            if frame.intersects(window) { frame.height = window.y - mm(3) - headerTop }
            if frame.height < mm(8) {
                frame = Box(x: column.x, y: headerTop, width: min(mm(40), column.width), height: mm(20))
            }
            let scale = min(frame.width / logo.width, frame.height / logo.height)
            let drawn = Box(x: frame.x, y: frame.y, width: logo.width * scale, height: logo.height * scale)
            ops.append(.image(logo, drawn))
            bottom = drawn.y + drawn.height
            if drawn.x < column.x + column.width && column.x < drawn.x + drawn.width {
                senderTop = bottom + mm(4)
            }
        }
        var y = senderTop
        for (index, line) in document.senderLines.enumerated() {
            let style: TextStyle = index == 0 ? .senderName : .senderDetail
            var block = typesetter.text(line, style: style, width: column.width)
            // "phone · e-mail" too wide for the column goes on two lines at the dot rather
            // than wrapping inside the address (Pango breaks after a hyphen); an address
            // still too wide is set smaller, down to 6.5 pt, to stay whole.
            let pieces = line.components(separatedBy: " · ")
            if index > 0, block.lines.count > 1, pieces.count > 1 || Self.unbreakable(line) {
                for piece in pieces.dropLast() {
                    let part = Self.detail(piece, width: column.width, typesetter: typesetter)
                    ops.append(.text(part, lines: 0..<part.lines.count, x: column.x, y: y, gray: 0.2))
                    y += part.height
                }
                block = Self.detail(pieces.last!, width: column.width, typesetter: typesetter)
            }
            ops.append(.text(block, lines: 0..<block.lines.count, x: column.x, y: y, gray: index == 0 ? 0 : 0.2))
            y += block.height + (index == 0 ? mm(1) : 0)
        }
        return max(bottom, y)
    }

    /// An e-mail address or a URL: a line break inside it would change it.
    static func unbreakable(_ text: String) -> Bool {
        !text.contains(" ") && (text.contains("@") || text.contains("://"))
    }

    /// A sender detail on as few lines as the column allows; an address or URL on one line,
    /// smaller if it must be.
    static func detail(_ text: String, width: Double, typesetter: Typesetter) -> TextBlock {
        let block = typesetter.text(text, style: .senderDetail, width: width)
        guard block.lines.count > 1, unbreakable(text) else { return block }
        for points in stride(from: 8.0, through: 6.5, by: -0.5) {
            let smaller = typesetter.text(text, style: .senderDetail, points: points)
            if smaller.width <= width { return smaller }
        }
        return block
    }

    /// Place and date, references, subject, then the body paragraphs with the table where the marker is.
    private static func body(
        _ document: LetterDocument, folds: [Double], typesetter: Typesetter, into flow: inout PageFlow
    ) throws(LetterError) {
        if !document.placeAndDate.isEmpty {
            let block = typesetter.text(
                document.placeAndDate, style: .body, width: contentWidth, alignment: PANGO_ALIGN_RIGHT)
            flow.place(block, x: left)
            flow.skip(mm(6))
        }
        if !document.references.isEmpty {
            let labels = document.references.map { typesetter.text($0.label, style: .reference) }
            let labelWidth = min((labels.map(\.width).max() ?? 0) + mm(4), mm(60))
            for (reference, measured) in zip(document.references, labels) {
                // The label measured above is drawn as it is when it fits on its line, as it nearly always does.
                let label =
                    measured.isOneLine(within: labelWidth - mm(2))
                    ? measured : typesetter.text(reference.label, style: .reference, width: labelWidth - mm(2))
                let value = typesetter.text(reference.value, style: .reference, width: contentWidth - labelWidth)
                let height = max(label.height, value.height)
                flow.keep(height)
                flow.add(.text(label, lines: 0..<label.lines.count, x: left, y: flow.y, gray: 0.3))
                flow.add(.text(value, lines: 0..<value.lines.count, x: left + labelWidth, y: flow.y, gray: 0))
                flow.skip(height)
            }
            flow.skip(mm(5))
        }
        if !document.subject.isEmpty {
            flow.place(typesetter.text(document.subject, style: .bold, width: contentWidth), x: left)
            flow.skip(mm(5))
        }
        var tablePlaced = false
        var codePlaced = false
        let parts = BodyPart.split(document.bodyMarkup)
        for (index, part) in parts.enumerated() {
            switch part {
            case .paragraph(let markup):
                // The paragraph before the code's marker (the bank details) goes beside it.
                if index + 1 < parts.count, parts[index + 1] == .paymentCode, let code = document.paymentCode,
                    !codePlaced
                {
                    let block = try typesetter.markup(
                        markup, style: .body, width: PaymentCodeLayout.textWidth(beside: code), justify: false)
                    PaymentCodeLayout.place(code, beside: block, folds: folds, typesetter: typesetter, into: &flow)
                    flow.skip(mm(3))
                    codePlaced = true
                    continue
                }
                let block = try typesetter.markup(markup, style: .body, width: contentWidth, justify: true)
                flow.place(block, x: left)
                flow.skip(mm(3))
            case .invoices:
                guard let table = document.table, !tablePlaced else { continue }
                try TableLayout(table, x: left, width: contentWidth, typesetter: typesetter).place(in: &flow)
                flow.skip(mm(5))
                tablePlaced = true
            case .paymentCode:
                guard let code = document.paymentCode, !codePlaced else { continue }
                PaymentCodeLayout.place(code, folds: folds, typesetter: typesetter, into: &flow)
                codePlaced = true
            }
        }
        if let table = document.table, !tablePlaced {
            try TableLayout(table, x: left, width: contentWidth, typesetter: typesetter).place(in: &flow)
        }
        if let code = document.paymentCode, !codePlaced {
            PaymentCodeLayout.place(code, folds: folds, typesetter: typesetter, into: &flow)
        }
    }

    private static func footer(
        _ document: LetterDocument, page: Int, of total: Int, typesetter: Typesetter
    ) -> [DrawOp] {
        var ops: [DrawOp] = []
        let labelWidth = mm(50)
        let label = typesetter.text(
            document.pageLabel(page, total), style: .footer, width: labelWidth, alignment: PANGO_ALIGN_RIGHT)
        ops.append(.text(label, lines: 0..<label.lines.count, x: right - labelWidth, y: footerTop, gray: 0.3))
        if let name = document.senderLines.first, !name.isEmpty {
            let block = typesetter.text(name, style: .footer, width: contentWidth - labelWidth - mm(5), ellipsize: true)
            ops.append(.text(block, lines: 0..<block.lines.count, x: left, y: footerTop, gray: 0.3))
        }
        return ops
    }

    private static func millimetres(_ points: Double) -> String {
        String(format: "%.1f", points * 25.4 / 72)
    }
}

/// A part of the body: a paragraph of markup, or the place of the invoice table.
enum BodyPart: Equatable {
    case paragraph(String)
    case invoices
    case paymentCode

    /// Paragraphs are separated by blank lines; a line that is exactly the marker places the table.
    static func split(_ markup: String) -> [BodyPart] {
        var parts: [BodyPart] = []
        var lines: [Substring] = []
        func flush() {
            if !lines.isEmpty { parts.append(.paragraph(lines.joined(separator: "\n"))) }
            lines = []
        }
        for line in markup.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            // Blank: nothing but spaces and tabs (what `trimmingCharacters(in: .whitespaces)` would empty).
            if line.unicodeScalars.allSatisfy({ $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }) {
                flush()
            } else if line == LetterDocument.invoicesMarker {
                flush()
                parts.append(.invoices)
            } else if line == LetterDocument.paymentCodeMarker {
                flush()
                parts.append(.paymentCode)
            } else {
                lines.append(line)
            }
        }
        flush()
        return parts
    }
}

/// The logo a configuration names, checked as the letters will read it.
public enum LetterLogo {
    /// Throws when Cairo cannot decode `path` as a PNG.
    public static func check(path: String) throws(LetterError) { _ = try LogoImage(path: path) }
}

/// A PNG logo, decoded by Cairo.
final class LogoImage {
    let surface: OpaquePointer
    let width: Double
    let height: Double

    init(path: String) throws(LetterError) {
        let surface = cairo_image_surface_create_from_png(path)!
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw LetterError("cannot read the logo \(path): \(String(cString: cairo_status_to_string(status)))")
        }
        self.surface = surface
        width = Double(cairo_image_surface_get_width(surface))
        height = Double(cairo_image_surface_get_height(surface))
    }

    deinit { cairo_surface_destroy(surface) }
}
