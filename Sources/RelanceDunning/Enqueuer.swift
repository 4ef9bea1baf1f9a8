import Foundation
import RelanceCore
import RelanceStore
import RelanceTemplates

/// Checks requests against the store and templates, then inserts them all or none.
public struct Enqueuer: Sendable {
    let store: any JobStore
    /// The templates and settings to check against (the daemon builds an Enqueuer per
    /// request with those in force: they change on SIGHUP).
    public let composer: MessageComposer
    /// `retry.max_age`: a job due longer ago than this would be `dead` at once.
    let maxAge: Double?

    public init(store: any JobStore, composer: MessageComposer, maxAge: Double? = nil) {
        self.store = store
        self.composer = composer
        self.maxAge = maxAge
    }

    /// Validates every request (template known, payer usable, data follows the
    /// conventions), and inserts nothing unless all pass. The checks that need the
    /// stored payer run in the insert's own transaction.
    public func enqueue(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [EnqueueResult] {
        // The data conventions need no payer: checked here, outside the writer.
        let composer = self.composer
        let ownErrors = dataErrors(requests, required: composer.catalog.requiredData)
        let inline = Self.inlinePayers(requests)
        return try await store.enqueue(requests.map(\.request.job), payers: Array(inline.values)) { storedPayer in
            Self.errors(requests, inline: inline, dataErrors: ownErrors, composer: composer, storedPayer: storedPayer)
        }
    }

    /// Payers given inline with the jobs, by ref (the same payer may come with each of its
    /// jobs; two different profiles for one ref are refused by `conflictingPayers`).
    static func inlinePayers(_ requests: [(pointer: String, request: EnqueueRequest)]) -> [String: PayerProfile] {
        var payers: [String: PayerProfile] = [:]
        for (_, request) in requests { if let p = request.payer, payers[p.ref] == nil { payers[p.ref] = p } }
        return payers
    }

    /// A payer's segment is one the templates or scenarios know, and its postal address
    /// one a letter can carry.
    public func payerErrors(_ payer: PayerProfile) -> [FieldError] {
        Self.payerErrors(payer, composer: composer, pointer: "")
    }

    /// A payer's postal address is checked where it is written, as dispatch would print
    /// it, when the payer gets letters: NF Z10-011 at home, the destination's order
    /// abroad, the envelope's window and the fonts. (For a payer without letters the
    /// address is informational; a letter enqueued for it is checked then.)
    static func payerErrors(
        _ payer: PayerProfile, composer: MessageComposer, pointer: String, checkingAddress: Bool = true
    ) -> [FieldError] {
        var errors: [FieldError] = []
        if let problem = composer.knownSegments.problem(payer.segment) {
            errors.append(FieldError("\(pointer)/segment", problem))
        }
        if checkingAddress { errors += addressErrors(payer, composer: composer, pointer: pointer) }
        return errors
    }

    static func addressErrors(_ payer: PayerProfile, composer: MessageComposer, pointer: String) -> [FieldError] {
        guard payer.channels.contains(.letter), let lines = payer.postalAddress, !lines.isEmpty else { return [] }
        do { _ = try composer.windowAddress(of: payer) } catch let failure as DispatchFailure {
            return [FieldError("\(pointer)/postal_address", failure.message)]
        } catch {
            return [FieldError("\(pointer)/postal_address", "\(error)")]
        }
        return []
    }

    /// Two inline payers with the same ref and different fields in one batch: which one
    /// should win? Neither silently: the later one is refused, naming the earlier.
    static func conflictingPayers(_ requests: [(pointer: String, request: EnqueueRequest)]) -> [FieldError] {
        var first: [String: (pointer: String, payer: PayerProfile)] = [:]
        var errors: [FieldError] = []
        for (pointer, request) in requests {
            guard let payer = request.payer else { continue }
            if let earlier = first[payer.ref] {
                if earlier.payer != payer {
                    errors.append(
                        FieldError(
                            "\(pointer)/payer",
                            "differs from the payer '\(payer.ref)' given at \(earlier.pointer.isEmpty ? "/" : earlier.pointer)/payer in the same batch"
                        ))
                }
            } else {
                first[payer.ref] = (pointer, payer)
            }
        }
        return errors
    }

    /// The checks on each request's own fields: data conventions, required data, run_at.
    func dataErrors(
        _ requests: [(pointer: String, request: EnqueueRequest)], required: [String: [String]]
    ) -> [[FieldError]] {
        let now = Date()
        return requests.map {
            let pointer = "\($0.pointer)/data"
            let template = $0.request.job.template
            var errors =
                MessageContext.check(data: $0.request.data, pointer: pointer)
                + MessageContext.missingFields(
                    required[template] ?? [], of: template, in: $0.request.data, pointer: pointer)
            // The sweeper counts a job's age from run_at: one due longer ago than the
            // maximum age would go `dead` without a try. Not for a job with an
            // idempotency key: the replay of an accepted request must still answer with
            // the existing job.
            if let maxAge, $0.request.job.idempotencyKey == nil, let runAt = $0.request.job.runAt,
                let date = Timestamp.date(from: runAt), now.timeIntervalSince(date) > maxAge
            {
                errors.append(
                    FieldError(
                        "\($0.pointer)/run_at",
                        "\(runAt) is more than retry.max_age (\(Int(maxAge)) s) ago: the job would be dead at once"))
            }
            return errors
        }
    }

    /// The same checks as `enqueue`, without inserting (so that one answer can list
    /// every bad field when some requests did not even parse).
    public func validate(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [FieldError] {
        let inline = Self.inlinePayers(requests)
        // An unusable payer row is a field error here too, as in `enqueue` (it was a 500).
        var stored: [String: Result<PayerProfile?, any Error>] = [:]
        for (_, request) in requests where inline[request.job.payerRef] == nil {
            let ref = request.job.payerRef
            guard stored[ref] == nil else { continue }
            do {
                stored[ref] = .success(try await store.payer(ref: ref))
            } catch let unusable as PayerUnusable {
                stored[ref] = .failure(unusable)
            }
        }
        return Self.errors(
            requests, inline: inline,
            dataErrors: dataErrors(requests, required: composer.catalog.requiredData),
            composer: composer,
            storedPayer: { ref in try stored[ref]?.get() ?? nil })
    }

    /// Every request's errors in order: its payer's checks (an inline payer first, else the
    /// stored one, looked up once per ref), then its data's.
    static func errors(
        _ requests: [(pointer: String, request: EnqueueRequest)], inline: [String: PayerProfile],
        dataErrors: [[FieldError]], composer: MessageComposer, storedPayer: (String) throws -> PayerProfile?
    ) -> [FieldError] {
        var errors = conflictingPayers(requests)
        var checks = JobChecks(composer: composer)
        var stored: [String: PayerProfile?] = [:]
        var inlineChecked: Set<String> = []
        for (index, (pointer, request)) in requests.enumerated() {
            defer { errors += dataErrors[index] }
            let ref = request.job.payerRef
            var payer = inline[ref]
            // An inline payer is stored with the jobs: its address is checked as an upsert's
            // would be, once (a letter job checks it below anyway).
            if let given = payer, request.job.channel != .letter, inlineChecked.insert(ref).inserted {
                errors += addressErrors(given, composer: composer, pointer: "\(pointer)/payer")
            }
            if payer == nil {
                if stored[ref] == nil {
                    do { stored[ref] = .some(try storedPayer(ref)) } catch {
                        errors.append(FieldError("\(pointer)/payer_ref", "payer '\(ref)' is unusable: \(error)"))
                        continue
                    }
                }
                payer = stored[ref] ?? nil
            }
            errors += checks.errors(request.job, payer: payer, pointer: pointer)
            if let payer { errors += deadlineErrors(request, payer: payer, pointer: pointer, composer: composer) }
        }
        return errors
    }

    /// A stated payment deadline leaves the payer `templates.deadline_days` from the day
    /// the message would be dated, in the payer's time zone: today, or the day of run_at.
    /// Dispatch checks it again against the day it actually sends.
    static func deadlineErrors(
        _ request: EnqueueRequest, payer: PayerProfile, pointer: String, composer: MessageComposer
    ) -> [FieldError] {
        guard case .object(let fields) = request.data, let value = fields["payment_deadline"] else { return [] }
        var sent = Date()
        if let runAt = request.job.runAt, let date = Timestamp.date(from: runAt), date > sent { sent = date }
        let zone = TimeZone(identifier: payer.timezone) ?? TimeZone(identifier: "UTC")!
        let deadline = PaymentDeadline(days: composer.deadlineDays)
        guard let problem = deadline.problem(value, today: Timestamp.isoDate(of: sent, in: zone)) else { return [] }
        return [FieldError("\(pointer)/data/payment_deadline", problem)]
    }

    /// The payer exists and the job's own checks pass for it.
    static func check(_ job: NewJob, payer: PayerProfile?, pointer: String, composer: MessageComposer) -> [FieldError] {
        guard let payer else {
            return [
                FieldError(
                    "\(pointer)/payer_ref",
                    "payer '\(job.payerRef)' does not exist (create it with `relance payer upsert` or give a `payer` object)"
                )
            ]
        }
        return check(job, payer: payer, pointer: pointer, composer: composer)
    }

    /// What rendering at dispatch time would refuse, without rendering: the template
    /// has the channel's parts for this payer, the address is usable, the data follows
    /// the conventions. Templates themselves were checked when the catalog loaded.
    static func check(_ job: NewJob, payer: PayerProfile, pointer: String, composer: MessageComposer) -> [FieldError] {
        let catalog = composer.catalog
        guard catalog.hasMessage(job.template) else {
            return [
                FieldError(
                    "\(pointer)/template",
                    "unknown template '\(job.template)' (known: \(catalog.messages.joined(separator: ", ")))")
            ]
        }
        // The address is checked by a letter's own check below.
        var errors = payerErrors(payer, composer: composer, pointer: "\(pointer)/payer", checkingAddress: false)
        switch job.channel {
        case .email:
            for part in Channel.email.requiredParts {
                do {
                    _ = try catalog.resolve(
                        message: job.template, part: part, locale: payer.locale, segment: payer.segment)
                } catch {
                    errors.append(FieldError("\(pointer)/template", "\(error)"))
                }
            }
            let payerPointer = "\(pointer)/payer"
            if let address = payer.email, !address.isEmpty {
                do { _ = try EmailAddress(address) } catch {
                    errors.append(FieldError("\(payerPointer)/email", "\(error)"))
                }
            } else {
                errors.append(FieldError("\(payerPointer)/email", "payer \(payer.ref) has no e-mail address"))
            }
        case .sms:
            do {
                _ = try catalog.resolve(message: job.template, part: .sms, locale: payer.locale, segment: payer.segment)
            } catch {
                errors.append(FieldError("\(pointer)/template", "\(error)"))
            }
            do { _ = try composer.phoneNumber(of: payer) } catch let failure as DispatchFailure {
                errors.append(FieldError("\(pointer)/payer/phone", failure.message))
            } catch {
                errors.append(FieldError("\(pointer)/payer/phone", "\(error)"))
            }
        case .letter:
            do {
                _ = try catalog.resolve(
                    message: job.template, part: .letter, locale: payer.locale, segment: payer.segment)
            } catch {
                errors.append(FieldError("\(pointer)/template", "\(error)"))
            }
            do { _ = try composer.windowAddress(of: payer) } catch let failure as DispatchFailure {
                errors.append(FieldError("\(pointer)/payer/postal_address", failure.message))
            } catch {
                errors.append(FieldError("\(pointer)/payer/postal_address", "\(error)"))
            }
        }
        return errors
    }
}

/// The checks of jobs against their payers, made once per channel, template and payer
/// in a batch: a thousand reminders to one payer resolve the template and parse the
/// address once. (Within one batch a payer ref stands for one payer.)
struct JobChecks {
    let composer: MessageComposer
    var known: [String: [FieldError]] = [:]

    init(composer: MessageComposer) { self.composer = composer }

    mutating func errors(_ job: NewJob, payer: PayerProfile?, pointer: String) -> [FieldError] {
        let key = "\(job.channel.rawValue)\u{0}\(job.template)\u{0}\(job.payerRef)"
        let relative: [FieldError]
        if let found = known[key] {
            relative = found
        } else {
            relative = Enqueuer.check(job, payer: payer, pointer: "", composer: composer)
            known[key] = relative
        }
        if relative.isEmpty { return [] }
        return relative.map { FieldError(pointer + $0.pointer, $0.message) }
    }
}
