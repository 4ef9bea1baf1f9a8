import Foundation
import RelanceAPI
import RelanceCore
import RelanceStore
import RelanceTemplates

/// Checks requests against the store and templates, then inserts them all or none.
public struct Enqueuer: JobIntake {
    let store: any JobStore
    let composer: MessageComposer

    public init(store: any JobStore, composer: MessageComposer) {
        self.store = store
        self.composer = composer
    }

    /// Validates every request (template known, payer usable, data renders), and
    /// inserts nothing unless all pass.
    public func enqueue(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [EnqueueResult] {
        let errors = try await validate(requests)
        if !errors.isEmpty { throw InvalidFields(errors) }
        var inlinePayers: [String: PayerProfile] = [:]
        for (_, request) in requests { if let p = request.payer { inlinePayers[p.ref] = p } }
        return try await store.enqueue(requests.map(\.request.job), payers: Array(inlinePayers.values))
    }

    public func validate(_ requests: [(pointer: String, request: EnqueueRequest)]) async throws -> [FieldError] {
        var errors: [FieldError] = []
        var inlinePayers: [String: PayerProfile] = [:]
        for (_, request) in requests { if let p = request.payer { inlinePayers[p.ref] = p } }
        var storedPayers: [String: PayerProfile?] = [:]
        for (pointer, request) in requests {
            let job = request.job
            var payer = inlinePayers[job.payerRef]
            if payer == nil {
                if storedPayers[job.payerRef] == nil { storedPayers[job.payerRef] = try await store.payer(ref: job.payerRef) }
                payer = storedPayers[job.payerRef] ?? nil
            }
            guard let payer else {
                errors.append(FieldError("\(pointer)/payer_ref", "payer '\(job.payerRef)' does not exist (create it with `relance payer upsert` or give a `payer` object)"))
                continue
            }
            errors += check(job, payer: payer, pointer: pointer)
        }
        return errors
    }

    func check(_ job: NewJob, payer: PayerProfile, pointer: String) -> [FieldError] {
        guard composer.catalog.hasMessage(job.template) else {
            return [FieldError("\(pointer)/template", "unknown template '\(job.template)' (known: \(composer.catalog.messages.joined(separator: ", ")))")]
        }
        let probe = Job(
            id: 0, payerRef: job.payerRef, caseRef: job.caseRef, channel: job.channel.rawValue, template: job.template,
            data: job.data, runAt: "", dueAt: "", createdAt: "", updatedAt: "")
        do {
            switch job.channel {
            case .email: _ = try composer.compose(job: probe, payer: payer)
            case .sms, .letter: _ = try composer.render(job: probe, payer: payer)
            }
        } catch {
            let error = DispatchFailure.composing(error)
            let field: String
            switch error.reason {
            case "address": field = "/payer/email"
            case "template": field = "/template"
            case "channel": field = "/channel"
            default: field = "/data"
            }
            return [FieldError(pointer + field, error.message)]
        }
        return []
    }
}
