import Foundation
import RelanceEmail
import RelanceTestSupport
import Testing

@Suite("MIMEEncoding.foldHeader")
struct FoldHeaderTests {
    static let values: [String] = [
        "Relance",
        "Reminder: invoice F-2026-0142 is overdue, please pay the amount detailed below at your earliest convenience so that we can close the case",
        "Mise en demeure de payer – factures F-2026-0087, F-2026-0118, F-2026-0142 – Lumen Conseil SARL – dossier C-00412",
        String(repeating: "é", count: 200),
        String(repeating: "word ", count: 60),
        "Zahlungserinnerung: Rechnung F-2026-0142 über 1.250,00 € ist seit dem 15. Oktober 2026 fällig",
    ]
    // The headers that carry data from payers or templates.
    static let names = ["Subject", "To", "From", "Reply-To", "X-Relance-Case"]

    @Test(
        "every physical line is at most 78 characters and continuation lines start with a space", arguments: names,
        values)
    func folding(name: String, value: String) {
        let words = MIMEEncoding.encodeUnstructured(value)
        let header = MIMEEncoding.foldHeader(name: name, words: words)
        #expect(header.hasPrefix(name + ": "))
        #expect(header.hasSuffix("\r\n"))
        #expect(MIMETestSupport.hasOnlyCRLF(header))
        let lines = MIMETestSupport.lines(header)
        for (i, line) in lines.enumerated() {
            #expect(line.count <= 78, "line \(i) has \(line.count) characters: \(line)")
            if i > 0 {
                #expect(line.hasPrefix(" "))
                #expect(line.trimmingCharacters(in: .whitespaces).isEmpty == false)
            }
        }
        // Unfolding gives back the words separated by single spaces.
        let unfolded = MIMETestSupport.droppingFinalCRLF(header).replacingOccurrences(of: "\r\n", with: "")
        #expect(unfolded == name + ": " + words.joined(separator: " "))
        #expect(MIMETestSupport.decodeUnstructured(words.joined(separator: " ")) == value)
    }

    @Test("a short header stays on one line")
    func short() {
        #expect(MIMEEncoding.foldHeader(name: "Subject", words: ["Hello", "world"]) == "Subject: Hello world\r\n")
    }

    @Test("a fold happens between words, never inside one")
    func foldBetweenWords() {
        let words = (1...30).map { "w\($0)xxxxx" }
        let header = MIMEEncoding.foldHeader(name: "Subject", words: words)
        let tokens = header.replacingOccurrences(of: "\r\n", with: "").split(separator: " ").dropFirst().map(
            String.init)
        #expect(tokens == words)
        #expect(MIMETestSupport.lines(header).count > 1)
    }
}
