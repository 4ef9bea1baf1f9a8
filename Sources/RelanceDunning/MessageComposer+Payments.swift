import Foundation
import RelanceCore
import RelanceEmail
import RelanceLetters
import RelanceQR
import RelanceTemplates

/// How a reminder helps the payer pay (docs/PAYMENTS.md): the pay link Relance builds
/// (`creditor.payment_url`) and the EPC QR code (letters, HTML e-mails).
extension MessageComposer {
    /// The Content-ID of the QR code's image in an e-mail.
    static let qrContentID = "epc-qr@relance"

    /// What the message asks the payer to pay, from its context.
    struct PaymentDue {
        var amount: Decimal
        var currency: String
        /// The creditor reference, when the message is about one invoice that has one.
        var reference: RFReference?
        var numbers: [String]
        /// The EPC QR code's payload, written once per message; nil when no code applies
        /// (not EUR, no IBAN, `creditor.qr_code` off).
        var epc: Result<String, EPCPaymentError>? = nil
    }

    /// What the message asks the payer to pay, with its EPC payload.
    func paymentDue(_ context: [String: Any]) -> PaymentDue? {
        guard var due = Self.dueAmount(context) else { return nil }
        if let payment = epcPayment(due) {
            do { due.epc = .success(try payment.payload()) } catch { due.epc = .failure(error) }
        }
        return due
    }

    static func dueAmount(_ context: [String: Any]) -> PaymentDue? {
        guard let total = context["total_due"] as? Money, total.amount > 0 else { return nil }
        let numbers = (context["invoices"] as? [Any] ?? []).compactMap {
            (($0 as? [String: Any])?["number"] as? TemplateText)?.value
        }
        // A reference names one invoice: never with the total of several.
        let reference =
            numbers.count <= 1
            ? (context["payment_reference"] as? TemplateText).flatMap { RFReference($0.value) } : nil
        return PaymentDue(amount: total.amount, currency: total.currency, reference: reference, numbers: numbers)
    }

    /// The EPC payment the QR code carries: only in EUR, with the creditor's IBAN, and
    /// `creditor.qr_code` on. The remittance is the creditor reference for one invoice, else
    /// the invoice numbers (as many whole numbers as fit in 140 characters).
    func epcPayment(_ due: PaymentDue) -> EPCPayment? {
        guard payments.qrCode, due.currency == "EUR", let iban = IBAN(creditor.iban),
            due.amount >= EPCPayment.minAmount, due.amount <= EPCPayment.maxAmount
        else { return nil }
        var remittance: EPCPayment.Remittance?
        if let reference = due.reference {
            remittance = .structured(reference)
        }
        var payment = EPCPayment(
            name: creditor.name, iban: iban, bic: creditor.bic.isEmpty ? nil : creditor.bic, amount: due.amount,
            remittance: remittance)
        guard remittance == nil, !due.numbers.isEmpty else { return payment }
        // As many whole invoice numbers as the field (140 characters) and the payload (331
        // bytes) hold; a number the EPC refuses (a control or private-use character) ends the list.
        var text = ""
        for number in due.numbers {
            let next = text.isEmpty ? number : text + " " + number
            var trial = payment
            trial.remittance = .unstructured(next)
            if next.unicodeScalars.count > EPCPayment.maxUnstructured || (try? trial.payload()) == nil { break }
            text = next
        }
        if !text.isEmpty { payment.remittance = .unstructured(text) }
        return payment
    }

    /// The QR code of the payment, or nil when there is none to show.
    func paymentCode(_ due: PaymentDue?) -> QRCode? {
        guard case .success(let payload)? = due?.epc else { return nil }
        // The code helps; it is not the message. One that cannot be made (the start-up check
        // makes that unlikely) leaves the message without it, and the trace says so.
        return try? QRCode.encode(Array(payload.utf8), level: .medium)
    }

    /// Adds what the templates show about paying: `payment_link` (unless the data has
    /// one), and `payment_qr` (`src`, `caption`) when a QR code goes with the message.
    @discardableResult
    func addPayment(to context: inout [String: Any], caseRef: String?, wording: Wording) -> PaymentDue? {
        guard let due = paymentDue(context) else { return nil }
        // Built only for one registered invoice: the token vouches for a case and the amount
        // due on it, which Relance knows only for its own invoices (a job enqueued with its
        // own data could name any case and amount), and a message about several invoices
        // has no one case to pay.
        if context["payment_link"] == nil || context["payment_link"] is NSNull, let link = payments.payLink,
            let caseRef, !caseRef.isEmpty, due.numbers.count == 1, context[Invoice.dataKey] is TemplateText
        {
            context["payment_link"] = TemplateText(
                link.url(caseRef: caseRef, amount: due.amount, currency: due.currency))
        }
        if case .success? = due.epc {
            context["payment_qr"] =
                [
                    "src": TemplateText("cid:\(Self.qrContentID)"),
                    "caption": TemplateText(wording.qrCaption),
                ] as [String: Any]
        }
        return due
    }

    /// The HTML's reference to the image, as bytes (a Foundation `contains` on the HTML
    /// cost more than the whole QR code).
    static let qrSource = "cid:" + qrContentID

    /// The image an HTML e-mail shows by its Content-ID, when its HTML refers to it.
    func inlineQRCode(_ due: PaymentDue?, html: String?) -> [InlineImage] {
        guard let due, let html, html.containsBytes(Self.qrSource), let code = paymentCode(due) else { return [] }
        return [
            InlineImage(
                contentID: Self.qrContentID, contentType: "image/png", filename: "payment-qr.png",
                data: PNGImage.encode(code, scale: 4))
        ]
    }

    /// What the trace records about paying: the reference given, and whether a QR code
    /// went with the message (its payload is evidence enough by its hash).
    func paymentProof(_ due: PaymentDue?, qrCode: Bool) -> [String: JSONValue] {
        guard let due else { return [:] }
        var proof: [String: JSONValue] = [:]
        if let reference = due.reference { proof["payment_reference"] = .string(reference.text) }
        if qrCode {
            proof["payment_qr"] = .bool(true)
        } else if case .failure(let error)? = due.epc {
            // Due in EUR with an IBAN, yet no code: why, for whoever reads the trace.
            proof["payment_qr_skipped"] = .string("\(error)")
        }
        return proof
    }

    /// The QR code as the letter draws it.
    static func letterCode(_ code: QRCode?, caption: String) -> PaymentCode? {
        guard let code else { return nil }
        var dark: [Bool] = []
        dark.reserveCapacity(code.size * code.size)
        for y in 0..<code.size {
            for x in 0..<code.size { dark.append(code.isDark(x: x, y: y)) }
        }
        return PaymentCode(size: code.size, dark: dark, caption: caption)
    }
}
