/// Something to draw on a page, in points from the top-left corner of the page.
enum DrawOp {
    /// Lines `range` of a text block, the top of the first line at (`x`, `y`), in gray level `gray` (0 = black).
    case text(TextBlock, lines: Range<Int>, x: Double, y: Double, gray: Double)
    /// A horizontal rule of `thickness` whose middle is at `y`.
    case rule(x: Double, y: Double, width: Double, thickness: Double, gray: Double)
    case fill(Box, gray: Double)
    case image(LogoImage, Box)

    var box: Box {
        switch self {
        case .text(let block, let lines, let x, let y, _): block.box(of: lines, x: x, y: y)
        case .rule(let x, let y, let width, let thickness, _):
            Box(x: x, y: y - thickness / 2, width: width, height: thickness)
        case .fill(let box, _), .image(_, let box): box
        }
    }
}

/// Places content down the pages: page 1 from `firstTop`, the next pages from `continuationTop`,
/// never below `bottom`.
struct PageFlow {
    private(set) var pages: [[DrawOp]] = [[]]
    private(set) var y: Double
    let bottom: Double
    let continuationTop: Double
    private var pageTop: Double

    init(firstTop: Double, continuationTop: Double, bottom: Double) {
        y = firstTop
        pageTop = firstTop
        self.continuationTop = continuationTop
        self.bottom = bottom
    }

    var remaining: Double { bottom - y }
    var isAtPageTop: Bool { y <= pageTop }

    mutating func newPage() {
        pages.append([])
        y = continuationTop
        pageTop = continuationTop
    }

    mutating func add(_ op: DrawOp) { pages[pages.count - 1].append(op) }

    mutating func skip(_ height: Double) { y = min(y + height, bottom) }

    /// Moves to a new page unless `height` fits in what is left of this one (or this page is still empty).
    mutating func keep(_ height: Double) {
        if height > remaining && !isAtPageTop { newPage() }
    }

    /// Places a text block at `x`, splitting it between lines where the page ends: no single first line
    /// left at the bottom of a page, no single last line carried over when three or more lines would stay.
    mutating func place(_ block: TextBlock, x: Double, gray: Double = 0) {
        let count = block.lines.count
        var index = 0
        while index < count {
            var fitting = 0
            while index + fitting < count && block.height(of: index..<(index + fitting + 1)) <= remaining + 0.001 {
                fitting += 1
            }
            if fitting == 0 && isAtPageTop { fitting = 1 }  // a line taller than a page: let it overflow
            if fitting == 0 || (index == 0 && fitting == 1 && count > 1 && !isAtPageTop) {
                newPage()
                continue
            }
            if index + fitting == count - 1 && fitting >= 3 { fitting -= 1 }
            let range = index..<(index + fitting)
            add(.text(block, lines: range, x: x, y: y, gray: gray))
            y += block.height(of: range)
            index += fitting
            if index < count { newPage() }
        }
    }
}
