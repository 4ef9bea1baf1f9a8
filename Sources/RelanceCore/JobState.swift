/// The state of a job. The raw values are stored in the `state` column and are
/// part of the external contract (README, "Job lifecycle").
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued
    case running
    case sent
    case delivered
    case undelivered
    case failed
    case dead
    case uncertain
    case cancelled

    /// States a job never leaves on its own.
    public var isFinished: Bool {
        switch self {
        case .queued, .running: false
        // `sent` may still receive a delivery report, but no worker touches it again.
        case .sent, .delivered, .undelivered, .failed, .dead, .uncertain, .cancelled: true
        }
    }
}
