import Foundation

/// A postal address laid out for the envelope window, following NF Z10-011 (La Poste).
///
/// `normalize` cleans every line (surrounding whitespace trimmed, inner runs of whitespace,
/// no-break spaces included, collapsed to one space, empty lines dropped; a line holding line
/// breaks is split), then applies the rules of the destination:
///
/// - **Domestic mail** (the payer's country is the sender's postal area; for a French sender:
///   France, Monaco and the overseas departments and territories, which use French postcodes):
///   at most 6 lines. The last line must be `NNNNN CITY`: a 5-digit postcode, one space, then
///   the locality in capitals without accents (`42000 Saint-Étienne` → `42000 SAINT-ETIENNE`);
///   `CEDEX nn` may follow. A trailing line naming the sender's own country (`FRANCE`) is
///   dropped. The norm's lines 4 to 6 (street, locality or PO box, postcode and city) are the
///   last three lines, since the postcode line is always last; on them, and never on line 1
///   (the recipient), punctuation is replaced by spaces: `, . ; : ! ? " « » “ ” „ ( ) [ ]`.
///   Hyphens and apostrophes are kept (`L'ISLE-ADAM`), and `’` becomes `'`.
/// - **International mail**: at most 7 lines, the last one the destination country's name in
///   French capitals without accents, as for mail posted in France (`BELGIQUE`, `ROYAUME-UNI`,
///   `ETATS-UNIS`). A last line naming a known country, in French, English or the country's
///   own language (`Belgium`, `Deutschland`, `U.S.A.`), is rewritten to that name; otherwise
///   the name of `country` is appended. The lines above it follow the destination's own
///   order where Relance knows it (`PostalAddress+Abroad.swift`: postcode before the town
///   in Germany, Spain, Italy, the Netherlands, Belgium…; the UK postcode on its own line).
///
/// Every line has at most 38 characters once normalised. The last line decides the
/// destination when it names a country (the address wins over the locale region); otherwise
/// `country`, and without it the sender's country.
public struct PostalAddress: Sendable, Equatable {
    /// The normalised lines, ready to print, recipient first.
    public let lines: [String]

    init(lines: [String]) { self.lines = lines }
}

/// A postal address that cannot be printed as is: which rule (`max-lines`, `min-lines`,
/// `line-length`, `last-line`, `country`) and a message that says what and where.
public struct AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var rule: String
    public var message: String

    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { message }
}

extension PostalAddress {
    /// Characters per line (NF Z10-011).
    public static let maxLineLength = 38
    /// Lines of a domestic address (NF Z10-011).
    public static let maxDomesticLines = 6
    /// Lines of an international address, the country line included.
    public static let maxInternationalLines = 7

    /// Normalises `lines` for printing, or says which rule they break.
    ///
    /// - Parameters:
    ///   - country: ISO 3166 alpha-2 code of the payer, any case (e.g. the region of the payer's
    ///     locale, see `PhoneNumber.country(fromLocale:)`); nil or empty when unknown.
    ///   - senderCountry: the creditor's country, where the letter is posted.
    /// - Throws: `AddressError`.
    public static func normalize(_ lines: [String], country: String?, senderCountry: String = "FR") throws
        -> PostalAddress
    {
        var cleaned = lines.flatMap { $0.split(whereSeparator: \.isNewline) }.map(clean).filter { !$0.isEmpty }
        // A row written by SQL may hold what no door lets in: a NUL, an escape, a bidi override.
        for (index, line) in cleaned.enumerated() {
            if let hidden = line.unicodeScalars.first(where: TextRules.isHidden) {
                throw AddressError(
                    rule: "characters",
                    message:
                        "line \(index + 1) holds \(TextRules.codePoint(hidden)), a control or bidi character: "
                        + quoted(line.unicodeScalars.filter { !TextRules.isHidden($0) }.map(String.init).joined()))
            }
        }
        let sender = senderCountry.uppercased()
        let payer = country.map { $0.uppercased() }.flatMap { $0.isEmpty ? nil : $0 }

        // Where the letter goes: a country named on the last line, else the payer's country,
        // else the sender's.
        let named = cleaned.last.flatMap(countryCode(named:))
        let destination = named ?? payer ?? sender
        let domestic = postalArea(of: destination) == postalArea(of: sender)

        if domestic {
            if named != nil { cleaned.removeLast() }
            return try normalizeDomestic(cleaned, french: postalArea(of: sender) == "FR")
        }
        guard let countryName = countryNames[destination] ?? frenchName(of: destination) else {
            throw AddressError(
                rule: "country",
                message:
                    "the last line \(quoted(cleaned.last ?? "")) is not a country name and the country "
                    + "\(quoted(destination)) has no known name: end the address with the country name "
                    + "in capitals (NF Z10-011)")
        }
        if named != nil { cleaned.removeLast() }
        try checkMinimum(cleaned, what: "the recipient, then the locality before the country")
        do { try normalizeLocality(&cleaned, destination: destination) } catch let error as AddressError
            where named == nil
        {
            // The destination came from the payer's country, not from the address.
            throw AddressError(
                rule: error.rule,
                message: error.message
                    + "; no country line was given, so the letter goes to \(countryName) (the payer's country): "
                    + "end the address with its country's name if it is elsewhere")
        }
        cleaned.append(countryName)
        guard cleaned.count <= maxInternationalLines else {
            throw AddressError(
                rule: "max-lines",
                message:
                    "the address has \(cleaned.count) lines with the country line, at most "
                    + "\(maxInternationalLines) for international mail (NF Z10-011)")
        }
        try checkLengths(cleaned)
        return PostalAddress(lines: cleaned)
    }

    private static func normalizeDomestic(_ lines: [String], french: Bool) throws -> PostalAddress {
        var lines = lines
        try checkMinimum(lines, what: "the recipient, then the postcode and city")
        guard lines.count <= maxDomesticLines else {
            throw AddressError(
                rule: "max-lines",
                message:
                    "the address has \(lines.count) lines, at most \(maxDomesticLines)"
                    + "\(french ? " for France" : " for domestic mail") (NF Z10-011)")
        }
        if french {
            let last = lines.count - 1
            lines[last] = try postcodeLine(lines[last], number: last + 1)
            for index in max(1, lines.count - 3)..<last { lines[index] = unpunctuated(lines[index]) }
        }
        try checkLengths(lines)
        return PostalAddress(lines: lines)
    }

    /// `NNNNN CITY [CEDEX nn]`, the city in capitals without accents.
    private static func postcodeLine(_ line: String, number: Int) throws -> String {
        let words = unpunctuated(line).split(separator: " ")
        let example = "e.g. \"75002 PARIS\" (NF Z10-011)"
        guard let postcode = words.first, postcode.count == 5, postcode.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            throw AddressError(
                rule: "last-line",
                message:
                    "the last line (line \(number)) \(quoted(line)) must start with a 5-digit postcode "
                    + "followed by the city, \(example)")
        }
        let city = capitalsWithoutAccents(words.dropFirst().joined(separator: " "))
        guard city.contains(where: \.isLetter) else {
            throw AddressError(
                rule: "last-line",
                message:
                    "the last line (line \(number)) \(quoted(line)) has a postcode but no city, \(example)")
        }
        return postcode + " " + city
    }

    private static func checkMinimum(_ lines: [String], what: String) throws {
        guard lines.count >= 2 else {
            throw AddressError(
                rule: "min-lines",
                message: "the address has \(lines.count) line\(lines.count == 1 ? "" : "s"), at least 2: \(what)")
        }
    }

    private static func checkLengths(_ lines: [String]) throws {
        for (index, line) in lines.enumerated() where line.count > maxLineLength {
            throw AddressError(
                rule: "line-length",
                message:
                    "line \(index + 1) has \(line.count) characters, at most \(maxLineLength) (NF Z10-011): "
                    + quoted(line))
        }
    }

    // MARK: Text

    /// Trimmed, with every run of whitespace (no-break spaces, tabs…) made one space.
    private static func clean<S: StringProtocol>(_ line: S) -> String {
        line.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    private static let punctuation: Set<Character> = [
        ",", ".", ";", ":", "!", "?", "\"", "«", "»", "“", "”", "„", "(", ")", "[", "]",
    ]

    /// Punctuation replaced by spaces, typographic apostrophes made ASCII, spaces collapsed.
    private static func unpunctuated(_ line: String) -> String {
        clean(
            String(
                line.map { ch -> Character in
                    if punctuation.contains(ch) { return " " }
                    return ch == "’" || ch == "‘" ? "'" : ch
                }))
    }

    /// Capitals without accents: `Saint-Étienne` → `SAINT-ETIENNE`, `Œting` → `OETING`.
    static func capitalsWithoutAccents(_ text: String) -> String {
        let ligatures: [Character: String] = ["Œ": "OE", "œ": "OE", "Æ": "AE", "æ": "AE", "ß": "SS"]
        let spelled = text.map { ligatures[$0] ?? String($0) }.joined()
        var unaccented = String.UnicodeScalarView()
        for scalar in spelled.uppercased().decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            unaccented.append(scalar)
        }
        return String(unaccented)
    }

    static func quoted(_ text: String) -> String { "\"\(text)\"" }

    // MARK: Countries

    /// Countries whose mail is domestic among themselves: those using the French postcode
    /// system (Monaco, overseas departments and territories) count as France.
    private static func postalArea(of country: String) -> String {
        let french: Set<String> = ["FR", "MC", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"]
        return french.contains(country) ? "FR" : country
    }

    /// The country a line names, if it is only a country name (French, English or native,
    /// any case, with or without accents, hyphens, spaces, dots and apostrophes).
    static func countryCode(named line: String) -> String? { countryKeys[countryKey(line)] }

    private static func countryKey(_ text: String) -> String {
        capitalsWithoutAccents(text).filter { !" -'’".contains($0) && !punctuation.contains($0) }
    }

    /// Names used on the last line of international mail posted in France.
    static let countryNames: [String: String] = [
        "AD": "ANDORRE", "AE": "EMIRATS ARABES UNIS", "AR": "ARGENTINE", "AT": "AUTRICHE",
        "AU": "AUSTRALIE", "BE": "BELGIQUE", "BF": "BURKINA FASO", "BG": "BULGARIE", "BJ": "BENIN",
        "BR": "BRESIL", "CA": "CANADA", "CD": "REPUBLIQUE DEMOCRATIQUE DU CONGO", "CG": "CONGO",
        "CH": "SUISSE", "CI": "COTE D'IVOIRE", "CL": "CHILI", "CM": "CAMEROUN", "CN": "CHINE",
        "CO": "COLOMBIE", "CY": "CHYPRE", "CZ": "TCHEQUIE", "DE": "ALLEMAGNE", "DK": "DANEMARK",
        "DZ": "ALGERIE", "EE": "ESTONIE", "ES": "ESPAGNE", "FI": "FINLANDE", "FR": "FRANCE",
        "GA": "GABON", "GB": "ROYAUME-UNI", "GR": "GRECE", "HK": "HONG KONG", "HR": "CROATIE",
        "HU": "HONGRIE", "IE": "IRLANDE", "IL": "ISRAEL", "IN": "INDE", "IS": "ISLANDE", "IT": "ITALIE",
        "JP": "JAPON", "KR": "COREE DU SUD", "LB": "LIBAN", "LI": "LIECHTENSTEIN", "LT": "LITUANIE",
        "LU": "LUXEMBOURG", "LV": "LETTONIE", "MA": "MAROC", "MC": "MONACO", "MG": "MADAGASCAR",
        "ML": "MALI", "MT": "MALTE", "MU": "MAURICE", "MX": "MEXIQUE", "NL": "PAYS-BAS", "NO": "NORVEGE",
        "NZ": "NOUVELLE-ZELANDE", "PE": "PEROU", "PL": "POLOGNE", "PT": "PORTUGAL", "QA": "QATAR",
        "RO": "ROUMANIE", "RS": "SERBIE", "RU": "RUSSIE", "SA": "ARABIE SAOUDITE", "SE": "SUEDE",
        "SG": "SINGAPOUR", "SI": "SLOVENIE", "SK": "SLOVAQUIE", "SM": "SAINT-MARIN", "SN": "SENEGAL",
        "TN": "TUNISIE", "TR": "TURQUIE", "UA": "UKRAINE", "US": "ETATS-UNIS", "VA": "VATICAN",
        "ZA": "AFRIQUE DU SUD",
    ]

    /// Other names recognised on the last line, mapped to their country.
    private static let countryAliases: [String: [String]] = [
        "AT": ["AUSTRIA", "ÖSTERREICH", "OESTERREICH"],
        "BE": ["BELGIUM", "BELGIË", "BELGIEN", "BELGIO"],
        "BR": ["BRAZIL", "BRASIL"],
        "CH": ["SWITZERLAND", "SCHWEIZ", "SVIZZERA", "CONFÉDÉRATION SUISSE"],
        "CI": ["IVORY COAST"],
        "CN": ["CHINA"],
        "CZ": ["CZECHIA", "CZECH REPUBLIC", "RÉPUBLIQUE TCHÈQUE", "ČESKO"],
        "DE": ["GERMANY", "DEUTSCHLAND"],
        "DK": ["DENMARK", "DANMARK"],
        "DZ": ["ALGERIA"],
        "ES": ["SPAIN", "ESPAÑA"],
        "FI": ["FINLAND", "SUOMI"],
        "GB": [
            "UNITED KINGDOM", "UK", "GREAT BRITAIN", "GRANDE-BRETAGNE", "ANGLETERRE", "ENGLAND",
            "SCOTLAND", "ÉCOSSE", "WALES", "PAYS DE GALLES", "NORTHERN IRELAND", "IRLANDE DU NORD",
        ],
        "GR": ["GREECE"],
        "IE": ["IRELAND", "ÉIRE"],
        "IN": ["INDIA"],
        "IT": ["ITALY", "ITALIA"],
        "JP": ["JAPAN"],
        "LU": ["LUXEMBURG", "LËTZEBUERG"],
        "MA": ["MOROCCO"],
        "MX": ["MEXICO", "MÉXICO"],
        "NL": ["NETHERLANDS", "THE NETHERLANDS", "NEDERLAND", "HOLLANDE", "HOLLAND"],
        "NO": ["NORWAY", "NORGE"],
        "NZ": ["NEW ZEALAND"],
        "PL": ["POLAND", "POLSKA"],
        "SE": ["SWEDEN", "SVERIGE"],
        "SG": ["SINGAPORE"],
        "TN": ["TUNISIA"],
        "TR": ["TURKEY", "TÜRKIYE"],
        "US": ["USA", "UNITED STATES", "UNITED STATES OF AMERICA", "ÉTATS-UNIS D'AMÉRIQUE"],
        "ZA": ["SOUTH AFRICA"],
    ]

    /// A country the table lacks, named as Foundation names it in French (`TW` → `TAIWAN`).
    static func frenchName(of code: String) -> String? {
        // Not countries: private use (AA, QM–QZ, XA–XZ, ZZ) and groupings (EU, EZ, UN).
        let notCountries: Set<String> = ["AA", "ZZ", "EU", "EZ", "UN"]
        guard code.count == 2, !notCountries.contains(code), !code.hasPrefix("X"), !code.hasPrefix("Q"),
            let name = Locale(identifier: "fr_FR").localizedString(forRegionCode: code),
            name != code
        else { return nil }
        return capitalsWithoutAccents(name)
    }

    private static let countryKeys: [String: String] = {
        var keys: [String: String] = [:]
        // Every ISO 3166 country by its French and English names, then the table's own.
        for region in Locale.Region.isoRegions where frenchName(of: region.identifier) != nil {
            for language in ["fr_FR", "en_GB"] {
                if let name = Locale(identifier: language).localizedString(forRegionCode: region.identifier) {
                    keys[countryKey(name)] = region.identifier
                }
            }
        }
        for (code, name) in countryNames { keys[countryKey(name)] = code }
        for (code, names) in countryAliases {
            for name in names { keys[countryKey(name)] = code }
        }
        return keys
    }()
}
