import Foundation
import RelanceAPI
import RelanceCore
import RelanceStore
import RelanceTemplates

/// Checks requests against the store and templates, then inserts them all or none.
public struct Enqueuer: JobIntake {
    let store: any JobStore
    /// The templates and settings in force now (they change on SIGHUP).
    let current: @Sendable () -> MessageComposer
    var composer: MessageComposer { current() }

    public init(store: any JobStore, composer: MessageComposer) {
        self.store = store
        self.current = { composer }
    }

    public init(store: any JobStore, current: @escaping @Sendable () -> MessageComposer) {
        self.store = store
        self.current = current
    }

    /// Validates every request (template known, payer usable, data renders), and
    /// inserts nothing unless all pass.
    public func enqueue(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [EnqueueResult] {
        let errors = try await validate(requests)
        if !errors.isEmpty { throw InvalidFields(errors) }
        return try await store.enqueue(requests.map(\.request.job), payers: Array(Self.inlinePayers(requests).values))
    }

    /// Payers given inline with the jobs, by ref (the last one wins).
    static func inlinePayers(_ requests: [(pointer: String, request: EnqueueRequest)]) -> [String: PayerProfile] {
        var payers: [String: PayerProfile] = [:]
        for (_, request) in requests { if let p = request.payer { payers[p.ref] = p } }
        return payers
    }

    public func validate(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [FieldError] {
        var errors: [FieldError] = []
        let inlinePayers = Self.inlinePayers(requests)
        var storedPayers: [String: PayerProfile?] = [:]
        for (pointer, request) in requests {
            let job = request.job
            var payer = inlinePayers[job.payerRef]
            if payer == nil {
                if storedPayers[job.payerRef] == nil {
                    storedPayers[job.payerRef] = try await store.payer(ref: job.payerRef)
                }
                payer = storedPayers[job.payerRef] ?? nil
            }
            guard let payer else {
                errors.append(
                    FieldError(
                        "\(pointer)/payer_ref",
                        "payer '\(job.payerRef)' does not exist (create it with `relance payer upsert` or give a `payer` object)"
                    ))
                continue
            }
            errors += check(job, data: request.data, payer: payer, pointer: pointer)
        }
        return errors
    }

    /// What rendering at dispatch time would refuse, without rendering: the template
    /// has the channel's parts for this payer, the address is usable, the data follows
    /// the conventions. Templates themselves were checked when the catalog loaded.
    func check(_ job: NewJob, data: JSONValue, payer: PayerProfile, pointer: String) -> [FieldError] {
        let catalog = composer.catalog
        guard catalog.hasMessage(job.template) else {
            return [
                FieldError(
                    "\(pointer)/template",
                    "unknown template '\(job.template)' (known: \(catalog.messages.joined(separator: ", ")))")
            ]
        }
        var errors: [FieldError] = []
        switch job.channel {
        case .email:
            for part in [TemplatePart.emailSubject, .emailText] {
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
            do { _ = try composer.postalAddress(of: payer) } catch let failure as DispatchFailure {
                errors.append(FieldError("\(pointer)/payer/postal_address", failure.message))
            } catch {
                errors.append(FieldError("\(pointer)/payer/postal_address", "\(error)"))
            }
        }
        errors += MessageContext.check(data: data, pointer: "\(pointer)/data")
        return errors
    }
}
