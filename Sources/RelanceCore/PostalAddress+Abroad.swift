import Foundation

/// The destination country's own order for the locality line of a letter posted abroad,
/// from the UPU's addressing guidance (*Postal addressing systems in member countries*,
/// one sheet a country, and the Convention's Regulations: the place of destination in
/// capitals, with its postcode). The lines above the country line follow the destination's
/// rules, not NF Z10-011's:
///
/// - **Postcode, then town** on the last line before the country: Germany and Spain and
///   Italy (5 digits), Austria, Switzerland, Liechtenstein and Belgium (4 digits),
///   Luxembourg (`L-` and 4 digits), the Netherlands (4 digits and 2 letters), Portugal
///   (4 digits, a hyphen, 3 digits). The town is written in capitals; an Italian province
///   code may follow it (`00184 ROMA RM`).
/// - **United Kingdom**: the post town in capitals on its own line, then the postcode on
///   the last line before the country (`SW1A 2AA`); a town and postcode given on one line
///   are put on two.
///
/// Other countries' lines are only cleaned.
extension PostalAddress {
    struct PostcodeFirst: Sendable {
        /// Reads the postcode from the line's first words; nil when it is not there.
        var read: @Sendable ([Substring]) -> (postcode: String, words: Int)?
        var shape: String
        var example: String
        var country: String
    }

    static func digits(_ word: Substring, _ count: Int) -> Bool {
        word.count == count && word.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func plainDigits(_ count: Int) -> @Sendable ([Substring]) -> (postcode: String, words: Int)? {
        { words in words.first.flatMap { digits($0, count) ? (String($0), 1) : nil } }
    }

    static let postcodeFirst: [String: PostcodeFirst] = [
        "DE": PostcodeFirst(read: plainDigits(5), shape: "5 digits", example: "10117 BERLIN", country: "Germany"),
        "ES": PostcodeFirst(read: plainDigits(5), shape: "5 digits", example: "28001 MADRID", country: "Spain"),
        "IT": PostcodeFirst(read: plainDigits(5), shape: "5 digits", example: "00184 ROMA RM", country: "Italy"),
        "AT": PostcodeFirst(read: plainDigits(4), shape: "4 digits", example: "1010 WIEN", country: "Austria"),
        "CH": PostcodeFirst(read: plainDigits(4), shape: "4 digits", example: "8001 ZURICH", country: "Switzerland"),
        "LI": PostcodeFirst(read: plainDigits(4), shape: "4 digits", example: "9490 VADUZ", country: "Liechtenstein"),
        "BE": PostcodeFirst(read: plainDigits(4), shape: "4 digits", example: "1000 BRUXELLES", country: "Belgium"),
        "LU": PostcodeFirst(
            read: { words in
                guard let first = words.first else { return nil }
                let code = first.uppercased().hasPrefix("L-") ? first.dropFirst(2) : first
                return digits(code, 4) ? ("L-" + code, 1) : nil
            }, shape: "L- and 4 digits", example: "L-1150 LUXEMBOURG", country: "Luxembourg"),
        "NL": PostcodeFirst(
            read: { words in
                guard let first = words.first else { return nil }
                if first.count == 6, digits(first.prefix(4), 4),
                    first.suffix(2).allSatisfy({ $0.isASCII && $0.isLetter })
                {
                    return (first.prefix(4) + " " + first.suffix(2).uppercased(), 1)
                }
                guard words.count >= 2, digits(first, 4), words[1].count == 2,
                    words[1].allSatisfy({ $0.isASCII && $0.isLetter })
                else { return nil }
                return (first + " " + words[1].uppercased(), 2)
            }, shape: "4 digits and 2 letters", example: "1012 JS AMSTERDAM", country: "the Netherlands"),
        "PT": PostcodeFirst(
            read: { words in
                guard let first = words.first else { return nil }
                let parts = first.split(separator: "-", omittingEmptySubsequences: false)
                return parts.count == 2 && digits(parts[0], 4) && digits(parts[1], 3) ? (String(first), 1) : nil
            }, shape: "4 digits, a hyphen and 3 digits", example: "1100-148 LISBOA", country: "Portugal"),
    ]

    /// Country prefixes once written before a postcode (`D-10117`, `CH-8001`), dropped.
    static let oldPrefixes: [String: Set<String>] = [
        "DE": ["D", "DE"], "AT": ["A", "AT"], "CH": ["CH"], "LI": ["FL", "LI"], "BE": ["B", "BE"], "IT": ["I", "IT"],
        "ES": ["E", "ES"], "NL": ["NL"], "PT": ["P", "PT"],
    ]

    /// Applies the destination's rules to the lines above the country line.
    static func normalizeLocality(_ lines: inout [String], destination: String) throws {
        guard let last = lines.indices.last, last >= 1 else { return }
        if destination == "GB" {
            try normalizeBritish(&lines)
            return
        }
        guard let rule = postcodeFirst[destination] else { return }
        let line = lines[last]
        var words = line.split(separator: " ")
        // The old European country prefix before a postcode ("D-10117 Berlin"), no longer
        // used: the country line says where the letter goes.
        if let first = words.first, let dash = first.firstIndex(of: "-"),
            oldPrefixes[destination, default: []].contains(first[..<dash].uppercased()),
            first.index(after: dash) < first.endIndex
        {
            words[0] = first[first.index(after: dash)...]
        }
        let guidance = "e.g. \"\(rule.example)\" (UPU addressing guidance, \(rule.country))"
        guard let (postcode, used) = rule.read(words) else {
            let after = words.count >= 2 && rule.read(Array(words.suffix(from: words.count - 1))) != nil
            throw AddressError(
                rule: "locality",
                message:
                    "the line before the country (line \(last + 1)) \(quoted(line)) must start with the postcode "
                    + "(\(rule.shape)) and then the town\(after ? ": in \(rule.country) the postcode goes before the town" : ""), \(guidance)"
            )
        }
        let town = words.dropFirst(used).joined(separator: " ").uppercased()
        guard town.contains(where: \.isLetter) else {
            throw AddressError(
                rule: "locality",
                message:
                    "the line before the country (line \(last + 1)) \(quoted(line)) has a postcode but no town, \(guidance)"
            )
        }
        lines[last] = postcode + " " + town
    }

    /// A UK postcode (outward code, space, inward code), upper-cased with one space; nil
    /// when `text` is not one.
    static func britishPostcode(_ text: some StringProtocol) -> String? {
        let compact = text.uppercased().filter { $0 != " " }
        if compact == "GIR0AA" { return "GIR 0AA" }  // Girobank's, the one exception to the pattern
        guard (5...7).contains(compact.count), compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        let inward = compact.suffix(3)
        let outward = compact.dropLast(3)
        guard inward.first!.isNumber, inward.dropFirst().allSatisfy(\.isLetter), outward.first!.isLetter,
            outward.contains(where: \.isNumber)
        else { return nil }
        return outward + " " + inward
    }

    static func normalizeBritish(_ lines: inout [String]) throws {
        let guidance = "e.g. \"LONDON\" then \"SW1A 2AA\" (UPU addressing guidance, United Kingdom)"
        var last = lines.count - 1
        if let postcode = britishPostcode(lines[last]) {
            lines[last] = postcode
        } else {
            // "London SW1A 2AA": the town, then the postcode on a line of its own.
            let words = lines[last].split(separator: " ")
            let split = [2, 1].first { n in
                words.count > n && britishPostcode(words.suffix(n).joined(separator: " ")) != nil
            }
            guard let split else {
                throw AddressError(
                    rule: "locality",
                    message:
                        "the line before the country (line \(last + 1)) \(quoted(lines[last])) must be the UK postcode "
                        + "on its own line, after the post town, \(guidance)")
            }
            let postcode = britishPostcode(words.suffix(split).joined(separator: " "))!
            lines[last] = words.dropLast(split).joined(separator: " ")
            lines.append(postcode)
            last += 1
        }
        // A post town never starts with a digit: "1 Fleet Street" above the postcode is a street.
        guard last >= 2, let town = lines[last - 1].first, !town.isNumber else {
            throw AddressError(
                rule: "locality",
                message: "the address has no post town before the postcode \(quoted(lines[last])), \(guidance)")
        }
        lines[last - 1] = lines[last - 1].uppercased()
    }
}
