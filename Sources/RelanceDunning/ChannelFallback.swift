import RelanceCore
import RelanceStore

/// Where a scenario step goes when its channel's contact point proved unusable (an
/// invalid address, a hard bounce): the payer's next preferred channel that is not
/// suppressed, has a usable contact point and a template. Shared by the dispatcher (a
/// synchronous refusal) and the bounce desk (a bounce read back days later).
public enum ChannelFallback {
    /// The job for the same step on the next channel; nil when none is left.
    public static func nextJob(
        after job: Job, step: StepKey, payer: PayerProfile, suppressed: Set<Channel>, composer: MessageComposer
    ) -> NewJob? {
        let next = payer.channels.first { channel in
            !suppressed.contains(channel) && composer.hasUsableContact(channel, payer)
                && composer.hasTemplate(job.template, for: channel, payer)
        }
        return next.map {
            NewJob(
                idempotencyKey: step.on($0.rawValue).description, payerRef: job.payerRef, caseRef: job.caseRef,
                channel: $0, template: job.template, data: job.data)
        }
    }

    /// The payer's contact point on `channel`, as the suppression list keeps it.
    public static func contact(_ channel: Channel, of payer: PayerProfile) -> String {
        switch channel {
        case .email: payer.email ?? ""
        case .sms: payer.phone ?? ""
        case .letter: payer.postalAddressJSON ?? ""
        }
    }
}
