import Foundation
import RelanceCore

extension MessageContext {
    /// `jurisdiction` for every payer, and `late_payment` for business payers only
    /// (docs/TEMPLATES.md): the creditor's law, with its figures from `LatePaymentLaw`,
    /// the amounts in the message's format locale.
    static func addLatePaymentLaw(
        to context: inout [String: Any], payer: PayerProfile, creditor: Creditor, locale: Locale
    ) {
        guard let law = LatePaymentLaw.all[creditor.jurisdiction.uppercased()] else { return }
        context["jurisdiction"] = ["code": TemplateText(law.code), law.code: true] as [String: Any]
        guard payer.kind == .business else {
            context["late_payment"] = nil
            return
        }
        var late: [String: Any] = [law.code: true, "margin": TemplateText(String(law.marginPoints))]
        if let sum = law.fixedSum {
            late["indemnity"] = Money(amount: sum, currency: law.currency, locale: locale, wholeUnits: true)
        }
        if let total = indemnityTotal(law, invoices: context["invoices"] as? [Any] ?? []) {
            late["indemnity_total"] = Money(
                amount: total, currency: law.currency, locale: locale, wholeUnits: true)
        }
        context["late_payment"] = late
    }

    /// The compensation for each late invoice of the message (past its due date, with a
    /// balance left; an invoice without a due date counts), added up; nil without one, or
    /// when one cannot be told (a debt in another currency than the law's bands).
    static func indemnityTotal(_ law: LatePaymentLaw, invoices: [Any]) -> Decimal? {
        var total = Decimal(0)
        var counted = 0
        for case let invoice as [String: Any] in invoices {
            guard let debt = invoice["balance"] as? Money ?? invoice["amount"] as? Money else { return nil }
            guard debt.amount > 0, invoice["is_overdue"] as? Bool ?? true else { continue }
            guard let sum = law.compensation(forDebt: debt.amount, currency: debt.currency) else { return nil }
            total += sum
            counted += 1
        }
        return counted > 0 ? total : nil
    }
}
