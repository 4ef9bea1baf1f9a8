import Foundation

/// The invoice table of a letter. Cells are plain text (not markup): the renderer prints them as they are.
public struct InvoiceTable: Sendable {
    public var headers: [String]
    /// One array per invoice, with at most `headers.count` cells (missing cells print empty).
    public var rows: [[String]]
    /// The total row, printed bold after the last row; empty for none.
    public var total: [String]
    /// Indexes of the columns to right-align (amounts).
    public var rightAligned: Set<Int>

    public init(headers: [String], rows: [[String]], total: [String] = [], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rows = rows
        self.total = total
        self.rightAligned = rightAligned
    }
}

/// A QR code printed on the letter with a caption beside it (the EPC payment code): the
/// modules row by row, dark ones true.
public struct PaymentCode: Sendable, Equatable {
    public var size: Int
    public var dark: [Bool]
    public var caption: String

    public init(size: Int, dark: [Bool], caption: String) {
        self.size = size
        self.dark = dark
        self.caption = caption
    }
}

/// A letter to render. Every field is plain text except `bodyMarkup`, which is Pango markup.
public struct LetterDocument: Sendable {
    /// PDF metadata Title (e.g. the subject).
    public var title: String
    /// PDF metadata Author (the creditor).
    public var author: String
    /// PDF metadata CreationDate.
    public var createdAt: Date
    /// Company name (printed bold), then address, registration, contact.
    public var senderLines: [String]
    /// Optional path to a PNG logo, drawn top-left and scaled to fit 40 x 20 mm.
    public var logoPNG: String?
    /// Already validated address lines (38 characters at most), printed inside the envelope window.
    public var recipientLines: [String]
    /// "Paris, le 23 novembre 2026", right-aligned below the window.
    public var placeAndDate: String
    /// e.g. ("Vos références", "C-00412"), ("Dossier", "F-2026-0142"): label and value in two columns.
    public var references: [(label: String, value: String)]
    /// "Objet : Mise en demeure de payer", printed bold.
    public var subject: String
    /// Pango markup, already escaped by the template engine. Paragraphs are separated by blank lines
    /// (a single newline is a line break inside a paragraph), and a tag must not span two paragraphs.
    /// A line that is exactly `%%INVOICES%%` marks where the invoice table goes; without one, the table
    /// follows the body.
    public var bodyMarkup: String
    public var table: InvoiceTable?
    /// Printed after the body and the table, away from the window and the folds.
    public var paymentCode: PaymentCode?
    /// The footer label of page `n` of `total`, e.g. `{ "\($0)/\($1)" }` for "1/2" (the default) or
    /// `{ "Page \($0) sur \($1)" }`. A `@Sendable` closure so that the document stays `Sendable`.
    public var pageLabel: @Sendable (_ page: Int, _ total: Int) -> String

    /// Marks where the invoice table goes in `bodyMarkup`, on a line of its own.
    public static let invoicesMarker = "%%INVOICES%%"
    /// Marks where the payment QR code goes, on a line of its own; without one, it follows
    /// the body and the table.
    public static let paymentCodeMarker = "%%PAYMENT_CODE%%"

    public init(
        title: String, author: String, createdAt: Date, senderLines: [String], logoPNG: String? = nil,
        recipientLines: [String], placeAndDate: String, references: [(label: String, value: String)] = [],
        subject: String, bodyMarkup: String, table: InvoiceTable? = nil, paymentCode: PaymentCode? = nil,
        pageLabel: @escaping @Sendable (_ page: Int, _ total: Int) -> String = { "\($0)/\($1)" }
    ) {
        self.title = title
        self.author = author
        self.createdAt = createdAt
        self.senderLines = senderLines
        self.logoPNG = logoPNG
        self.recipientLines = recipientLines
        self.placeAndDate = placeAndDate
        self.references = references
        self.subject = subject
        self.bodyMarkup = bodyMarkup
        self.table = table
        self.paymentCode = paymentCode
        self.pageLabel = pageLabel
    }
}

/// A rendered letter: the PDF bytes, its page count and the SHA-256 of the bytes (hex) for the trace.
public struct RenderedLetter: Sendable {
    public var pdf: [UInt8]
    public var pages: Int
    public var sha256: String

    public init(pdf: [UInt8], pages: Int, sha256: String) {
        self.pdf = pdf
        self.pages = pages
        self.sha256 = sha256
    }
}

/// Why a letter cannot be rendered, in words fit for the job's trace
/// (e.g. "the letter takes 12 pages, over the limit of 10").
public struct LetterError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
