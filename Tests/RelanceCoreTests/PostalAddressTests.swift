import Testing

@testable import RelanceCore

@Suite("PostalAddress")
struct PostalAddressTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var name: String
        var lines: [String]
        var country: String?
        var sender = "FR"
        var expected: [String]
        var testDescription: String { name }
    }

    @Test(
        "valid addresses are normalised",
        arguments: [
            Valid(
                name: "French, six lines, punctuation removed from line 4 on",
                lines: [
                    "Madame Jeanne Martin", "Appartement 12, escalier B", "Résidence « Les Tilleuls »",
                    "12, avenue de l’Église", "Lieu-dit Les Prés, B.P. 45", "42000 Saint-Étienne",
                ],
                country: "FR",
                expected: [
                    "Madame Jeanne Martin", "Appartement 12, escalier B", "Résidence « Les Tilleuls »",
                    "12 avenue de l'Église", "Lieu-dit Les Prés B P 45", "42000 SAINT-ETIENNE",
                ]),
            Valid(
                name: "French, lowercase city uppercased",
                lines: ["ACME SARL", "3 rue de la République", "69001 Lyon"],
                country: "FR",
                expected: ["ACME SARL", "3 rue de la République", "69001 LYON"]),
            Valid(
                name: "French, comma after the number removed on a three-line address",
                lines: ["Jean Dupont", "12, rue de la Paix", "75002 Paris"],
                country: "FR",
                expected: ["Jean Dupont", "12 rue de la Paix", "75002 PARIS"]),
            Valid(
                name: "French, line 1 keeps its punctuation",
                lines: ["M. et Mme Dupont, S.A.R.L.", "75002 Paris"],
                country: "FR",
                expected: ["M. et Mme Dupont, S.A.R.L.", "75002 PARIS"]),
            Valid(
                name: "French, spaces trimmed and collapsed, empty lines dropped, CEDEX kept",
                lines: [
                    "  Lumen   Conseil ", "", "Service\u{00A0}\u{00A0}comptabilité", "   ",
                    "CS 90210", "75008  Paris   Cedex 08 ",
                ],
                country: "FR",
                expected: ["Lumen Conseil", "Service comptabilité", "CS 90210", "75008 PARIS CEDEX 08"]),
            Valid(
                name: "French, accents, apostrophe and ligature in the city",
                lines: ["Mairie", "Place de l’Hôtel de Ville", "95290 L’Isle-Adam"],
                country: "FR",
                expected: ["Mairie", "Place de l'Hôtel de Ville", "95290 L'ISLE-ADAM"]),
            Valid(
                name: "French, Œ ligature and a comma in the city line",
                lines: ["Ferme Muller", "57330 Œutrange, Moselle"],
                country: "FR",
                expected: ["Ferme Muller", "57330 OEUTRANGE MOSELLE"]),
            Valid(
                name: "French, a trailing FRANCE line is dropped",
                lines: ["Jean Dupont", "12 rue de la Paix", "75002 Paris", "France"],
                country: "FR",
                expected: ["Jean Dupont", "12 rue de la Paix", "75002 PARIS"]),
            Valid(
                name: "no country: the sender's country",
                lines: ["Jean Dupont", "12 rue de la Paix", "75002 Paris"],
                country: nil,
                expected: ["Jean Dupont", "12 rue de la Paix", "75002 PARIS"]),
            Valid(
                name: "Monaco and overseas departments are domestic mail",
                lines: ["Société Monégasque", "2 boulevard des Moulins", "98000 Monaco"],
                country: "MC",
                expected: ["Société Monégasque", "2 boulevard des Moulins", "98000 MONACO"]),
            Valid(
                name: "Réunion is domestic mail",
                lines: ["Jean Payet", "5 rue de Paris", "97400 Saint-Denis"],
                country: "re",
                expected: ["Jean Payet", "5 rue de Paris", "97400 SAINT-DENIS"]),
            Valid(
                name: "Belgian, country appended from the payer's country",
                lines: ["Brasserie Dupuis SPRL", "Rue Neuve 123, boîte 4", "1000 Bruxelles"],
                country: "BE",
                expected: ["Brasserie Dupuis SPRL", "Rue Neuve 123, boîte 4", "1000 BRUXELLES", "BELGIQUE"]),
            Valid(
                name: "British, country line kept and written in French",
                lines: ["Acme Ltd", "10 Downing Street", "London", "SW1A 2AA", "United Kingdom"],
                country: "GB",
                expected: ["Acme Ltd", "10 Downing Street", "LONDON", "SW1A 2AA", "ROYAUME-UNI"]),
            Valid(
                name: "British, the country line wins over the locale region",
                lines: ["Acme Ltd", "10 Downing Street", "London SW1A 2AA", "Royaume-Uni"],
                country: "FR",
                expected: ["Acme Ltd", "10 Downing Street", "LONDON", "SW1A 2AA", "ROYAUME-UNI"]),
            Valid(
                name: "German and American country names in other spellings",
                lines: ["Müller GmbH", "Hauptstraße 5", "10115 Berlin", "Deutschland"],
                country: nil,
                expected: ["Müller GmbH", "Hauptstraße 5", "10115 BERLIN", "ALLEMAGNE"]),
            Valid(
                name: "United States, dotted abbreviation",
                lines: ["Acme Inc.", "1600 Amphitheatre Pkwy", "Mountain View, CA 94043", "U.S.A."],
                country: "US",
                expected: ["Acme Inc.", "1600 Amphitheatre Pkwy", "Mountain View, CA 94043", "ETATS-UNIS"]),
            Valid(
                name: "international, seven lines with the country line",
                lines: [
                    "Società Esempio S.r.l.", "Ufficio contabilità", "Palazzo B", "Scala C",
                    "Via Roma 10", "00184 Roma RM",
                ],
                country: "IT",
                expected: [
                    "Società Esempio S.r.l.", "Ufficio contabilità", "Palazzo B", "Scala C", "Via Roma 10",
                    "00184 ROMA RM", "ITALIE",
                ]),
            Valid(
                name: "a line with line breaks is split",
                lines: ["Jean Dupont\n12 rue de la Paix\n75002 Paris"],
                country: "FR",
                expected: ["Jean Dupont", "12 rue de la Paix", "75002 PARIS"]),
            Valid(
                name: "exactly 38 characters",
                lines: ["Jean Dupont", String(repeating: "a", count: 38), "75002 Paris"],
                country: "FR",
                expected: ["Jean Dupont", String(repeating: "a", count: 38), "75002 PARIS"]),
            Valid(
                name: "a Belgian sender: French mail is international",
                lines: ["Jean Dupont", "12 rue de la Paix", "75002 Paris"],
                country: "FR", sender: "BE",
                expected: ["Jean Dupont", "12 rue de la Paix", "75002 Paris", "FRANCE"]),
            // The destination's own order (UPU addressing guidance): postcode before the town.
            Valid(
                name: "Spanish, postcode then town in capitals",
                lines: ["Distribuciones Ruiz S.L.", "Calle de Alcalá 42, 3.º", "28014 Madrid"], country: "ES",
                expected: ["Distribuciones Ruiz S.L.", "Calle de Alcalá 42, 3.º", "28014 MADRID", "ESPAGNE"]),
            Valid(
                name: "Dutch, postcode letters upper-cased and spaced",
                lines: ["Van Dijk B.V.", "Keizersgracht 123", "1015cj Amsterdam"], country: "NL",
                expected: ["Van Dijk B.V.", "Keizersgracht 123", "1015 CJ AMSTERDAM", "PAYS-BAS"]),
            Valid(
                name: "Dutch, postcode in two words",
                lines: ["Van Dijk B.V.", "Keizersgracht 123", "1015 cj  Amsterdam"], country: "NL",
                expected: ["Van Dijk B.V.", "Keizersgracht 123", "1015 CJ AMSTERDAM", "PAYS-BAS"]),
            Valid(
                name: "Swiss, four digits; Austrian; Luxembourg gets its L- prefix",
                lines: ["Käserei Huber AG", "Bahnhofstrasse 1", "8001 Zürich"], country: "CH",
                expected: ["Käserei Huber AG", "Bahnhofstrasse 1", "8001 ZÜRICH", "SUISSE"]),
            Valid(
                name: "Luxembourg, the L- prefix added",
                lines: ["Société Kremer", "12 rue du Fort", "1150 Luxembourg"], country: "LU",
                expected: ["Société Kremer", "12 rue du Fort", "L-1150 LUXEMBOURG", "LUXEMBOURG"]),
            Valid(
                name: "British, town and postcode on one line are put on two",
                lines: ["Acme Ltd", "1 Fleet Street", "London ec4y 1aa"], country: "GB",
                expected: ["Acme Ltd", "1 Fleet Street", "LONDON", "EC4Y 1AA", "ROYAUME-UNI"]),
            Valid(
                name: "British, a postcode written without its space",
                lines: ["Acme Ltd", "1 Fleet Street", "Manchester", "M11AE"], country: "GB",
                expected: ["Acme Ltd", "1 Fleet Street", "MANCHESTER", "M1 1AE", "ROYAUME-UNI"]),
            Valid(
                name: "the old country prefix before a postcode is dropped",
                lines: ["Müller GmbH", "Hauptstraße 5", "D-10117 Berlin"], country: "DE",
                expected: ["Müller GmbH", "Hauptstraße 5", "10117 BERLIN", "ALLEMAGNE"]),
            Valid(
                name: "a Swiss CH- prefix is dropped too",
                lines: ["Huber AG", "Bahnhofstrasse 1", "CH-8001 Zürich", "Schweiz"], country: nil,
                expected: ["Huber AG", "Bahnhofstrasse 1", "8001 ZÜRICH", "SUISSE"]),
            Valid(
                name: "a country the table lacks gets its French name from Foundation",
                lines: ["Formosa Trading", "1 Zhongxiao Road", "Taipei 100"], country: "TW",
                expected: ["Formosa Trading", "1 Zhongxiao Road", "Taipei 100", "TAIWAN"]),
            Valid(
                name: "and is recognised by its English name on the last line",
                lines: ["Formosa Trading", "1 Zhongxiao Road", "Taipei 100", "Taiwan"], country: nil,
                expected: ["Formosa Trading", "1 Zhongxiao Road", "Taipei 100", "TAIWAN"]),
            Valid(
                name: "Girobank's postcode, the exception to the UK pattern",
                lines: ["Girobank", "Bootle", "GIR 0AA"], country: "GB",
                expected: ["Girobank", "BOOTLE", "GIR 0AA", "ROYAUME-UNI"]),
            Valid(
                name: "a country without known rules: lines only cleaned",
                lines: ["Acme Inc.", "1 Main St", "Springfield, IL 62701"], country: "US",
                expected: ["Acme Inc.", "1 Main St", "Springfield, IL 62701", "ETATS-UNIS"]),
        ])
    func valid(_ example: Valid) throws {
        let address = try PostalAddress.normalize(
            example.lines, country: example.country, senderCountry: example.sender)
        #expect(address.lines == example.expected)
        #expect(address == PostalAddress(lines: example.expected))
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var lines: [String]
        var country: String?
        var rule: String
        var message: String
        var testDescription: String { name }
    }

    @Test(
        "invalid addresses name the rule and where",
        arguments: [
            Invalid(
                name: "French, eight lines",
                lines: ["A", "B", "C", "D", "E", "F", "G", "75002 Paris"],
                country: "FR",
                rule: "max-lines",
                message: "the address has 8 lines, at most 6 for France (NF Z10-011)"),
            Invalid(
                name: "French, seven lines",
                lines: ["A", "B", "C", "D", "E", "F", "75002 Paris"],
                country: "FR",
                rule: "max-lines",
                message: "the address has 7 lines, at most 6 for France (NF Z10-011)"),
            Invalid(
                name: "a 45-character line",
                lines: ["Jean Dupont", "Bâtiment des Services Administratifs Centraux", "75002 Paris"],
                country: "FR",
                rule: "line-length",
                message:
                    "line 2 has 45 characters, at most 38 (NF Z10-011): "
                    + "\"Bâtiment des Services Administratifs Centraux\""),
            Invalid(
                name: "a long city line, counted once normalised",
                lines: ["Jean Dupont", "13999 Saint-Rémy-de-Provence-sur-la-Grande-Mer"],
                country: "FR",
                rule: "line-length",
                message:
                    "line 2 has 46 characters, at most 38 (NF Z10-011): "
                    + "\"13999 SAINT-REMY-DE-PROVENCE-SUR-LA-GRANDE-MER\""),
            Invalid(
                name: "French last line without postcode",
                lines: ["Jean Dupont", "12 rue de la Paix", "Paris"],
                country: "FR",
                rule: "last-line",
                message:
                    "the last line (line 3) \"Paris\" must start with a 5-digit postcode followed by the city, "
                    + "e.g. \"75002 PARIS\" (NF Z10-011)"),
            Invalid(
                name: "French postcode after the city",
                lines: ["Jean Dupont", "12 rue de la Paix", "Paris 75002"],
                country: nil,
                rule: "last-line",
                message:
                    "the last line (line 3) \"Paris 75002\" must start with a 5-digit postcode followed by the "
                    + "city, e.g. \"75002 PARIS\" (NF Z10-011)"),
            Invalid(
                name: "French four-digit postcode",
                lines: ["Jean Dupont", "12 rue de la Paix", "7502 Paris"],
                country: "FR",
                rule: "last-line",
                message:
                    "the last line (line 3) \"7502 Paris\" must start with a 5-digit postcode followed by the "
                    + "city, e.g. \"75002 PARIS\" (NF Z10-011)"),
            Invalid(
                name: "French postcode without city",
                lines: ["Jean Dupont", "12 rue de la Paix", "75002"],
                country: "FR",
                rule: "last-line",
                message:
                    "the last line (line 3) \"75002\" has a postcode but no city, e.g. \"75002 PARIS\" (NF Z10-011)"),
            Invalid(
                name: "international, eight lines with the appended country",
                lines: ["A", "B", "C", "D", "E", "F", "00184 Roma"],
                country: "IT",
                rule: "max-lines",
                message: "the address has 8 lines with the country line, at most 7 for international mail (NF Z10-011)"),
            Invalid(
                name: "international, eight lines with the country line given",
                lines: ["A", "B", "C", "D", "E", "F", "1000 Bruxelles", "Belgique"],
                country: "BE",
                rule: "max-lines",
                message: "the address has 8 lines with the country line, at most 7 for international mail (NF Z10-011)"),
            Invalid(
                name: "international, unknown country",
                lines: ["Jean Dupont", "Somewhere 12", "Atlantis"],
                country: "XA",
                rule: "country",
                message:
                    "the last line \"Atlantis\" is not a country name and the country \"XA\" has no known name: "
                    + "end the address with the country name in capitals (NF Z10-011)"),
            Invalid(
                name: "empty",
                lines: ["", "  "],
                country: "FR",
                rule: "min-lines",
                message: "the address has 0 lines, at least 2: the recipient, then the postcode and city"),
            Invalid(
                name: "one line",
                lines: ["75002 Paris"],
                country: "FR",
                rule: "min-lines",
                message: "the address has 1 line, at least 2: the recipient, then the postcode and city"),
            Invalid(
                name: "German, the postcode after the town",
                lines: ["Müller GmbH", "Hauptstraße 5", "Berlin 10115", "Deutschland"], country: nil, rule: "locality",
                message:
                    "the line before the country (line 3) \"Berlin 10115\" must start with the postcode (5 digits) "
                    + "and then the town: in Germany the postcode goes before the town, e.g. \"10117 BERLIN\" "
                    + "(UPU addressing guidance, Germany)"),
            Invalid(
                name: "Italian, no postcode",
                lines: ["Rossi S.p.A.", "Via Roma 10", "Roma"], country: "IT", rule: "locality",
                message:
                    "the line before the country (line 3) \"Roma\" must start with the postcode (5 digits) and then "
                    + "the town, e.g. \"00184 ROMA RM\" (UPU addressing guidance, Italy); no country line was given, "
                    + "so the letter goes to ITALIE (the payer's country): end the address with its country's name if it "
                    + "is elsewhere"),
            Invalid(
                name: "Belgian, a French five-digit postcode",
                lines: ["Dupuis SPRL", "Rue Neuve 123", "10000 Bruxelles", "Belgique"], country: "BE", rule: "locality",
                message:
                    "the line before the country (line 3) \"10000 Bruxelles\" must start with the postcode (4 digits) "
                    + "and then the town, e.g. \"1000 BRUXELLES\" (UPU addressing guidance, Belgium)"),
            Invalid(
                name: "Dutch, postcode without a town",
                lines: ["Van Dijk B.V.", "Keizersgracht 123", "1015 CJ", "Nederland"], country: "NL", rule: "locality",
                message:
                    "the line before the country (line 3) \"1015 CJ\" has a postcode but no town, "
                    + "e.g. \"1012 JS AMSTERDAM\" (UPU addressing guidance, the Netherlands)"),
            Invalid(
                name: "British, no postcode",
                lines: ["Acme Ltd", "1 Fleet Street", "London", "UK"], country: "GB", rule: "locality",
                message:
                    "the line before the country (line 3) \"London\" must be the UK postcode on its own line, after "
                    + "the post town, e.g. \"LONDON\" then \"SW1A 2AA\" (UPU addressing guidance, United Kingdom)"),
            Invalid(
                name: "British, a postcode and no town",
                lines: ["Acme Ltd", "SW1A 2AA", "United Kingdom"], country: "GB", rule: "locality",
                message:
                    "the address has no post town before the postcode \"SW1A 2AA\", e.g. \"LONDON\" then "
                    + "\"SW1A 2AA\" (UPU addressing guidance, United Kingdom)"),
            Invalid(
                name: "British, a street where the post town goes",
                lines: ["Acme Ltd", "1 Fleet Street", "EC4Y 1AA", "UK"], country: "GB", rule: "locality",
                message:
                    "the address has no post town before the postcode \"EC4Y 1AA\", e.g. \"LONDON\" then "
                    + "\"SW1A 2AA\" (UPU addressing guidance, United Kingdom)"),
            Invalid(
                name: "a NUL from a row written by SQL",
                lines: ["Jean Dupont", "12 rue\u{0}de la Paix", "75002 Paris"], country: "FR", rule: "characters",
                message: "line 2 holds U+0000, a control or bidi character: \"12 ruede la Paix\""),
            Invalid(
                name: "a right-to-left override",
                lines: ["Jean Dupont", "\u{202E}12 rue de la Paix", "75002 Paris"], country: "FR", rule: "characters",
                message: "line 2 holds U+202E, a control or bidi character: \"12 rue de la Paix\""),
        ])
    func invalid(_ example: Invalid) {
        #expect(throws: AddressError(rule: example.rule, message: example.message)) {
            try PostalAddress.normalize(example.lines, country: example.country)
        }
    }

    @Test("an error describes itself with its message")
    func errorDescription() {
        let error = AddressError(rule: "line-length", message: "line 2 has 45 characters, at most 38 (NF Z10-011)")
        #expect(error.description == "line 2 has 45 characters, at most 38 (NF Z10-011)")
    }

    @Test(
        "country names",
        arguments: [
            ("BELGIQUE", "BE" as String?), ("Belgium", "BE"), ("België", "BE"), ("royaume-uni", "GB"),
            ("Royaume Uni", "GB"), ("UK", "GB"), ("États-Unis", "US"), ("Etats-Unis d’Amérique", "US"),
            ("Pays-Bas", "NL"), ("Côte d'Ivoire", "CI"), ("Suisse", "CH"), ("Österreich", "AT"),
            ("75002 PARIS", nil), ("L-1234 Luxembourg", nil), ("Luxembourg", "LU"),
        ])
    func countryNames(_ line: String, _ code: String?) {
        #expect(PostalAddress.countryCode(named: line) == code)
    }

    @Test("every country name fits a line and is in capitals without accents")
    func countryNameTable() {
        for (code, name) in PostalAddress.countryNames {
            #expect(name.count <= PostalAddress.maxLineLength, "\(code)")
            #expect(PostalAddress.capitalsWithoutAccents(name) == name, "\(code)")
            #expect(PostalAddress.countryCode(named: name) == code, "\(code)")
        }
    }
}
