import Foundation
import RelanceLetters

/// Sample letters and the poppler/qpdf tools that inspect the PDFs.
enum Fixture {
    static let headers = ["Facture", "Émise le", "Échéance", "Montant TTC", "Reste dû"]

    static let recipient = [
        "SOCIETE DES ETABLISSEMENTS MARTIN SARL",  // 38 characters, the longest a caller lets through
        "Service comptabilité",
        "ZONE INDUSTRIELLE DES GRANDS CHAMPS 12",
        "42000 SAINT-ETIENNE",
    ]

    static let body = """
        Madame, Monsieur,

        Malgré nos relances, les factures ci-dessous restent impayées à ce jour. Nous vous mettons en \
        demeure de régler la somme de <b>2 469,12 €</b> sous huit jours à compter de la réception de la \
        présente lettre, faute de quoi nous engagerons une procédure de recouvrement judiciaire.

        %%INVOICES%%

        Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées.

        Jeanne Martin
        Responsable du recouvrement

        <small>Pénalités de retard : trois fois le taux d'intérêt légal. Indemnité forfaitaire pour frais \
        de recouvrement : 40 € (articles L441-10 et D441-5 du Code de commerce).</small>
        """

    static func table(invoices count: Int) -> InvoiceTable {
        InvoiceTable(
            headers: headers,
            rows: (0..<count).map { index in
                [
                    "F-2026-" + String(format: "%04d", index + 1), "12/09/2026", "12/10/2026", "1 234,56 €",
                    "1 234,56 €",
                ]
            },
            total: ["Total", "", "", "", "2 469,12 €"], rightAligned: [3, 4])
    }

    static func letter(
        invoices count: Int, recipient: [String] = recipient, body: String = body, logo: String? = nil
    ) -> LetterDocument {
        LetterDocument(
            title: "Mise en demeure de payer", author: "Atelier Dupont SAS",
            createdAt: Date(timeIntervalSince1970: 1_795_426_200),  // 2026-11-23 09:30 UTC
            senderLines: [
                "Atelier Dupont SAS", "12 rue des Lilas", "75011 Paris",
                "SIREN 123 456 789 — RCS Paris", "compta@atelier-dupont.fr — 01 23 45 67 89",
            ],
            logoPNG: logo, recipientLines: recipient, placeAndDate: "Paris, le 23 novembre 2026",
            references: [("Vos références", "C-00412"), ("Dossier", "F-2026-0142")],
            subject: "Objet : Mise en demeure de payer", bodyMarkup: body,
            table: count > 0 ? table(invoices: count) : nil)
    }

    /// A 16 x 8 pixel PNG, written to a temporary file.
    static func logoFile() throws -> URL {
        let png = Data(
            base64Encoded:
                "iVBORw0KGgoAAAANSUhEUgAAABAAAAAICAIAAAB/FOjAAAAA60lEQVR42g3Loa2FMAAAwD/JG4ABUFUMQE6jGwZAVTEAqa5uGAB"
                + "VxQCkmok+5+/vpw/6qE/6rC/6qm/6rh960U/90m/90V/976cN2qhN2qwt2qpt2q4dWtFO7dJu7dFe7Qt1UEd1Umd1UVd1U3f1U"
                + "It6qpd6q4/6ql/IgzzKkzzLi7zKm7zLh1zkU77kW37kV/5CGqRRmqRZWqRV2qRdOqQindIl3dIjvdIX4iCO4iTO4iKu4ibu4iE"
                + "W8RQv8RYf8RW/YGBkYmZhZWPnoHBycfPw8oUwCKMwCbOwCKuwCbtwCEU4hUu4hUd4hX/mYqUBWHG3CwAAAABJRU5ErkJggg==")!
        let url = temporaryURL("png")
        try png.write(to: url)
        return url
    }

    static func temporaryURL(_ ext: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("relance-letter-\(UUID().uuidString).\(ext)")
    }
}

/// A PDF written to a temporary file, and what the command-line tools say about it.
struct PDFFile: ~Copyable {
    let url: URL

    init(_ letter: RenderedLetter) throws {
        url = Fixture.temporaryURL("pdf")
        try Data(letter.pdf).write(to: url)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    static func toolExists(_ name: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/\(name)")
    }

    /// Runs /usr/bin/`tool` with `arguments` (the path of the PDF where "PDF" is); returns the exit
    /// status and standard output.
    func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/\(tool)")
        process.arguments = arguments.map { $0 == "PDF" ? url.path : $0 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `pdfinfo -isodates`, as a dictionary.
    func info() throws -> [String: String] {
        let output = try run("pdfinfo", ["-isodates", "PDF"]).output
        var info: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            info[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return info
    }

    /// Copies the PDF to `$RELANCE_LETTERS_KEEP/name.pdf` when that variable names a directory, to look at it.
    func keep(as name: String) {
        guard let directory = ProcessInfo.processInfo.environment["RELANCE_LETTERS_KEEP"] else { return }
        let target = URL(fileURLWithPath: directory).appendingPathComponent("\(name).pdf")
        try? FileManager.default.removeItem(at: target)
        try? FileManager.default.copyItem(at: url, to: target)
    }

    /// The text of pages `first` to `last` (all pages without them).
    func text(first: Int? = nil, last: Int? = nil) throws -> String {
        var arguments: [String] = []
        if let first { arguments += ["-f", String(first)] }
        if let last { arguments += ["-l", String(last)] }
        return try run("pdftotext", arguments + ["-layout", "PDF", "-"]).output
    }

    struct Word {
        var page: Int
        var text: String
        var xMin, yMin, xMax, yMax: Double
    }

    /// Every word with its box, in points from the top-left corner of its page (`pdftotext -bbox`).
    func words() throws -> [Word] {
        let html = try run("pdftotext", ["-bbox", "PDF", "-"]).output
        var words: [Word] = []
        var page = 0
        for line in html.split(separator: "\n") {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("<page ") { page += 1 }
            guard line.hasPrefix("<word "), let close = line.range(of: ">"), let end = line.range(of: "</word>")
            else { continue }
            func attribute(_ name: String) -> Double {
                let start = line.range(of: "\(name)=\"")!.upperBound
                return Double(line[start...].prefix { $0 != "\"" })!
            }
            let text = String(line[close.upperBound..<end.lowerBound])
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
            words.append(
                Word(
                    page: page, text: text, xMin: attribute("xMin"), yMin: attribute("yMin"),
                    xMax: attribute("xMax"), yMax: attribute("yMax")))
        }
        return words
    }

    /// Fonts as `pdffonts` lists them: name and whether embedded.
    func fonts() throws -> [(name: String, embedded: Bool)] {
        let output = try run("pdffonts", ["PDF"]).output
        return output.split(separator: "\n").dropFirst(2).map { line in
            let fields = line.split(separator: " ")
            // name type… encoding emb sub uni object-number generation
            return (String(fields[0]), fields[fields.count - 5] == "yes")
        }
    }
}
