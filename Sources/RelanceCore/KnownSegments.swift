/// The segments a payer may belong to: those the templates have variants for
/// (`part.<segment>.mustache`), those the dunning scenarios name (a scenario's own name
/// and `segments`, a step's `when.segments`), and `standard`, the default.
///
/// A segment nothing knows would silently get the standard templates and scenario, so a
/// payer's segment is checked against this set at every door (API, CLI, inline payers,
/// rows written by SQL at dispatch). Whether the payer is a consumer is its `kind`, never a
/// segment name.
public struct KnownSegments: Sendable, Equatable {
    public static let standard = "standard"
    public let names: Set<String>

    public init(_ names: some Sequence<String>) {
        self.names = Set(names).union([Self.standard])
    }

    /// Why `segment` is refused, or nil when it is known.
    public func problem(_ segment: String) -> String? {
        if names.contains(segment) { return nil }
        var message = "unknown segment '\(segment)' (known: \(names.sorted().joined(separator: ", ")))"
        if let close = closest(to: segment) { message += "; did you mean '\(close)'?" }
        if ["consumer", "consumers", "particulier", "particuliers", "business", "b2b", "b2c"].contains(
            segment.lowercased())
        {
            message += "; whether the payer is a consumer is its `kind` (business or consumer), not a segment"
        }
        return message
    }

    /// A known segment equal but for case, or at most two edits away.
    func closest(to segment: String) -> String? {
        let lowered = segment.lowercased()
        if let same = names.sorted().first(where: { $0.lowercased() == lowered }) { return same }
        let scored = names.map { ($0, editDistance(lowered, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }), best.1 <= 2 else {
            return nil
        }
        return best.0
    }
}

/// Levenshtein distance over UTF-8 bytes, for "did you mean" hints on short names
/// (configuration keys, environment variables, segments).
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8)
    let b = Array(b.utf8)
    var previous = Array(0...b.count)
    for x in a {
        var current = [previous[0] + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
