import Foundation
import RelanceCore
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceTransport

// The settings the domain services use, read from the configuration by RelanceDaemon.

/// `email.transport`.
public enum EmailTransportKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case outbox, smtp

    public var description: String { rawValue }
}

/// `sms.transport`.
public enum SMSTransportKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case outbox, kannel, twilio, webhook

    public var description: String { rawValue }
}

/// `letters.transport`.
public enum LetterTransportKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case spool
    case httpUpload = "http-upload"

    public var description: String { rawValue }
}

public struct EmailSettings: Sendable {
    public var transport: EmailTransportKind
    public var from: EmailAddress
    public var fromName: String
    public var replyTo: EmailAddress?
    public var messageIDDomain: String
    public var outboxDirectory: String
    /// Signs each message (`email.dkim.*`); nil: messages go unsigned (the relay may sign).
    public var dkim: DKIMSigner?
    /// The per-message envelope sender that names the job (`email.bounce_address`); nil:
    /// the envelope sender is `from`.
    public var bounces: VERPAddress?

    public init(
        transport: EmailTransportKind, from: EmailAddress, fromName: String = "", replyTo: EmailAddress? = nil,
        messageIDDomain: String, outboxDirectory: String, dkim: DKIMSigner? = nil, bounces: VERPAddress? = nil
    ) {
        self.dkim = dkim
        self.bounces = bounces
        self.transport = transport
        self.from = from
        self.fromName = fromName
        self.replyTo = replyTo
        self.messageIDDomain = messageIDDomain
        self.outboxDirectory = outboxDirectory
    }
}

/// How SMS text is prepared (the composer's part of the SMS settings).
public struct SMSTextSettings: Sendable {
    public var sanitizing: SMSSanitizing
    public var maxSegments: Int
    /// For national numbers of payers whose locale has no region (`fr`).
    public var defaultCountry: String?

    public init(sanitizing: SMSSanitizing = .typography, maxSegments: Int = 6, defaultCountry: String? = nil) {
        self.sanitizing = sanitizing
        self.maxSegments = maxSegments
        self.defaultCountry = defaultCountry
    }
}

public struct LetterSettings: Sendable {
    public var transport: LetterTransportKind
    public var spoolDirectory: String
    /// Where the address window is (`letters.envelope`).
    public var envelope: EnvelopePreset
    public var maxPages: Int
    public var logo: String?
    /// The town in "Paris, le 23 novembre 2026".
    public var place: String
    public var font: String
    /// Where letters are posted from: a payer in another country gets international mail.
    public var senderCountry: String
    /// Templates whose e-mails carry the letter as a PDF attachment (a formal notice by both channels).
    public var attachToEmail: Set<String>
    public var http: HTTPSettings
    public var uploadURL: String?
    public var uploadHeaders: [(String, String)]
    public var uploadIDField: String?

    public init(
        transport: LetterTransportKind, spoolDirectory: String, envelope: EnvelopePreset, maxPages: Int, logo: String?,
        place: String, font: String, senderCountry: String, attachToEmail: Set<String>, http: HTTPSettings,
        uploadURL: String?, uploadHeaders: [(String, String)], uploadIDField: String?
    ) {
        self.transport = transport
        self.spoolDirectory = spoolDirectory
        self.envelope = envelope
        self.maxPages = maxPages
        self.logo = logo
        self.place = place
        self.font = font
        self.senderCountry = senderCountry
        self.attachToEmail = attachToEmail
        self.http = http
        self.uploadURL = uploadURL
        self.uploadHeaders = uploadHeaders
        self.uploadIDField = uploadIDField
    }

    /// Letters as the daemon sends them without a `letters` section.
    public static let defaults = LetterSettings(
        transport: .spool, spoolDirectory: "var/spool", envelope: .frDLRight, maxPages: 10, logo: nil,
        place: "Paris", font: "DejaVu Sans", senderCountry: "FR", attachToEmail: [], http: HTTPSettings(),
        uploadURL: nil, uploadHeaders: [], uploadIDField: "id")
}

/// How reminders help the payer pay (docs/PAYMENTS.md): the pay link and the EPC QR code.
public struct PaymentSettings: Sendable {
    /// `creditor.payment_url` with its secret; nil: no link unless the job's data has one.
    public var payLink: PayLink?
    /// `creditor.qr_code`: an EPC QR code when the amount is in EUR and the creditor has an IBAN.
    public var qrCode: Bool

    public init(payLink: PayLink? = nil, qrCode: Bool = false) {
        self.payLink = payLink
        self.qrCode = qrCode
    }

    public static let none = PaymentSettings()
}
