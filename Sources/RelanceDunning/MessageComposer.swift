import Foundation
import RelanceCore
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceTemplates

/// Turns a job and its payer into the message to send: validates, renders, encodes.
/// Every failure here is permanent (data, template, address): retrying cannot help.
public struct MessageComposer: Sendable {
    public let catalog: TemplateCatalog
    public let creditor: Creditor
    public let email: EmailSettings
    public let sms: SMSTextSettings
    public let letters: LetterSettings
    let letterRenderer: LetterRenderer
    /// The dunning scenarios in force with these templates (nil when they did not load or
    /// name a message the templates lack: invoices are then unavailable). They reload with
    /// the templates, on SIGHUP.
    public let scenarios: ScenarioCatalog?
    /// The segments a payer may have: the templates' variants and what the scenarios name.
    public let knownSegments: KnownSegments
    /// `templates.deadline_days`: a payment deadline is at least this many days after the message's date.
    public let deadlineDays: Int
    /// The pay link and the QR code.
    public let payments: PaymentSettings

    public init(
        catalog: TemplateCatalog, creditor: Creditor, email: EmailSettings,
        sms: SMSTextSettings = .init(), letters: LetterSettings = .defaults,
        scenarios: ScenarioCatalog? = nil, deadlineDays: Int = PaymentDeadline.defaultDays,
        payments: PaymentSettings = .none
    ) {
        self.payments = payments
        self.catalog = catalog
        self.scenarios = scenarios
        self.deadlineDays = deadlineDays
        self.knownSegments = KnownSegments(catalog.variantSegments.union(scenarios?.segments ?? []))
        self.creditor = creditor
        self.email = email
        self.sms = sms
        self.letters = letters
        self.letterRenderer = LetterRenderer(fontFamily: letters.font, maxPages: letters.maxPages)
    }

    public struct Composed: Sendable {
        public var rendered: RenderedMessage
        public var payload: Payload
        /// What the trace records about the rendering (files, locale, sha256, SMS segments…).
        public var traceDetail: JSONValue
    }

    public enum Payload: Sendable {
        case email(OutgoingEmail, mime: String)
        case sms(OutgoingSMS)
        case letter(OutgoingLetter)
    }

    /// The parts a channel sends.
    func parts(for channel: Channel, job: Job, payer: PayerProfile) throws -> [TemplatePart] {
        channel.requiredParts
            + channel.optionalParts.filter { part in
                (try? catalog.resolve(message: job.template, part: part, locale: payer.locale, segment: payer.segment))
                    != nil
            }
    }

    /// Renders the message of `job` for `payer`, as it would be sent now.
    public func render(job: Job, payer: PayerProfile, today: Date = Date()) throws -> RenderedMessage {
        try renderWithPayment(job: job, payer: payer, today: today).rendered
    }

    /// The rendered parts, and what the message asks the payer to pay (for the QR code).
    func renderWithPayment(job: Job, payer: PayerProfile, today: Date) throws -> (
        rendered: RenderedMessage, due: PaymentDue?
    ) {
        guard let channel = Channel(rawValue: job.channel) else {
            throw DispatchFailure(reason: .data, message: "unknown channel '\(job.channel)' (email, sms, letter)")
        }
        let parts = try parts(for: channel, job: job, payer: payer)
        do {
            let language = catalog.language(message: job.template, parts: parts, payer: payer)
            var context = try MessageContext.build(
                payer: payer, creditor: creditor, caseRef: job.caseRef, data: job.data, today: today,
                required: catalog.requiredData[job.template] ?? [], message: job.template, deadlineDays: deadlineDays,
                language: language)
            let due = addPayment(to: &context, caseRef: job.caseRef, wording: language.wording)
            let rendered = try catalog.render(
                message: job.template, parts: parts, payer: payer, context: context, creditor: creditor)
            return (rendered, due)
        } catch let error as TemplateError {
            throw DispatchFailure(reason: error.kind == .data ? .data : .template, message: error.message)
        } catch {
            throw DispatchFailure(reason: .template, message: "\(error)")
        }
    }

    public func compose(job: Job, payer: PayerProfile, today: Date = Date()) throws -> Composed {
        // A segment nothing knows would get the standard texts without a word (a payer row
        // written by SQL, or a segment a template reload removed).
        if let problem = knownSegments.problem(payer.segment) {
            throw DispatchFailure(reason: .payer, message: "payer \(payer.ref): \(problem)")
        }
        switch Channel(rawValue: job.channel) {
        case .sms: return try composeSMS(job: job, payer: payer, today: today)
        case .letter:
            let (rendered, letter) = try self.letter(job: job, payer: payer, today: today)
            var detail = rendered.traceDetail.objectValue ?? [:]
            detail["pages"] = .number(String(letter.pages))
            detail["pdf_sha256"] = .string(letter.sha256)
            detail["envelope"] = .string(letter.envelope)
            detail.merge(letter.paymentProof) { $1 }
            return Composed(rendered: rendered, payload: .letter(letter), traceDetail: .object(detail))
        default: return try composeEmail(job: job, payer: payer, today: today)
        }
    }

    /// The payer's number in E.164: as stored, or a national number read with the
    /// country of the payer's locale (`fr-FR` → FR), else `sms.default_country`.
    public func phoneNumber(of payer: PayerProfile) throws -> PhoneNumber {
        guard let phone = payer.phone, !phone.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref) has no phone number")
        }
        do {
            return try PhoneNumber.normalize(phone, country: payer.phoneCountry(sms.defaultCountry))
        } catch {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref): \(error)")
        }
    }

    func composeSMS(job: Job, payer: PayerProfile, today: Date) throws -> Composed {
        let number = try phoneNumber(of: payer)
        let rendered = try render(job: job, payer: payer, today: today)
        let prepared: PreparedSMS
        do {
            prepared = try SMSText.prepare(
                rendered[.sms] ?? "", sanitizing: sms.sanitizing, maxSegments: sms.maxSegments)
        } catch {
            throw DispatchFailure(reason: .length, message: "\(job.template)/sms for payer \(payer.ref): \(error)")
        }
        let outgoing = OutgoingSMS(
            jobID: job.id, attempt: job.attempt, to: number.e164, text: prepared.text,
            encoding: prepared.measure.encoding, segments: prepared.measure.segments)
        var detail = rendered.traceDetail.objectValue ?? [:]
        detail["to"] = .string(number.e164)
        detail["encoding"] = .string(prepared.measure.encoding.rawValue)
        detail["segments"] = .number(String(prepared.measure.segments))
        detail["units"] = .number(String(prepared.measure.units))
        // The text as sent (after sanitising), as evidence next to the rendered parts' hash.
        detail["text_sha256"] = .string(SHA256.hex(prepared.text))
        return Composed(rendered: rendered, payload: .sms(outgoing), traceDetail: .object(detail))
    }

    func composeEmail(job: Job, payer: PayerProfile, today: Date) throws -> Composed {
        guard let address = payer.email, !address.isEmpty else {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref) has no e-mail address")
        }
        let recipient: EmailAddress
        do { recipient = try EmailAddress(address) } catch {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref): \(error)")
        }
        let (rendered, due) = try renderWithPayment(job: job, payer: payer, today: today)
        let inline = inlineQRCode(due, html: rendered[.emailHTML])
        var headers: [(String, String)] = [("X-Relance-Job", String(job.id))]
        if let caseRef = job.caseRef { headers.append(("X-Relance-Case", caseRef)) }
        // Outlook and Exchange: no out-of-office replies to an automatic message.
        headers.append(("X-Auto-Response-Suppress", "All"))
        var attachments: [Attachment] = []
        var letterProof: [String: JSONValue] = [:]
        // The same letter as the one posted (a formal notice by both channels): asked by
        // the configuration for a message, or by the job (`attach_letter`, set by a scenario
        // step). A payer without a postal address gets the e-mail alone; the trace says so.
        if letters.attachToEmail.contains(job.template) || Self.asksForLetter(job.data) {
            if !hasUsableContact(.letter, payer) {
                letterProof = ["attachment_skipped": "the payer has no usable postal address"]
            } else {
                let (_, letter) = try self.letter(job: job, payer: payer, today: today)
                attachments.append(
                    Attachment(
                        filename: "\(job.template)-\(job.caseRef ?? String(job.id)).pdf",
                        contentType: "application/pdf",
                        data: letter.pdf))
                letterProof = [
                    "attachment_sha256": .string(letter.sha256), "attachment_pages": .number(String(letter.pages)),
                ]
            }
        }
        var message = EmailMessage(
            from: Mailbox(name: email.fromName.isEmpty ? nil : email.fromName, address: email.from),
            to: [Mailbox(name: payer.name, address: recipient)],
            replyTo: email.replyTo.map { Mailbox(address: $0) },
            subject: rendered[.emailSubject] ?? "", text: rendered[.emailText] ?? "", html: rendered[.emailHTML],
            attachments: attachments, messageID: "relance.job-\(job.id).\(job.attempt)@\(email.messageIDDomain)",
            date: today, headers: headers)
        message.inline = inline
        var mime = MIMEWriter.render(message)
        var bytes = Array(mime.utf8)
        if let dkim = email.dkim {
            let signatures: [UInt8]
            do { signatures = try dkim.signatureHeaders(bytes, at: today) } catch {
                throw DispatchFailure(reason: .transport, message: "\(error)")
            }
            bytes = signatures + bytes
            mime = String(decoding: signatures, as: UTF8.self) + mime
        }
        let outgoing = OutgoingEmail(
            jobID: job.id, attempt: job.attempt,
            envelopeFrom: email.bounces?.address(jobID: job.id, attempt: job.attempt) ?? email.from,
            recipients: [recipient], bytes: bytes)
        var detail = (rendered.traceDetail.objectValue ?? [:]).merging(letterProof) { $1 }
        detail.merge(paymentProof(due, qrCode: !inline.isEmpty)) { $1 }
        return Composed(rendered: rendered, payload: .email(outgoing, mime: mime), traceDetail: .object(detail))
    }
}

extension MessageComposer {
    /// Whether the job's data asks for its letter attached to the e-mail (`"attach_letter": true`).
    static func asksForLetter(_ data: String) -> Bool {
        guard data.containsBytes("\"attach_letter\"") else { return false }
        return (try? JSONValue.parse(data))?["attach_letter"] == .bool(true)
    }
}

extension DispatchFailure {
    /// Any error from composing, as a permanent failure.
    public static func composing(_ error: any Error) -> DispatchFailure {
        error as? DispatchFailure ?? DispatchFailure(reason: .template, message: "\(error)")
    }
}

extension MessageComposer.Payload {
    /// The exact bytes handed to the provider, for the archive: the e-mail's MIME message
    /// as given to the SMTP server, the SMS's text as given to the gateway, the letter's PDF.
    public var archived: ArchivedMessage {
        switch self {
        case .email(let email, _): ArchivedMessage(mediaType: ArchivedMessage.email, bytes: email.bytes)
        case .sms(let sms): ArchivedMessage(mediaType: ArchivedMessage.sms, bytes: Array(sms.text.utf8))
        case .letter(let letter): ArchivedMessage(mediaType: ArchivedMessage.letter, bytes: letter.pdf)
        }
    }
}
