import Foundation
import RelanceCore

/// A display name and an address, as in `From: "Acme" <billing@acme.fr>`.
public struct Mailbox: Sendable, Equatable {
    public var name: String?
    public var address: EmailAddress

    public init(name: String? = nil, address: EmailAddress) {
        self.name = name
        self.address = address
    }
}

/// A file attached to an e-mail (e.g. the PDF of a letter).
public struct Attachment: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var data: [UInt8]

    public init(filename: String, contentType: String, data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}

/// An image the HTML part shows by its Content-ID (`<img src="cid:…">`), sent in a
/// `multipart/related` with it: the payment QR code.
public struct InlineImage: Sendable, Equatable {
    /// Without angle brackets: `epc-qr@relance`.
    public var contentID: String
    public var contentType: String
    public var filename: String
    public var data: [UInt8]

    public init(contentID: String, contentType: String, filename: String, data: [UInt8]) {
        self.contentID = contentID
        self.contentType = contentType
        self.filename = filename
        self.data = data
    }
}

/// An e-mail to send, before MIME encoding.
public struct EmailMessage: Sendable, Equatable {
    public var from: Mailbox
    public var to: [Mailbox]
    public var replyTo: Mailbox?
    public var subject: String
    public var text: String
    public var html: String?
    public var attachments: [Attachment]
    /// Images the HTML part refers to; ignored without an HTML part.
    public var inline: [InlineImage] = []
    /// `<…@…>` without the angle brackets.
    public var messageID: String
    public var date: Date
    /// Extra headers (name, value); values are sanitised like every other header.
    public var headers: [(String, String)]

    public init(
        from: Mailbox, to: [Mailbox], replyTo: Mailbox? = nil, subject: String, text: String, html: String? = nil,
        attachments: [Attachment] = [], messageID: String, date: Date, headers: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
        self.headers = headers
    }

    public static func == (a: EmailMessage, b: EmailMessage) -> Bool {
        a.from == b.from && a.to == b.to && a.replyTo == b.replyTo && a.subject == b.subject && a.text == b.text
            && a.html == b.html && a.attachments == b.attachments && a.inline == b.inline && a.messageID == b.messageID
            && a.date == b.date
            && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }
}
