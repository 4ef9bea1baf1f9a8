import Foundation
import RelanceCore

/// The few phrases Relance itself writes into a message, in the language of its text:
/// the "and 57 more" of an invoice list, a letter's reference labels, place-and-date
/// line, subject label and invoice table headers, and the QR code's caption. They come
/// from `wording/<locale>.json` in the templates directory (docs/TEMPLATES.md), so a
/// language is added without touching the code; French and English are built in for
/// template directories that have no such file.
public struct Wording: Sendable, Equatable {
    public var andMoreOne: String
    public var andMoreOther: String
    public var yourReference: String
    public var ourReference: String
    /// `{place}` and `{date}`.
    public var placeAndDate: String
    /// `{subject}`.
    public var subject: String
    /// Invoice, issued, due, amount, paid, balance.
    public var tableHeaders: [String]
    public var tableTotal: String
    public var qrCaption: String

    static let keys = [
        "and_more_one", "and_more_other", "your_reference", "our_reference", "place_and_date", "subject",
        "invoice_table", "qr_caption",
    ]
    static let tableKeys = ["invoice", "issued", "due", "amount", "paid", "balance", "total"]
    /// Characters of one phrase, at most: a label or a caption, not a page.
    static let maximumLength = 300

    /// " and 57 more" after a list of invoice numbers (with its leading space).
    public func andMore(_ count: Int) -> String {
        " " + (count == 1 ? andMoreOne : andMoreOther).replacingOccurrences(of: "{n}", with: String(count))
    }

    public func placeAndDate(place: String, date: String) -> String {
        placeAndDate.replacingOccurrences(of: "{place}", with: place).replacingOccurrences(of: "{date}", with: date)
    }

    public func subjectLine(_ subject: String) -> String {
        self.subject.replacingOccurrences(of: "{subject}", with: subject)
    }

    public static let english = Wording(
        andMoreOne: "and {n} more", andMoreOther: "and {n} more", yourReference: "Your reference",
        ourReference: "Our reference", placeAndDate: "{place}, {date}", subject: "Subject: {subject}",
        tableHeaders: ["Invoice", "Issued", "Due", "Amount", "Paid", "Balance"], tableTotal: "Total",
        qrCaption:
            "To pay by bank transfer, scan this code with your banking app: the payee, IBAN, amount and reference are filled in for you."
    )

    public static let french = Wording(
        andMoreOne: "et {n} autre", andMoreOther: "et {n} autres", yourReference: "Vos références",
        ourReference: "Nos références", placeAndDate: "{place}, le {date}", subject: "Objet\u{00A0}: {subject}",
        tableHeaders: ["Facture", "Émise le", "Échéance", "Montant", "Réglé", "Reste dû"], tableTotal: "Total",
        qrCaption:
            "Pour payer par virement, scannez ce code avec l’application de votre banque\u{00A0}: bénéficiaire, IBAN, montant et référence se remplissent seuls."
    )

    /// Built in, by language, for directories without `wording/`.
    static let builtIn: [String: Wording] = ["en": english, "fr": french]

    /// Reads one `wording/<locale>.json`; every key is required, every value one line.
    static func parse(_ text: String) throws(FieldError) -> Wording {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw FieldError("", "not valid JSON: \(error)") }
        guard case .object(let fields) = value else { throw FieldError("", "expected a JSON object") }
        for key in fields.keys where !keys.contains(key) {
            throw FieldError("/\(key)", "unknown key (known: \(keys.joined(separator: ", ")))")
        }
        func line(_ value: JSONValue?, _ pointer: String, placeholders: [String] = []) throws(FieldError) -> String {
            guard case .string(let text)? = value, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw FieldError(pointer, "is required: a non-empty string")
            }
            guard text.count <= maximumLength else {
                throw FieldError(pointer, "has \(text.count) characters, at most \(maximumLength)")
            }
            if let hidden = text.unicodeScalars.first(where: TextRules.isHidden) {
                throw FieldError(
                    pointer, "must be one line without \(TextRules.codePoint(hidden)) (a control or bidi character)")
            }
            for placeholder in placeholders where !text.contains(placeholder) {
                throw FieldError(pointer, "must contain \(placeholder)")
            }
            // Any other brace would print as it is ("{foo}", "{{n}}").
            var rest = text
            for placeholder in placeholders { rest = rest.replacingOccurrences(of: placeholder, with: "") }
            if rest.contains("{") || rest.contains("}") {
                let allowed = placeholders.isEmpty ? "none" : placeholders.joined(separator: ", ")
                throw FieldError(pointer, "has a brace that is not a placeholder (placeholders: \(allowed))")
            }
            return text
        }
        guard case .object(let table)? = fields["invoice_table"] else {
            throw FieldError("/invoice_table", "is required: an object of \(tableKeys.joined(separator: ", "))")
        }
        for key in table.keys where !tableKeys.contains(key) {
            throw FieldError("/invoice_table/\(key)", "unknown key (known: \(tableKeys.joined(separator: ", ")))")
        }
        var headers: [String] = []
        for key in tableKeys.dropLast() { headers.append(try line(table[key], "/invoice_table/\(key)")) }
        return Wording(
            andMoreOne: try line(fields["and_more_one"], "/and_more_one", placeholders: ["{n}"]),
            andMoreOther: try line(fields["and_more_other"], "/and_more_other", placeholders: ["{n}"]),
            yourReference: try line(fields["your_reference"], "/your_reference"),
            ourReference: try line(fields["our_reference"], "/our_reference"),
            placeAndDate: try line(fields["place_and_date"], "/place_and_date", placeholders: ["{place}", "{date}"]),
            subject: try line(fields["subject"], "/subject", placeholders: ["{subject}"]),
            tableHeaders: headers, tableTotal: try line(table["total"], "/invoice_table/total"),
            qrCaption: try line(fields["qr_caption"], "/qr_caption"))
    }
}

/// The language a message is written in, and the locale its numbers and dates follow.
public struct MessageLanguage: Sendable, Equatable {
    /// The locale of the templates found (`de`, `fr-BE`, `en`).
    public var textLocale: String
    /// The payer's locale when the text is in the payer's language (`de-CH` for a German
    /// text), else the text's locale: text and formats never disagree.
    public var formatLocale: String
    public var wording: Wording

    /// The language of a text in `textLocale` for a payer in `payerLocale`: formats of the
    /// payer's locale when the text is in the payer's language, else of the default locale
    /// when the text is in its language (`templates.default_locale: en-GB` gives British
    /// formats to whoever falls back to English), else of the text's locale.
    public init(textLocale: String, payerLocale: String, defaultLocale: String? = nil, wording: Wording) {
        self.textLocale = textLocale
        let text = Self.language(of: textLocale)
        let payer = LocaleChain.canonical(payerLocale)
        let fallback = defaultLocale.map(LocaleChain.canonical)
        if !payer.isEmpty, Self.language(of: payer) == text {
            // A payer's bare `en` takes the default's region when it has one (`en-GB`).
            let bare = !payer.contains("-")
            if bare, let fallback, Self.language(of: fallback) == text, fallback.contains("-") {
                formatLocale = fallback
            } else {
                formatLocale = payer
            }
        } else if let fallback, Self.language(of: fallback) == text, fallback.count > textLocale.count {
            formatLocale = fallback
        } else {
            formatLocale = textLocale
        }
        self.wording = wording
    }

    /// The language subtag, lower-cased: `de` for `de-CH`.
    public static func language(of locale: String) -> String {
        String(locale.split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? "").lowercased()
    }
}
