/// The EPC QR code on a letter: the symbol on the left, drawn as vector rectangles (sharp
/// at any resolution), its caption beside it, kept whole on one page and off the folds.
enum PaymentCodeLayout {
    static let left = LetterLayout.left
    static let contentWidth = LetterLayout.contentWidth

    /// The symbol's largest side, quiet zone included: 35 mm, about 0.45 mm a module for
    /// the longest EPC payload (version 13).
    static let codeSide = mm(35)

    /// The QR code on the left with its caption beside it, kept whole on one page and off
    /// the folds.
    static func place(
        _ code: PaymentCode, folds: [Double], typesetter: Typesetter, into flow: inout PageFlow
    ) {
        guard code.size > 0, code.dark.count == code.size * code.size else { return }
        // About half a millimetre a module, from 25 mm (a reference alone) to 35 mm (a long
        // list of invoice numbers): no larger than it needs, so it rarely takes a page.
        let side = min(max(Double(code.size + 8) * mm(0.5), mm(25)), codeSide)
        let caption = typesetter.text(code.caption, style: .reference, width: contentWidth - side - mm(5))
        let height = max(side, caption.height)
        flow.skip(mm(3))
        for _ in 0..<3 {
            flow.keep(height)
            // A fold through the block: start just below it, or on the next page.
            guard let fold = folds.first(where: { flow.y < $0 + mm(2) && flow.y + height > $0 - mm(2) }) else {
                break
            }
            if fold + mm(3) + height <= flow.y + flow.remaining {
                flow.skip(fold + mm(3) - flow.y)
            } else {
                flow.newPage()
            }
        }
        let quiet = 4
        let module = side / Double(code.size + 2 * quiet)
        let top = flow.y
        for row in 0..<code.size {
            var column = 0
            // One rectangle per run of dark modules in a row.
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
                            x: left + Double(quiet + start) * module, y: top + Double(quiet + row) * module,
                            width: Double(column - start) * module, height: module), gray: 0))
            }
        }
        flow.add(
            .text(
                caption, lines: 0..<caption.lines.count, x: left + side + mm(5),
                y: top + max(0, (side - caption.height) / 2), gray: 0.2))
        flow.skip(height)
    }
}
