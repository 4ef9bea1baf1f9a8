import CPangoCairo
import Foundation

/// Draws a laid-out letter on a Cairo PDF surface that writes into memory.
enum PDFWriter {
    /// Receives the bytes Cairo writes.
    private final class Sink {
        var bytes: [UInt8] = []
    }

    static func write(_ letter: LetterLayout, document: LetterDocument) throws(LetterError) -> [UInt8] {
        let sink = Sink()
        sink.bytes.reserveCapacity(64 * 1024)  // a one-page letter is about 32 KB: no copying as it grows
        let status = withExtendedLifetime(sink) { () -> cairo_status_t in
            let surface = cairo_pdf_surface_create_for_stream(
                { closure, data, length in
                    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                    let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
                    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                    return CAIRO_STATUS_SUCCESS
                }, Unmanaged.passUnretained(sink).toOpaque(), LetterLayout.pageWidth, LetterLayout.pageHeight)!
            defer { cairo_surface_destroy(surface) }
            cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, document.title)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, document.author)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Relance")
            cairo_pdf_surface_set_metadata(
                surface, CAIRO_PDF_METADATA_CREATE_DATE, iso8601(document.createdAt))

            let cr = cairo_create(surface)!
            for (index, page) in letter.pages.enumerated() {
                for op in page { draw(op, on: cr) }
                if index == 0 {
                    for op in letter.address { draw(op, on: cr) }
                }
                cairo_show_page(cr)
            }
            let drawn = cairo_status(cr)
            cairo_destroy(cr)
            cairo_surface_finish(surface)
            return drawn != CAIRO_STATUS_SUCCESS ? drawn : cairo_surface_status(surface)
        }
        guard status == CAIRO_STATUS_SUCCESS else {
            throw LetterError("cannot write the PDF: \(String(cString: cairo_status_to_string(status)))")
        }
        return sink.bytes
    }

    /// `date` in UTC to the second, as Cairo takes a CreationDate: "2026-11-23T09:30:00Z".
    static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "Z"
    }

    private static func draw(_ op: DrawOp, on cr: OpaquePointer) {
        switch op {
        case .text(let block, let lines, let x, let y, let gray):
            cairo_set_source_rgb(cr, gray, gray, gray)
            let origin = y - block.lines[lines.lowerBound].top
            for line in block.lines[lines] {
                cairo_move_to(cr, x + line.x, origin + line.baseline)
                pango_cairo_show_layout_line(cr, line.line)
            }
        case .rule(let x, let y, let width, let thickness, let gray):
            cairo_set_source_rgb(cr, gray, gray, gray)
            cairo_set_line_width(cr, thickness)
            cairo_move_to(cr, x, y)
            cairo_line_to(cr, x + width, y)
            cairo_stroke(cr)
        case .fill(let box, let gray):
            cairo_set_source_rgb(cr, gray, gray, gray)
            cairo_rectangle(cr, box.x, box.y, box.width, box.height)
            cairo_fill(cr)
        case .image(let logo, let box):
            cairo_save(cr)
            cairo_translate(cr, box.x, box.y)
            cairo_scale(cr, box.width / logo.width, box.height / logo.height)
            cairo_set_source_surface(cr, logo.surface, 0, 0)
            cairo_paint(cr)
            cairo_restore(cr)
        }
    }
}
