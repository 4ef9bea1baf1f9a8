import CPangoCairo
import Foundation

/// Millimetres to PDF points (1 mm = 72/25.4 pt).
func mm(_ value: Double) -> Double { value * 72 / 25.4 }

/// A rectangle in PDF points, origin at the top-left corner of the page.
struct Box {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    func intersects(_ other: Box) -> Bool {
        x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
    }
}

/// The text styles of a letter.
enum TextStyle: CaseIterable {
    case body, bold, senderName, senderDetail, address, reference, table, tableBold, footer

    var points: Double {
        switch self {
        case .body, .bold: 10.5
        case .senderName: 11
        case .senderDetail: 8.5
        case .address: 10
        case .reference, .table, .tableBold: 9.5
        case .footer: 8
        }
    }

    var isBold: Bool { self == .bold || self == .senderName || self == .tableBold }
}

/// One line of a laid-out text, in points relative to the top-left corner of its layout.
struct LineBox {
    var top: Double
    var height: Double
    var baseline: Double
    var x: Double
    var width: Double
    var line: UnsafeMutablePointer<PangoLayoutLine>
}

/// A Pango layout and the boxes of its lines. Owns the layout; the line pointers live as long as it.
final class TextBlock {
    let layout: OpaquePointer
    private(set) var lines: [LineBox]

    init(layout: OpaquePointer) {
        self.layout = layout
        var lines: [LineBox] = []
        let iterator = pango_layout_get_iter(layout)
        repeat {
            var logical = PangoRectangle()
            pango_layout_iter_get_line_extents(iterator, nil, &logical)
            let baseline = pango_layout_iter_get_baseline(iterator)
            if let line = pango_layout_iter_get_line_readonly(iterator) {
                lines.append(
                    LineBox(
                        top: points(logical.y), height: points(logical.height), baseline: points(baseline),
                        x: points(logical.x), width: points(logical.width), line: line))
            }
        } while pango_layout_iter_next_line(iterator) != 0
        pango_layout_iter_free(iterator)
        self.lines = lines
    }

    deinit { g_object_unref(UnsafeMutableRawPointer(layout)) }

    var height: Double { lines.last.map { $0.top + $0.height } ?? 0 }
    var width: Double { lines.map(\.width).max() ?? 0 }

    /// Height of lines `range`, from the top of the first to the bottom of the last.
    func height(of range: Range<Int>) -> Double {
        guard !range.isEmpty else { return 0 }
        return lines[range.upperBound - 1].top + lines[range.upperBound - 1].height - lines[range.lowerBound].top
    }

    /// Whether this block, laid out without a width, is one left-to-right line that a layout `width`
    /// points wide would not wrap: laid out again at that width, it would give the same line.
    func isOneLine(within width: Double) -> Bool {
        guard lines.count == 1, lines[0].line.pointee.resolved_dir == PANGO_DIRECTION_LTR.rawValue else {
            return false
        }
        return lines[0].width <= points(Typesetter.pangoWidth(width))
    }

    /// Places the line of a block that `isOneLine(within: width)` where Pango puts it in a right-aligned
    /// layout `width` points wide (the layout width less the line width, in Pango units), so that the
    /// block need not be laid out again.
    func alignRight(within width: Double) {
        let layoutWidth = points(Typesetter.pangoWidth(width))
        for index in lines.indices { lines[index].x = layoutWidth - lines[index].width }
    }

    /// The box of lines `range` drawn with the top of the first line at (`x`, `y`).
    func box(of range: Range<Int>, x: Double, y: Double) -> Box {
        let slice = lines[range]
        let left = slice.map(\.x).min() ?? 0
        let right = slice.map { $0.x + $0.width }.max() ?? 0
        return Box(x: x + left, y: y, width: right - left, height: height(of: range))
    }
}

private func points(_ pangoUnits: Int32) -> Double { Double(pangoUnits) / Double(PANGO_SCALE) }

/// Lays out text with Pango, in points (resolution 72 dpi) and with unhinted metrics, as for print.
///
/// Uses the calling thread's default PangoCairo font map: since Pango 1.32.6 each thread has its own,
/// so renders on several threads at once share nothing and each thread keeps its font cache warm.
/// Not `Sendable`: used on the thread that made it. `forCurrentThread(fontFamily:)` keeps one per
/// thread and font family, so that a render does not set up a Pango context and its font
/// descriptions again; a render holds no state in it (its layouts are its own), so two letters
/// rendered one after the other on a thread share nothing but those settings.
final class Typesetter {
    private let context: OpaquePointer
    private var fonts: [TextStyle: OpaquePointer] = [:]

    init(fontFamily: String) {
        context = pango_font_map_create_context(pango_cairo_font_map_get_default())
        pango_cairo_context_set_resolution(context, 72)
        pango_context_set_round_glyph_positions(context, 0)
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        pango_cairo_context_set_font_options(context, options)
        cairo_font_options_destroy(options)
        for style in TextStyle.allCases {
            let font = pango_font_description_new()!
            pango_font_description_set_family(font, fontFamily)
            pango_font_description_set_size(font, Int32((style.points * Double(PANGO_SCALE)).rounded()))
            pango_font_description_set_weight(font, style.isBold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
            fonts[style] = font
        }
    }

    deinit {
        for font in fonts.values { pango_font_description_free(font) }
        g_object_unref(UnsafeMutableRawPointer(context))
    }

    /// The calling thread's typesetter for `fontFamily`, made on first use and freed when the thread ends.
    static func forCurrentThread(fontFamily: String) -> Typesetter {
        let cache: ThreadTypesetters
        if let pointer = pthread_getspecific(threadTypesettersKey) {
            cache = Unmanaged<ThreadTypesetters>.fromOpaque(pointer).takeUnretainedValue()
        } else {
            cache = ThreadTypesetters()
            pthread_setspecific(threadTypesettersKey, Unmanaged.passRetained(cache).toOpaque())
        }
        if let typesetter = cache.byFamily[fontFamily] { return typesetter }
        let typesetter = Typesetter(fontFamily: fontFamily)
        cache.byFamily[fontFamily] = typesetter
        return typesetter
    }

    /// `width` points in Pango units, as a layout's wrapping width.
    static func pangoWidth(_ width: Double) -> Int32 { Int32((width * Double(PANGO_SCALE)).rounded(.down)) }

    /// Plain text. Without `width` the text is not wrapped (each "\n" starts a line). `points` overrides
    /// the style's size.
    func text(
        _ text: String, style: TextStyle, points: Double? = nil, width: Double? = nil,
        alignment: PangoAlignment = PANGO_ALIGN_LEFT, ellipsize: Bool = false
    ) -> TextBlock {
        let layout = makeLayout(style: style, width: width, alignment: alignment)
        if let points {
            let font = pango_font_description_copy(fonts[style])
            pango_font_description_set_size(font, Int32((points * Double(PANGO_SCALE)).rounded()))
            pango_layout_set_font_description(layout, font)
            pango_font_description_free(font)
        }
        if ellipsize { pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END) }
        pango_layout_set_text(layout, text, -1)
        return TextBlock(layout: layout)
    }

    /// The characters of `text` that no installed font can draw (Pango would draw a box
    /// with the character's code), each once, in order. ASCII is always printable.
    func unprintable(_ text: String) -> [Unicode.Scalar] {
        var seen: Set<Unicode.Scalar> = []
        var candidates: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars where scalar.value >= 0x80 && !seen.contains(scalar) {
            seen.insert(scalar)
            // Controls and marks of formatting are not drawn at all.
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                continue
            }
            candidates.append(scalar)
        }
        guard !candidates.isEmpty else { return [] }
        func unknown(_ scalars: [Unicode.Scalar]) -> Int32 {
            let layout = makeLayout(style: .body, width: nil, alignment: PANGO_ALIGN_LEFT)
            defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
            var string = ""
            string.unicodeScalars.append(contentsOf: scalars)
            pango_layout_set_text(layout, string, -1)
            return pango_layout_get_unknown_glyphs_count(layout)
        }
        // One layout for all (the usual answer: none missing), one per character only then.
        guard unknown(candidates) > 0 else { return [] }
        return candidates.filter { unknown([$0]) > 0 }
    }

    /// Pango markup, wrapped to `width`; throws with Pango's message when the markup does not parse.
    func markup(_ markup: String, style: TextStyle, width: Double, justify: Bool) throws(LetterError) -> TextBlock {
        var attributes: OpaquePointer?
        var text: UnsafeMutablePointer<CChar>?
        var error: UnsafeMutablePointer<GError>?
        guard pango_parse_markup(markup, -1, 0, &attributes, &text, nil, &error) != 0 else {
            let reason = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
            if let error { g_error_free(error) }
            let excerpt = markup.count > 60 ? String(markup.prefix(60)) + "…" : markup
            throw LetterError("the body markup does not parse (\(reason)) in the paragraph \"\(excerpt)\"")
        }
        let layout = makeLayout(style: style, width: width, alignment: PANGO_ALIGN_LEFT)
        pango_layout_set_justify(layout, justify ? 1 : 0)
        pango_layout_set_text(layout, text, -1)
        pango_layout_set_attributes(layout, attributes)
        g_free(text)
        pango_attr_list_unref(attributes)
        return TextBlock(layout: layout)
    }

    private func makeLayout(style: TextStyle, width: Double?, alignment: PangoAlignment) -> OpaquePointer {
        let layout = pango_layout_new(context)!
        pango_layout_set_font_description(layout, fonts[style])
        if let width {
            pango_layout_set_width(layout, Self.pangoWidth(width))
            pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
        }
        pango_layout_set_alignment(layout, alignment)
        return layout
    }
}

/// The typesetters of one thread, by font family.
private final class ThreadTypesetters {
    var byFamily: [String: Typesetter] = [:]
}

/// Where each thread keeps its `ThreadTypesetters`; released when the thread exits.
private let threadTypesettersKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { pointer in
        guard let pointer else { return }
        Unmanaged<ThreadTypesetters>.fromOpaque(pointer).release()
    }
    precondition(status == 0, "pthread_key_create failed (\(status))")
    return key
}()
