/// The EPC QR code on a letter, drawn as vector rectangles (sharp at any resolution),
/// kept whole on one page and off the folds. Beside the paragraph that precedes its marker
/// (the bank details), with its caption under that paragraph; without one, on its own
/// with the caption beside it.
enum PaymentCodeLayout {
    static let left = LetterLayout.left
    static let right = LetterLayout.right
    static let contentWidth = LetterLayout.contentWidth

    /// The symbol's largest side, quiet zone included: 35 mm, about 0.45 mm a module for
    /// the longest EPC payload (version 13).
    static let codeSide = mm(35)

    /// About half a millimetre a module, from 25 mm (a reference alone) to 35 mm (a long
    /// list of invoice numbers): no larger than it needs.
    static func side(of code: PaymentCode) -> Double {
        min(max(Double(code.size + 8) * mm(0.5), mm(25)), codeSide)
    }

    static func isDrawable(_ code: PaymentCode) -> Bool {
        code.size > 0 && code.dark.count == code.size * code.size
    }

    /// The width left for the text beside the code.
    static func textWidth(beside code: PaymentCode) -> Double { contentWidth - side(of: code) - mm(6) }

    /// `text` (laid out at `textWidth(beside:)`) with the caption under it on the left, the
    /// code on the right.
    static func place(
        _ code: PaymentCode, beside text: TextBlock, folds: [Double], typesetter: Typesetter, into flow: inout PageFlow
    ) {
        guard isDrawable(code) else { return }
        let side = side(of: code)
        let caption = typesetter.text(code.caption, style: .reference, width: textWidth(beside: code))
        let height = max(side, text.height + mm(2) + caption.height)
        let top = settle(height, folds: folds, into: &flow)
        flow.add(.text(text, lines: 0..<text.lines.count, x: left, y: top, gray: 0))
        flow.add(
            .text(caption, lines: 0..<caption.lines.count, x: left, y: top + text.height + mm(2), gray: 0.2))
        draw(code, side: side, x: right - side, y: top, into: &flow)
        flow.skip(height)
    }

    /// The code on the left with its caption beside it.
    static func place(_ code: PaymentCode, folds: [Double], typesetter: Typesetter, into flow: inout PageFlow) {
        guard isDrawable(code) else { return }
        let side = side(of: code)
        let caption = typesetter.text(code.caption, style: .reference, width: contentWidth - side - mm(5))
        let height = max(side, caption.height)
        flow.skip(mm(3))
        let top = settle(height, folds: folds, into: &flow)
        draw(code, side: side, x: left, y: top, into: &flow)
        flow.add(
            .text(
                caption, lines: 0..<caption.lines.count, x: left + side + mm(5),
                y: top + max(0, (side - caption.height) / 2), gray: 0.2))
        flow.skip(height)
    }

    /// Where a block of `height` starts: on this page if it fits, off the folds (just below
    /// a fold that would cross it, or on the next page).
    static func settle(_ height: Double, folds: [Double], into flow: inout PageFlow) -> Double {
        for _ in 0..<3 {
            flow.keep(height)
            guard let fold = folds.first(where: { flow.y < $0 + mm(2) && flow.y + height > $0 - mm(2) }) else {
                break
            }
            if fold + mm(3) + height <= flow.y + flow.remaining {
                flow.skip(fold + mm(3) - flow.y)
            } else {
                flow.newPage()
            }
        }
        return flow.y
    }

    /// One rectangle per run of dark modules in a row, inside a quiet zone of 4 modules.
    static func draw(_ code: PaymentCode, side: Double, x: Double, y: Double, into flow: inout PageFlow) {
        let quiet = 4
        let module = side / Double(code.size + 2 * quiet)
        for row in 0..<code.size {
            var column = 0
            while column < code.size {
                guard code.dark[row * code.size + column] else {
                    column += 1
                    continue
                }
                let start = column
                while column < code.size, code.dark[row * code.size + column] { column += 1 }
                flow.add(
                    .fill(
                        Box(
                            x: x + Double(quiet + start) * module, y: y + Double(quiet + row) * module,
                            width: Double(column - start) * module, height: module), gray: 0))
            }
        }
    }
}
