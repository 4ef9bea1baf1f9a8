import Foundation
import RelanceCore
import RelanceEmail
import RelanceLetters
import RelanceTemplates

/// Letters: the address checked per NF Z10-011, the `letter` part rendered to Pango
/// markup (escaped), laid out with the invoice table into a PDF.
extension MessageComposer {
    /// Whether the payer has a usable contact point for `channel` (valid e-mail address,
    /// readable phone number, postal address that follows NF Z10-011).
    public func hasUsableContact(_ channel: Channel, _ payer: PayerProfile) -> Bool {
        switch channel {
        case .email: (try? EmailAddress(payer.email ?? "")) != nil
        case .sms: (try? phoneNumber(of: payer)) != nil
        case .letter: (try? postalAddress(of: payer)) != nil
        }
    }

    /// Whether `message` has the part `channel` sends, for this payer (locale, segment).
    public func hasTemplate(_ message: String, for channel: Channel, _ payer: PayerProfile) -> Bool {
        (try? catalog.resolve(message: message, part: channel.mainPart, locale: payer.locale, segment: payer.segment))
            != nil
    }

    /// The payer's address as it will be printed: the name first, then the postal lines,
    /// normalised; an unusable address fails with the rule it breaks.
    public func postalAddress(of payer: PayerProfile) throws -> PostalAddress {
        guard var lines = payer.postalAddress, !lines.isEmpty else {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref) has no postal address")
        }
        // One line: a line break or control character in the name (a row written by SQL)
        // must not add a line to the address in the envelope window.
        func oneLine(_ text: String) -> String {
            text.split(whereSeparator: { $0.isWhitespace || $0.unicodeScalars.contains(where: \.isControl) })
                .joined(separator: " ")
        }
        let name = oneLine(payer.name)
        if lines.first.map(oneLine)?.uppercased() != name.uppercased() {
            lines.insert(name, at: 0)
        }
        do {
            return try PostalAddress.normalize(
                lines, country: PhoneNumber.country(fromLocale: payer.locale) ?? letters.senderCountry,
                senderCountry: letters.senderCountry)
        } catch let error as AddressError {
            throw DispatchFailure(
                reason: .address, message: "payer \(payer.ref): postal address: \(error.message) [\(error.rule)]")
        }
    }

    /// The payer's address as it would go into the envelope window: normalised, printable
    /// by the fonts, and fitting the window of `letters.envelope` (enqueue refuses what
    /// dispatch would).
    public func windowAddress(of payer: PayerProfile) throws -> PostalAddress {
        let address = try postalAddress(of: payer)
        do { try letterRenderer.checkAddress(address.lines, envelope: envelope) } catch {
            throw DispatchFailure(reason: .address, message: "payer \(payer.ref): postal address: \(error)")
        }
        return address
    }

    /// Renders the letter of `job` for `payer` as a PDF.
    public func letter(job: Job, payer: PayerProfile, today: Date = Date()) throws -> (
        rendered: RenderedMessage, letter: OutgoingLetter
    ) {
        let address = try postalAddress(of: payer)
        let context: [String: Any]
        let rendered: RenderedMessage
        var due: PaymentDue?
        let language = catalog.language(message: job.template, parts: [.letter], payer: payer)
        let wording = language.wording
        do {
            var built = try MessageContext.build(
                payer: payer, creditor: creditor, caseRef: job.caseRef, data: job.data, today: today,
                required: catalog.requiredData[job.template] ?? [], message: job.template, deadlineDays: deadlineDays,
                language: language)
            due = addPayment(to: &built, caseRef: job.caseRef, wording: wording)
            context = built
            // The subject goes with the body: a strategic payer without a strategic letter
            // gets the standard letter, and must not get the strategic subject over it.
            var textPayer = payer
            if let body = try? catalog.resolve(
                message: job.template, part: .letter, locale: payer.locale, segment: payer.segment),
                body.variant == nil
            {
                textPayer.segment = KnownSegments.standard
            }
            rendered = try catalog.render(
                message: job.template, parts: [.letter, .emailSubject], payer: textPayer, context: context,
                creditor: creditor)
        } catch let error as TemplateError {
            throw DispatchFailure(reason: error.kind == .data ? .data : .template, message: error.message)
        }
        let code = paymentCode(due)
        let todayText = (context["today"] as? LocalDate)?.renderText ?? ""
        var references: [(label: String, value: String)] = [(wording.yourReference, payer.ref)]
        if let caseRef = job.caseRef { references.append((wording.ourReference, caseRef)) }
        let document = LetterDocument(
            title: rendered[.emailSubject] ?? job.template, author: creditor.name, createdAt: today,
            senderLines: senderLines, logoPNG: letters.logo, recipientLines: address.lines,
            placeAndDate: wording.placeAndDate(place: letters.place, date: todayText),
            references: references, subject: wording.subjectLine(rendered[.emailSubject] ?? ""),
            bodyMarkup: rendered[.letter] ?? "", table: Self.invoiceTable(context, wording: wording),
            paymentCode: Self.letterCode(code, caption: wording.qrCaption))
        let output: RenderedLetter
        do {
            output = try letterRenderer.render(document, envelope: envelope)
        } catch let error as LetterError {
            throw DispatchFailure(reason: .letter, message: "\(job.template)/letter for payer \(payer.ref): \(error)")
        }
        var letter = OutgoingLetter(
            jobID: job.id, attempt: job.attempt, payerRef: payer.ref, caseRef: job.caseRef, address: address.lines,
            envelope: envelope.name, pdf: output.pdf, pages: output.pages, sha256: output.sha256)
        letter.paymentProof = paymentProof(due, qrCode: code != nil)
        return (rendered, letter)
    }

    var envelope: EnvelopePreset { letters.envelope }

    /// The sender block: name, address, registration, contact.
    var senderLines: [String] {
        var lines = [creditor.name].filter { !$0.isEmpty } + creditor.address
        if !creditor.registration.isEmpty { lines.append(creditor.registration) }
        let contact = [creditor.phone, creditor.email].filter { !$0.isEmpty }.joined(separator: " · ")
        if !contact.isEmpty { lines.append(contact) }
        return lines
    }

    /// The invoices of the job: number, issue date, due date, amount, paid, balance, and the total.
    static func invoiceTable(_ context: [String: Any], wording: Wording) -> InvoiceTable? {
        guard let invoices = context["invoices"] as? [Any], !invoices.isEmpty else { return nil }
        let headers = wording.tableHeaders
        var rows: [[String]] = []
        var totals: [String: (Decimal, Decimal, Decimal, Money)] = [:]
        for case let invoice as [String: Any] in invoices {
            let amount = invoice["amount"] as? Money
            let balance = invoice["balance"] as? Money ?? amount
            var paidText = ""
            if let amount, let balance, amount.currency == balance.currency {
                paidText =
                    Money(amount: amount.amount - balance.amount, currency: amount.currency, locale: amount.locale)
                    .renderText
                let key = amount.currency
                let sum = totals[key] ?? (0, 0, 0, amount)
                totals[key] = (
                    sum.0 + amount.amount, sum.1 + amount.amount - balance.amount, sum.2 + balance.amount, amount
                )
            }
            rows.append([
                (invoice["number"] as? TemplateText)?.value ?? "",
                (invoice["issue_date"] as? LocalDate)?.renderText ?? "",
                (invoice["due_date"] as? LocalDate)?.renderText ?? "", amount?.renderText ?? "", paidText,
                balance?.renderText ?? "",
            ])
        }
        var total: [String] = []
        if totals.count == 1, let (_, sums) = totals.first {
            let like = sums.3
            total = [
                wording.tableTotal, "", "",
                Money(amount: sums.0, currency: like.currency, locale: like.locale).renderText,
                Money(amount: sums.1, currency: like.currency, locale: like.locale).renderText,
                Money(amount: sums.2, currency: like.currency, locale: like.locale).renderText,
            ]
        }
        return InvoiceTable(headers: headers, rows: rows, total: total, rightAligned: [3, 4, 5])
    }
}

extension Unicode.Scalar {
    /// C0 and C1 control characters (general category Cc).
    fileprivate var isControl: Bool { properties.generalCategory == .control }
}
