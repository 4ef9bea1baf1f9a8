/// A job as stored in the `jobs` table.
///
/// `channel` and `template` stay strings because rows may be written by other
/// services with plain SQL: an unknown value must fail that job with a clear
/// error, not make the row unreadable.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var idempotencyKey: String?
    public var payerRef: String
    public var caseRef: String?
    public var channel: String
    public var template: String
    /// The raw JSON text of the template variables.
    public var data: String
    public var runAt: String
    public var dueAt: String
    public var priority: Int
    public var state: JobState
    public var attempt: Int
    public var maxAttempts: Int?
    public var leaseOwner: String?
    public var leaseExpiresAt: String?
    public var dispatchStartedAt: String?
    public var lastError: String?
    public var providerRef: String?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: Int64, idempotencyKey: String? = nil, payerRef: String, caseRef: String? = nil,
        channel: String, template: String, data: String = "{}", runAt: String, dueAt: String,
        priority: Int = 0, state: JobState = .queued, attempt: Int = 0, maxAttempts: Int? = nil,
        leaseOwner: String? = nil, leaseExpiresAt: String? = nil, dispatchStartedAt: String? = nil,
        lastError: String? = nil, providerRef: String? = nil, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.payerRef = payerRef
        self.caseRef = caseRef
        self.channel = channel
        self.template = template
        self.data = data
        self.runAt = runAt
        self.dueAt = dueAt
        self.priority = priority
        self.state = state
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.dispatchStartedAt = dispatchStartedAt
        self.lastError = lastError
        self.providerRef = providerRef
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a caller supplies to enqueue a job (CLI, API, tests).
public struct NewJob: Sendable, Equatable {
    public var idempotencyKey: String?
    public var payerRef: String
    public var caseRef: String?
    public var channel: Channel
    public var template: String
    /// JSON object text.
    public var data: String
    /// ISO 8601; nil means now (database clock).
    public var runAt: String?
    public var priority: Int

    public init(
        idempotencyKey: String? = nil, payerRef: String, caseRef: String? = nil, channel: Channel,
        template: String, data: String = "{}", runAt: String? = nil, priority: Int = 0
    ) {
        self.idempotencyKey = idempotencyKey
        self.payerRef = payerRef
        self.caseRef = caseRef
        self.channel = channel
        self.template = template
        self.data = data
        self.runAt = runAt
        self.priority = priority
    }
}
