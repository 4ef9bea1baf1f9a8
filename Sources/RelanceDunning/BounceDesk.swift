import Foundation
import RelanceCore
import RelanceEmail
import RelanceStore

/// Reads what comes back to the bounce address into the jobs it concerns (docs/EMAIL.md):
/// a bounce makes the job `undelivered`; when it says the payer's address is bad (5.1.x)
/// it also suppresses the address and moves an open case's step to the next channel; a
/// delay notice, a complaint or an automatic reply is a trace event (a complaint also
/// suppresses the address). A message that names no job of this
/// installation (no bounce address whose MAC verifies) changes nothing.
///
/// Used by `relance bounce` (one message on stdin) and by the daemon's LMTP listener.
/// Store errors are thrown: the caller tells the MTA to try again later.
public struct BounceDesk: Sendable {
    public let store: any JobStore
    public let composer: MessageComposer
    public let addresses: VERPAddress

    public init(store: any JobStore, composer: MessageComposer, addresses: VERPAddress) {
        self.store = store
        self.composer = composer
        self.addresses = addresses
    }

    /// What was done with one message.
    public struct Handling: Sendable, Equatable {
        /// `failed`, `delayed`, `complaint`, `auto_reply`, `other` (read, not a report),
        /// or `unmatched` (no job of this installation).
        public var kind: String
        public var jobID: Int64?
        public var attempt: Int?
        /// In words, for the log and `relance bounce`'s output.
        public var summary: String
        /// The job of the next channel, when the step fell back.
        public var newJobID: Int64?
    }

    /// `envelopeRecipients`: where the MTA delivered this message (LMTP `RCPT TO`, the
    /// pipe transport's `${original_recipient}`); the message's own `To:`,
    /// `Delivered-To:`… headers are tried after them.
    ///
    /// `useHeaders: false` looks at the envelope recipients only (an LMTP transaction
    /// whose other recipients name jobs: the headers would name those again).
    public func handle(_ bytes: [UInt8], envelopeRecipients: [String], useHeaders: Bool = true) async throws
        -> Handling
    {
        try await handle(BounceParser.parse(bytes), envelopeRecipients: envelopeRecipients, useHeaders: useHeaders)
    }

    /// The same, for a message already parsed (the LMTP listener parses once for all its
    /// recipients).
    public func handle(_ report: BounceReport, envelopeRecipients: [String], useHeaders: Bool = true) async throws
        -> Handling
    {
        let candidates = envelopeRecipients + (useHeaders ? report.deliveredTo : [])
        guard let (jobID, attempt) = candidates.lazy.compactMap({ addresses.decode($0) }).first else {
            return Handling(
                kind: "unmatched",
                summary:
                    "names no job: no bounce address of this installation with a valid MAC among \(candidates.count) recipient(s) (\(report.kind.rawValue): \(report.reason))"
            )
        }
        guard let job = try await store.job(id: jobID), job.channel == Channel.email.rawValue else {
            return Handling(
                kind: "unmatched", jobID: jobID, attempt: attempt,
                summary: "job \(jobID) is not an e-mail job of this database (pruned, or another installation's)")
        }
        let payer = try await store.payer(ref: job.payerRef)
        let payerAddress = payer?.email.map(Self.comparable)
        // The recipient that concerns this job: the payer's address when the report lists
        // it (a report about several recipients may say the payer's was delivered), else
        // the first that failed (a forward, or an address changed since).
        var kind = report.kind
        var recipient = report.recipients.first
        if kind == .failed || kind == .delayed {
            if let own = report.recipients.first(where: { Self.comparable($0.address) == payerAddress }) {
                recipient = own
                switch Self.action(own) {
                case "failed": kind = .failed
                case "delayed": kind = .delayed
                default: kind = .other
                }
            } else {
                recipient = report.recipients.first { Self.action($0) == "failed" } ?? report.recipients.first
            }
        }
        var detail: [String: JSONValue] = ["classified": .string(report.reason)]
        if let recipient {
            detail["recipient"] = .string(recipient.address)
            if let action = recipient.action { detail["action"] = .string(action) }
            if let status = recipient.status { detail["status"] = .string(status) }
            if let diagnostic = recipient.diagnostic { detail["diagnostic"] = .string(diagnostic) }
            if let mta = recipient.remoteMTA { detail["remote_mta"] = .string(mta) }
        }
        if let id = report.originalMessageID { detail["original_message_id"] = .string(id) }
        func handled(_ summary: String, newJob: Int64? = nil) -> Handling {
            Handling(kind: kind.rawValue, jobID: jobID, attempt: attempt, summary: summary, newJobID: newJob)
        }
        switch kind {
        case .other:
            if report.kind != .other, let recipient {
                return handled(
                    "the report says the payer's address was \(Self.action(recipient) ?? "not failed"); nothing recorded"
                )
            }
            return handled("not a delivery report, complaint or automatic reply (\(report.reason)); nothing recorded")
        case .autoReply:
            guard
                try await store.notice(
                    jobID: jobID, attempt: attempt, kind: .autoReply, detail: detail, suppression: nil)
            else { return handled("job \(jobID) has no attempt \(attempt); nothing recorded") }
            return handled("automatic reply recorded on job \(jobID)")
        case .delayed:
            guard
                try await store.notice(jobID: jobID, attempt: attempt, kind: .delayed, detail: detail, suppression: nil)
            else { return handled("job \(jobID) has no attempt \(attempt); nothing recorded") }
            return handled("delay recorded on job \(jobID) (\(recipient?.status ?? "no status")); the job is unchanged")
        case .complaint:
            if let type = report.feedbackType { detail["feedback_type"] = .string(type) }
            // Feedback loops often redact the recipient: the returned message's To: then
            // says which address complained.
            let complained = recipient?.address ?? report.originalHeaders["to"]
            let suppression = Self.suppression(
                payer, address: complained, reason: "complaint \(report.feedbackType ?? "abuse")")
            guard
                try await store.notice(
                    jobID: jobID, attempt: attempt, kind: .complaint, detail: detail, suppression: suppression)
            else { return handled("job \(jobID) has no attempt \(attempt); nothing recorded") }
            return handled(
                "complaint recorded on job \(jobID)"
                    + (suppression == nil
                        ? "; it names another address than the payer's: not suppressed" : "; address suppressed"))
        case .failed:
            return try await bounced(
                job, payer: payer, attempt: attempt, recipient: recipient, detail: detail,
                handled: { handled($0, newJob: $1) })
        }
    }

    /// An address as reports and profiles may both write it: lower case, the domain as
    /// A-labels (the envelope carries `xn--caf-dma.fr`; the profile keeps `café.fr`).
    static func comparable(_ address: String) -> String {
        var text = Substring(address.trimmingCharacters(in: .whitespaces))
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            text = text[text.index(after: open)..<close]
        }
        guard let at = text.lastIndex(of: "@") else { return text.lowercased() }
        let domain = String(text[text.index(after: at)...])
        return text[..<at].lowercased() + "@" + (Punycode.asciiDomain(domain) ?? domain).lowercased()
    }

    /// A recipient's action, or the one its status class means.
    static func action(_ recipient: BounceReport.Recipient) -> String? {
        if let action = recipient.action { return action }
        if recipient.status?.hasPrefix("5.") == true { return "failed" }
        if recipient.status?.hasPrefix("4.") == true { return "delayed" }
        return nil
    }

    /// A hard bounce, as the dispatcher reads a synchronous refusal
    /// (`DispatchFailure.isUnusableContact`): the address itself is bad (RFC 3463 `5.1.x`).
    /// A policy refusal (`5.7.1`, a blocklist), a full mailbox or an expired queue makes
    /// the job undelivered without blaming the address: no suppression, no letter.
    static func isHardBounce(_ recipient: BounceReport.Recipient?) -> Bool {
        recipient?.status?.hasPrefix("5.1.") == true
    }

    private func bounced(
        _ job: Job, payer: PayerProfile?, attempt: Int, recipient: BounceReport.Recipient?,
        detail: [String: JSONValue], handled: (String, Int64?) -> Handling
    ) async throws -> Handling {
        let status = recipient?.status ?? "no status"
        let reason = "bounce \(status)" + (recipient?.diagnostic.map { ": " + String($0.prefix(200)) } ?? "")
        let ownAddress = recipient.map { Self.comparable($0.address) == payer?.email.map(Self.comparable) } ?? true
        let hard = Self.isHardBounce(recipient)
        let suppression =
            hard && ownAddress ? Self.suppression(payer, address: recipient?.address, reason: reason) : nil
        let outcome = try await store.report(
            DeliveryReport(
                jobID: job.id, attempt: attempt, delivered: false, detail: detail, suppression: suppression))
        var summary: String
        switch outcome {
        case .applied(.undelivered):
            summary = "job \(job.id) undelivered (\(status))"
        case .duplicate(.undelivered):
            summary = "job \(job.id) was already undelivered"
        case .applied(let state), .duplicate(let state):
            return handled("job \(job.id) is \(state.rawValue); the bounce is kept in its trace", nil)
        case .unknownJob:
            return handled("job \(job.id) no longer exists", nil)
        case .rejected(let why):
            return handled("not applied: \(why)", nil)
        }
        guard ownAddress, let payer else {
            return handled(
                summary
                    + "; the bounce names \(recipient?.address ?? "another address"), not the payer's address (a forward, or the address changed since): not suppressed, no fallback",
                nil)
        }
        guard hard, suppression != nil else {
            return handled(
                summary + "; \(status) does not say the address is bad: not suppressed, no fallback", nil)
        }
        if case .applied = outcome { summary += "; address suppressed" }
        // The scenario's step moves to the next channel, as after a synchronous 5.1.x
        // refusal, while the case is still open (not paid, disputed or cancelled since).
        guard Invoice.isAboutInvoice(data: job.data), let key = job.idempotencyKey, let caseRef = job.caseRef,
            let step = StepKey(key, caseRef: caseRef)
        else { return handled(summary, nil) }
        guard try await caseIsOpen(caseRef) else { return handled(summary + "; the case is closed: no fallback", nil) }
        if try await store.events(jobID: job.id).contains(where: { $0.kind == .rescued }) {
            if case .duplicate = outcome { return handled(summary + "; nothing changed", nil) }
            return handled(summary + "; the step had already moved to another channel", nil)
        }
        let suppressed = try await store.suppressedChannels(payerRef: payer.ref).union([.email])
        let next = ChannelFallback.nextJob(
            after: job, step: step, payer: payer, suppressed: suppressed, composer: composer)
        let newID = try await store.fallBack(
            from: job, contact: ChannelFallback.contact(.email, of: payer), reason: reason, to: next)
        if let next, let newID {
            return handled(summary + "; step moved to \(next.channel.rawValue), job \(newID)", newID)
        }
        return handled(summary + "; no other usable channel", nil)
    }

    /// The suppression of the payer's e-mail address, when it is still the one that
    /// bounced or complained (a payer who changed address since keeps the new one).
    static func suppression(_ payer: PayerProfile?, address: String?, reason: String) -> Suppression? {
        guard let payer, let current = payer.email, !current.isEmpty else { return nil }
        if let address, comparable(address) != comparable(current) { return nil }
        return Suppression(payerRef: payer.ref, channel: Channel.email.rawValue, contact: current, reason: reason)
    }

    /// Open: the invoice is not paid, and no operator or payment cancelled the case.
    func caseIsOpen(_ caseRef: String) async throws -> Bool {
        guard let invoice = try await store.invoice(ref: caseRef), invoice.status == .open else { return false }
        let closing = Set(CancelReason.operatorChoices.map(\.stored))
        var after: Int64 = 0
        while true {
            let events = try await store.events(after: after, filter: EventFilter(caseRef: caseRef), limit: 500)
            if events.contains(where: {
                $0.kind == .cancelled && closing.contains($0.detail["reason"]?.stringValue ?? "")
            }) {
                return false
            }
            guard let last = events.last, events.count == 500 else { return true }
            after = last.id
        }
    }
}
