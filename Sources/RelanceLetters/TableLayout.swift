import CPangoCairo

/// The invoice table laid out for a given width: column widths, then one text block per cell.
struct TableLayout {
    struct Row {
        var cells: [TextBlock]
        var height: Double
    }

    static let paddingX = mm(1.6)
    static let paddingY = mm(1.1)

    let x: Double
    let width: Double
    let columnX: [Double]
    let header: Row
    let rows: [Row]
    let total: Row?

    init(_ table: InvoiceTable, x: Double, width: Double, typesetter: Typesetter) throws(LetterError) {
        let columns = max(table.headers.count, table.total.count, table.rows.map(\.count).max() ?? 0)
        guard columns > 0 else { throw LetterError("the invoice table has no column") }
        func cell(_ row: [String], _ column: Int) -> String { column < row.count ? row[column] : "" }

        // Natural width of each column: its widest cell on one line. The blocks measured are kept: a cell
        // that stays on one line at its column's width is drawn from the same layout.
        var natural = [Double](repeating: 0, count: columns)
        func measure(_ row: [String], _ style: TextStyle) -> [TextBlock?] {
            (0..<columns).map { column in
                guard !cell(row, column).isEmpty else { return nil }
                let block = typesetter.text(cell(row, column), style: style)
                natural[column] = max(natural[column], block.width + 2 * Self.paddingX)
                return block
            }
        }
        let measuredHeader = measure(table.headers, .tableBold)
        let measuredRows = table.rows.map { measure($0, .table) }
        let measuredTotal = measure(table.total, .tableBold)
        let fixedWidth = table.rightAligned.filter { $0 < columns }.map { natural[$0] }.reduce(0, +)
        let textWidth = natural.reduce(0, +) - fixedWidth
        // Short of room, the widest word of each text column: an invoice number is one word
        // and must not break; a long date ("15 de septiembre de 2026") wraps between words.
        var longestWord: [Double]?
        if width - fixedWidth < textWidth {
            var widest = [Double](repeating: 0, count: columns)
            var measured: [String: Double] = [:]
            let styled =
                [(table.headers, TextStyle.tableBold), (table.total, .tableBold)] + table.rows.map { ($0, .table) }
            for (row, style) in styled {
                for column in 0..<columns where !table.rightAligned.contains(column) {
                    for word in cell(row, column).split(separator: " ") {
                        let key = "\(style == .tableBold ? "b" : "r")\(word)"
                        let wordWidth = measured[key] ?? typesetter.text(String(word), style: style).width
                        measured[key] = wordWidth
                        widest[column] = max(widest[column], wordWidth + 2 * Self.paddingX)
                    }
                }
            }
            longestWord = widest
        }
        let widths = Self.fit(natural, longestWord: longestWord, into: width, fixed: table.rightAligned)

        var columnX: [Double] = []
        var left = x
        for columnWidth in widths {
            columnX.append(left)
            left += columnWidth
        }
        // Empty cells print nothing but count in the row's height: one block per style serves them all.
        var empty: [TextStyle: TextBlock] = [:]
        func layout(_ row: [String], _ measured: [TextBlock?], _ style: TextStyle) -> Row {
            let cells = (0..<columns).map { column -> TextBlock in
                let room = widths[column] - 2 * Self.paddingX
                let right = table.rightAligned.contains(column)
                guard let block = measured[column] else {
                    if let block = empty[style] { return block }
                    let block = typesetter.text("", style: style)
                    empty[style] = block
                    return block
                }
                if block.isOneLine(within: room) {
                    if right { block.alignRight(within: room) }
                    return block
                }
                return typesetter.text(
                    cell(row, column), style: style, width: room,
                    alignment: right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT)
            }
            return Row(cells: cells, height: (cells.map(\.height).max() ?? 0) + 2 * Self.paddingY)
        }
        self.x = x
        self.width = width
        self.columnX = columnX
        header = layout(table.headers, measuredHeader, .tableBold)
        rows = zip(table.rows, measuredRows).map { layout($0, $1, .table) }
        total = table.total.isEmpty ? nil : layout(table.total, measuredTotal, .tableBold)
    }

    /// Column widths that add up to `width`: spare room goes to the columns not in `fixed` (text);
    /// when room is short, those shrink first (their cells wrap between words, each keeping at
    /// least its widest word when it can), then every column does.
    static func fit(_ natural: [Double], longestWord: [Double]? = nil, into width: Double, fixed: Set<Int>)
        -> [Double]
    {
        let minimum = 2 * paddingX + mm(6)
        let natural = natural.map { max($0, minimum) }
        var flexible = Set(natural.indices).subtracting(fixed)
        if flexible.isEmpty { flexible = Set(natural.indices) }
        let fixedWidth = natural.indices.filter { !flexible.contains($0) }.map { natural[$0] }.reduce(0, +)
        let flexibleWidth = flexible.map { natural[$0] }.reduce(0, +)
        let room = width - fixedWidth
        if room >= flexibleWidth {
            return natural.indices.map { flexible.contains($0) ? natural[$0] / flexibleWidth * room : natural[$0] }
        }
        // Short of room: each text column keeps its widest word, and gives up a share of
        // what it has beyond it.
        let floor = natural.indices.map { min(natural[$0], max(longestWord?[$0] ?? minimum, minimum)) }
        let floorWidth = flexible.map { floor[$0] }.reduce(0, +)
        if room >= floorWidth, flexibleWidth > floorWidth {
            let share = (room - floorWidth) / (flexibleWidth - floorWidth)
            return natural.indices.map {
                flexible.contains($0) ? floor[$0] + (natural[$0] - floor[$0]) * share : natural[$0]
            }
        }
        if room >= Double(flexible.count) * minimum {
            return natural.indices.map { flexible.contains($0) ? natural[$0] / flexibleWidth * room : natural[$0] }
        }
        let all = natural.reduce(0, +)
        return natural.map { $0 / all * width }
    }

    /// Places the table, repeating the header row at the top of each page it flows onto; the last
    /// invoice row stays with the total row.
    func place(in flow: inout PageFlow) throws(LetterError) {
        let firstHeight = rows.first?.height ?? total?.height ?? 0
        flow.keep(header.height + firstHeight)
        placeHeader(in: &flow)
        for (index, row) in rows.enumerated() {
            let isLast = index == rows.count - 1
            let needed = row.height + (isLast ? total?.height ?? 0 : 0)
            if needed > flow.remaining {
                flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.6, gray: 0))
                flow.newPage()
                guard header.height + needed <= flow.remaining else {
                    throw LetterError("invoice row \(index + 1) of the table is taller than a page")
                }
                placeHeader(in: &flow)
            } else if index > 0 {
                flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.3, gray: 0.7))
            }
            placeRow(row, in: &flow)
        }
        if let total {
            if total.height > flow.remaining {
                flow.newPage()
                placeHeader(in: &flow)
            }
            flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.6, gray: 0))
            placeRow(total, in: &flow)
        }
        flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.9, gray: 0))
    }

    private func placeHeader(in flow: inout PageFlow) {
        flow.add(.fill(Box(x: x, y: flow.y, width: width, height: header.height), gray: 0.9))
        flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.9, gray: 0))
        placeRow(header, in: &flow)
        flow.add(.rule(x: x, y: flow.y, width: width, thickness: 0.6, gray: 0))
    }

    private func placeRow(_ row: Row, in flow: inout PageFlow) {
        for (column, cell) in row.cells.enumerated() where !cell.lines.isEmpty {
            flow.add(
                .text(
                    cell, lines: 0..<cell.lines.count, x: columnX[column] + Self.paddingX, y: flow.y + Self.paddingY,
                    gray: 0))
        }
        flow.skip(row.height)
    }
}
