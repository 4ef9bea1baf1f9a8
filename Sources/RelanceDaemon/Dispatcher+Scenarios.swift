import Foundation
import Logging
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceStore
import RelanceTemplates
import ServiceLifecycle
import Synchronization

/// The scenario policies of the dispatcher, in one place: a step never goes to a
/// suppressed contact point (`redirectIfSuppressed`), invoices of one payer due together
/// go out in one message (`gatherInvoices`), and a step that failed on an unusable contact
/// point moves to the payer's next channel (`fallBack`). Steps 2 and 4 of
/// `Dispatcher.process`; `fallBack` follows a permanent failure.
extension Dispatcher {
    /// Step 2: a scenario step never goes to a contact point that bounced or proved invalid
    /// (suppressed until the payer's profile changes it): it moves to the next channel.
    /// True when the job was settled so.
    func redirectIfSuppressed(_ job: Job, payer: PayerProfile, owner: String) async throws -> Bool {
        guard Invoice.isAboutInvoice(data: job.data), let channel = Channel(rawValue: job.channel),
            try await store.suppressedChannels(payerRef: payer.ref).contains(channel)
        else { return false }
        let failure = DispatchFailure(
            reason: .suppressed,
            message: "the payer's \(channel.rawValue) contact point is suppressed (it bounced or proved invalid)")
        try await fail(job, payer: payer, failure, owner: owner)
        return true
    }

    /// Step 4: a job about a registered invoice renders from the invoice as it is now (a
    /// partial payment shows in the next reminder), and one message per payer goes out,
    /// not ten: the same message due the same day for other invoices of the payer is merged
    /// into it, listing them all. Returns the merged cases (empty when none), or nil when
    /// the job failed: its invoice_ref names no registered invoice and its own data lacks
    /// what the message needs (enqueue let it through on the strength of invoice_ref).
    func gatherInvoices(_ job: inout Job, owner: String) async throws -> [String]? {
        guard Invoice.isAboutInvoice(data: job.data) else { return [] }
        let invoiceFields = (try? JSONValue.parse(job.data))?.objectValue
        if var fields = invoiceFields, case .string(let ref)? = fields[Invoice.dataKey],
            let invoice = try await store.invoice(ref: ref)
        {
            fields["invoices"] = nil
            fields["total_due"] = nil
            var invoices = [invoice]
            for other in try await store.mergeSiblings(of: job) {
                if let sibling = try await store.invoice(ref: other) { invoices.append(sibling) }
            }
            job.data = Invoice.templateData(invoices, extra: fields).jsonText
            return invoices.count > 1 ? invoices.map(\.ref) : []
        }
        let catalog = composer.withLock { $0 }.catalog
        let missing = MessageContext.missingFields(
            catalog.requiredData[job.template] ?? [], of: job.template,
            in: invoiceFields.map(JSONValue.object) ?? [:], pointer: "/data", exemptingInvoiceRef: false)
        guard missing.isEmpty else {
            let failure = DispatchFailure(
                reason: .data,
                message: "its invoice_ref names no registered invoice, and "
                    + missing.map(\.description).joined(separator: "; "))
            _ = try await store.complete(job, owner: owner, outcome: .permanent(failure), retry: retry, random: 0)
            return nil
        }
        return []
    }

    /// A scenario step that failed on an unusable contact point (invalid address, hard
    /// bounce) moves to the payer's next usable channel, and that contact point is
    /// suppressed until the payer's profile changes it. The failed job's trace shows the hop.
    func fallBack(_ job: Job, payer: PayerProfile, failure: DispatchFailure) async throws {
        guard failure.isUnusableContact, Invoice.isAboutInvoice(data: job.data), let key = job.idempotencyKey,
            let caseRef = job.caseRef, let stepKey = StepKey(key, caseRef: caseRef),
            let failed = Channel(rawValue: job.channel)
        else { return }
        let contact = ChannelFallback.contact(failed, of: payer)
        let suppressed = try await store.suppressedChannels(payerRef: payer.ref).union([failed])
        let newJob = ChannelFallback.nextJob(
            after: job, step: stepKey, payer: payer, suppressed: suppressed, composer: currentComposer)
        let next = newJob?.channel
        let id = try await store.fallBack(from: job, contact: contact, reason: failure.message, to: newJob)
        logger.notice(
            "contact point unusable; step moved to another channel",
            metadata: [
                "job": "\(job.id)", "payer": "\(payer.ref)", "suppressed": "\(failed.rawValue)",
                "to": "\(next?.rawValue ?? "none")", "new_job": "\(id.map(String.init) ?? "-")",
            ])
        if id != nil { wake() }
    }
}
