import RelanceCore

/// A provider's final word on one attempt of a job.
public struct DeliveryReport: Sendable, Equatable {
    public var jobID: Int64
    public var attempt: Int
    public var delivered: Bool
    /// The provider's message id in the report, when it gives one.
    public var providerRef: String?
    /// Provider, its status text, error code…: kept in the trace event.
    public var detail: [String: JSONValue]
    /// Written with an `undelivered` report that applies (a hard bounce).
    public var suppression: Suppression?

    public init(
        jobID: Int64, attempt: Int, delivered: Bool, providerRef: String? = nil, detail: [String: JSONValue],
        suppression: Suppression? = nil
    ) {
        self.suppression = suppression
        self.jobID = jobID
        self.attempt = attempt
        self.delivered = delivered
        self.providerRef = providerRef
        self.detail = detail
    }
}

public enum ReportOutcome: Sendable, Equatable {
    /// The job moved to this state.
    case applied(JobState)
    /// The job already was in the reported state (the provider repeated itself).
    case duplicate(JobState)
    case unknownJob
    /// The report names another attempt or provider message, or the job is in a state
    /// a report cannot change (queued, running, failed, …).
    case rejected(String)
}

/// A payer's contact point that must not be used again until the payer's profile changes
/// it (a hard bounce, a complaint, an address that proved unusable).
public struct Suppression: Sendable, Equatable {
    public var payerRef: String
    public var channel: String
    public var contact: String
    /// In words, with the code when there is one (`bounce 5.1.1: …`, `complaint abuse`).
    public var reason: String

    public init(payerRef: String, channel: String, contact: String, reason: String) {
        self.payerRef = payerRef
        self.channel = channel
        self.contact = contact
        self.reason = reason
    }
}
