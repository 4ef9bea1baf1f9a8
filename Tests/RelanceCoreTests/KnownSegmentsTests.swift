import Testing

@testable import RelanceCore

@Suite("Known segments")
struct KnownSegmentsTests {
    let known = KnownSegments(["strategic", "small-business"])

    @Test("standard is always known, and the names given", arguments: ["standard", "strategic", "small-business"])
    func known(segment: String) {
        #expect(known.problem(segment) == nil)
    }

    @Test(
        "an unknown segment is refused with the known ones, a close one and the kind hint",
        arguments: [
            ("Strategic", "did you mean 'strategic'?", false),
            ("strategc", "did you mean 'strategic'?", false),
            ("small_busines", "did you mean 'small-business'?", false),
            ("Consumer", "`kind`", true),
            ("particulier", "`kind`", true),
            ("vip", "known: small-business, standard, strategic", false),
        ])
    func refused(segment: String, words: String, kindHint: Bool) throws {
        let problem = try #require(known.problem(segment))
        #expect(problem.hasPrefix("unknown segment '\(segment)' (known: small-business, standard, strategic)"))
        #expect(problem.contains(words))
        #expect(problem.contains("`kind`") == kindHint)
    }

    @Test(
        "edit distance",
        arguments: [("", "", 0), ("a", "", 1), ("", "ab", 2), ("kitten", "sitting", 3), ("strategic", "strategc", 1)])
    func distance(a: String, b: String, expected: Int) {
        #expect(editDistance(a, b) == expected)
        #expect(editDistance(b, a) == expected)
    }
}
