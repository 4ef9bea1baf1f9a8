import Testing

@testable import RelanceLetters

@Suite("Invoice table column widths")
struct TableFitTests {
    @Test("room to spare goes to the text columns; short of room, each keeps its widest word")
    func fit() {
        // Invoice number, two long dates (wrappable), three amounts (fixed).
        let natural: [Double] = [60, 100, 100, 50, 50, 50]
        let fixed: Set<Int> = [3, 4, 5]
        let roomy = TableLayout.fit(natural, longestWord: [60, 40, 40, 0, 0, 0], into: 500, fixed: fixed)
        #expect(abs(roomy.reduce(0, +) - 500) < 0.001)
        #expect(roomy[0] > 60 && roomy[3] == 50)
        let short = TableLayout.fit(natural, longestWord: [60, 40, 40, 0, 0, 0], into: 300, fixed: fixed)
        #expect(abs(short.reduce(0, +) - 300) < 0.001)
        #expect(short[0] >= 60, "the invoice number would break: \(short)")
        #expect(short[1] < 100 && short[1] >= 40 && short[3] == 50)
        // Proportional shrinking (the old way) would have cut the number's column below its width.
        let proportional = TableLayout.fit(natural, into: 300, fixed: fixed)
        #expect(proportional[0] < 60)
    }
}
