import Foundation
import RelanceCore
import RelanceEmail
import RelanceTemplates

/// Turns a job and its payer into the message to send: validates, renders, encodes.
/// Every failure here is permanent (data, template, address): retrying cannot help.
public struct MessageComposer: Sendable {
    public let catalog: TemplateCatalog
    public let creditor: Creditor
    public let email: RelanceConfig.EmailSettings

    public init(catalog: TemplateCatalog, creditor: Creditor, email: RelanceConfig.EmailSettings) {
        self.catalog = catalog
        self.creditor = creditor
        self.email = email
    }

    public struct Composed: Sendable {
        public var rendered: RenderedMessage
        public var email: OutgoingEmail
        public var mime: String
    }

    /// Renders the message of `job` for `payer`, as it would be sent now.
    public func render(job: Job, payer: PayerProfile, today: Date = Date()) throws -> RenderedMessage {
        guard let channel = Channel(rawValue: job.channel) else {
            throw DispatchFailure(reason: "data", message: "unknown channel '\(job.channel)' (email, sms, letter)")
        }
        guard channel == .email else {
            throw DispatchFailure(
                reason: "channel",
                message: "no transport for channel '\(channel.rawValue)' in this version (only email)")
        }
        do {
            let context = try MessageContext.build(
                payer: payer, creditor: creditor, caseRef: job.caseRef, data: job.data, today: today)
            var parts: [TemplatePart] = [.emailSubject, .emailText]
            if (try? catalog.resolve(
                message: job.template, part: .emailHTML, locale: payer.locale, segment: payer.segment)) != nil
            {
                parts.append(.emailHTML)
            }
            return try catalog.render(message: job.template, parts: parts, payer: payer, context: context)
        } catch let error as TemplateError {
            throw DispatchFailure(reason: error.kind == .data ? "data" : "template", message: error.message)
        } catch {
            throw DispatchFailure(reason: "template", message: "\(error)")
        }
    }

    public func compose(job: Job, payer: PayerProfile, today: Date = Date()) throws -> Composed {
        guard let address = payer.email, !address.isEmpty else {
            throw DispatchFailure(reason: "address", message: "payer \(payer.ref) has no e-mail address")
        }
        let recipient: EmailAddress
        do { recipient = try EmailAddress(address) } catch {
            throw DispatchFailure(reason: "address", message: "payer \(payer.ref): \(error)")
        }
        let rendered = try render(job: job, payer: payer, today: today)
        var headers: [(String, String)] = [("X-Relance-Job", String(job.id))]
        if let caseRef = job.caseRef { headers.append(("X-Relance-Case", caseRef)) }
        // Outlook and Exchange: no out-of-office replies to an automatic message.
        headers.append(("X-Auto-Response-Suppress", "All"))
        let message = EmailMessage(
            from: Mailbox(name: email.fromName.isEmpty ? nil : email.fromName, address: email.from),
            to: [Mailbox(name: payer.name, address: recipient)],
            replyTo: email.replyTo.map { Mailbox(address: $0) },
            subject: rendered[.emailSubject] ?? "", text: rendered[.emailText] ?? "", html: rendered[.emailHTML],
            messageID: "relance.job-\(job.id).\(job.attempt)@\(email.messageIDDomain)", date: today, headers: headers)
        let mime = MIMEWriter.render(message)
        let outgoing = OutgoingEmail(
            jobID: job.id, attempt: job.attempt, envelopeFrom: email.from, recipients: [recipient],
            bytes: Array(mime.utf8))
        return Composed(rendered: rendered, email: outgoing, mime: mime)
    }
}

extension DispatchFailure {
    /// Any error from composing, as a permanent failure.
    public static func composing(_ error: any Error) -> DispatchFailure {
        error as? DispatchFailure ?? DispatchFailure(reason: "template", message: "\(error)")
    }
}
