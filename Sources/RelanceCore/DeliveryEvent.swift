/// One row of the append-only delivery trace.
public struct DeliveryEvent: Sendable, Equatable {
    public var id: Int64
    public var jobID: Int64
    public var attempt: Int
    /// ISO 8601 UTC timestamp from the database clock.
    public var at: String
    public var kind: DeliveryEventKind
    public var caseRef: String?
    public var channel: String
    /// Event details as a JSON object (provider response, template files, reason…).
    public var detail: JSONValue

    public init(
        id: Int64, jobID: Int64, attempt: Int, at: String, kind: DeliveryEventKind,
        caseRef: String?, channel: String, detail: JSONValue
    ) {
        self.id = id
        self.jobID = jobID
        self.attempt = attempt
        self.at = at
        self.kind = kind
        self.caseRef = caseRef
        self.channel = channel
        self.detail = detail
    }
}
