import Foundation
import Testing

@testable import RelanceCore

@Suite("Failure and cancel reasons")
struct ReasonsTests {
    @Test(
        "a stored cancel reason reads back as what was written",
        arguments: [
            ("paid", CancelReason.paid), ("dispute", .dispute), ("manual", .manual), ("merged:12", .merged(into: 12)),
            ("merged:", .other("merged:")), ("merged:0", .other("merged:0")), ("merged:1x", .other("merged:1x")),
            ("by hand", .other("by hand")),
        ])
    func cancelRoundTrip(stored: String, reason: CancelReason) {
        #expect(CancelReason(stored: stored) == reason)
        #expect(reason.stored == stored)
    }

    @Test("an operator may give paid, dispute or manual, nothing else")
    func operatorChoices() {
        #expect(
            ["paid", "dispute", "manual"].compactMap(CancelReason.init(operatorChoice:)) == [.paid, .dispute, .manual])
        #expect(CancelReason(operatorChoice: "merged:3") == nil)
        #expect(CancelReason(operatorChoice: "Paid") == nil)
    }

    @Test("a merged job's trace names the job its invoice went out in")
    func traceDetail() {
        #expect(CancelReason.merged(into: 7).traceDetail == ["reason": "merged", "into_job": .number("7")])
        #expect(CancelReason.paid.traceDetail == ["reason": "paid"])
    }

    @Test("every failure reason is a distinct snake_case code, listed in the README's table")
    func failureReasonsDocumented() throws {
        let codes = FailureReason.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        for code in codes { #expect(code.allSatisfy { $0.isLowercase || $0 == "_" }, "\(code)") }
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "**Failure reasons.**").dropFirst().first)
        let table = section.components(separatedBy: "\n\n")[1]
        let documented = table.split(separator: "\n").dropFirst(2).compactMap { line in
            line.split(separator: "`").dropFirst().first.map(String.init)
        }
        #expect(documented == codes)
    }
}
