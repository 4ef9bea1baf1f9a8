import Foundation
import Prometheus
import RelanceCore
import RelanceStore

/// The daemon's Prometheus metrics. Counters and histograms move as work happens;
/// queue gauges are read from the store when /metrics is scraped.
public final class RelanceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Seconds: from a few milliseconds (outbox, local relay) to a slow remote server.
    static let dispatchBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]

    public init() {}

    /// After each dispatch attempt: its duration and the provider's answer class.
    public func observe(channel: String, outcome: DispatchOutcome, duration: Duration) {
        let outcomeClass: String
        switch outcome {
        case .accepted: outcomeClass = "accepted"
        case .transient: outcomeClass = "transient"
        case .permanent: outcomeClass = "permanent"
        }
        registry.makeCounter(
            name: "relance_provider_responses_total", labels: [("channel", channel), ("class", outcomeClass)],
            help: "Provider answers to dispatch attempts, by class"
        ).increment()
        registry.makeDurationHistogram(
            name: "relance_dispatch_duration_seconds", labels: [("channel", channel)], buckets: Self.dispatchBuckets,
            help: "Time to hand one message to its provider"
        ).record(duration)
    }

    public func enqueued(channel: String, count: Int = 1) {
        registry.makeCounter(
            name: "relance_jobs_enqueued_total", labels: [("channel", channel)], help: "Jobs enqueued through the API or CLI"
        ).increment(by: Int64(count))
    }

    public func httpResponse(method: String, route: String, status: Int) {
        registry.makeCounter(
            name: "relance_http_requests_total",
            labels: [("method", method), ("route", route), ("status", String(status))], help: "HTTP API responses"
        ).increment()
    }

    /// The Prometheus text exposition, with queue gauges fresh from the store.
    public func text(store: any JobStore) async -> String {
        if let statistics = try? await store.statistics() {
            for state in JobState.allCases {
                for channel in Channel.allCases {
                    registry.makeGauge(
                        name: "relance_jobs", labels: [("state", state.rawValue), ("channel", channel.rawValue)],
                        help: "Jobs by state and channel"
                    ).set(Double(statistics.jobs[state.rawValue]?[channel.rawValue] ?? 0))
                }
            }
            registry.makeGauge(
                name: "relance_oldest_due_job_age_seconds", help: "How long the oldest due job has been waiting"
            ).set(statistics.oldestDueAge)
        }
        return registry.emitToString()
    }
}
