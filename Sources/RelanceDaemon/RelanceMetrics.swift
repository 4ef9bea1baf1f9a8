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

    static var providerResponses: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "provider_responses", unitName: "total",
            helpText: "Provider answers to dispatch attempts, by class")
    }
    static var dispatchDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "dispatch_duration", unitName: "seconds",
            helpText: "Time to hand one message to its provider")
    }
    static var jobsEnqueued: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "jobs_enqueued", unitName: "total",
            helpText: "Jobs enqueued through the HTTP API")
    }
    static var httpRequests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "http_requests", unitName: "total", helpText: "HTTP API responses")
    }
    static var jobs: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "jobs", unitName: "", helpText: "Jobs by state and channel")
    }
    static var oldestDueAge: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "oldest_due_job_age", unitName: "seconds",
            helpText: "How long the oldest due job has been waiting")
    }

    static var claims: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "claims", unitName: "total",
            helpText: "Claims made by this node's workers, by whether they found jobs")
    }
    static var claimedJobs: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "claimed_jobs", unitName: "total", helpText: "Jobs this node claimed")
    }
    static var notifyLag: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "notify_lag", unitName: "seconds",
            helpText: "From an enqueuing statement (database clock) to this node's wake-up (host clock)")
    }
    static var poolConnections: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "db_pool_connections", unitName: "",
            helpText: "Connections of this node's database pool: size, in use, callers waiting")
    }
    static var poolWait: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "db_pool_wait", unitName: "seconds_total",
            helpText: "Time callers waited for a pooled connection")
    }
    static var poolLeases: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "relance", metricName: "db_pool_leases", unitName: "total",
            helpText: "Connections leased from this node's database pool")
    }
    static let lagBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    /// After each claim of a worker.
    public func claimed(_ count: Int) {
        registry.makeCounter(descriptor: Self.claims, labels: [("found", count > 0 ? "jobs" : "none")]).increment()
        if count > 0 { registry.makeCounter(descriptor: Self.claimedJobs).increment(by: Int64(count)) }
    }

    /// A wake-up by the database, `lag` seconds after the enqueuing statement.
    public func notified(lag: Double) {
        registry.makeDurationHistogram(descriptor: Self.notifyLag, buckets: Self.lagBuckets).record(
            .milliseconds(Int(max(0, lag) * 1000)))
    }

    /// After each dispatch attempt: its duration and the provider's answer class.
    public func observe(channel: String, outcome: DispatchOutcome, duration: Duration) {
        let outcomeClass: String
        switch outcome {
        case .accepted: outcomeClass = "accepted"
        case .transient: outcomeClass = "transient"
        case .permanent: outcomeClass = "permanent"
        case .uncertain: outcomeClass = "uncertain"
        }
        registry.makeCounter(
            descriptor: Self.providerResponses, labels: [("channel", channel), ("class", outcomeClass)]
        )
        .increment()
        registry.makeDurationHistogram(
            descriptor: Self.dispatchDuration, labels: [("channel", channel)], buckets: Self.dispatchBuckets
        ).record(duration)
    }

    public func enqueued(channel: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.jobsEnqueued, labels: [("channel", channel)]).increment(by: Int64(count))
    }

    public func httpResponse(method: String, route: String, status: Int) {
        registry.makeCounter(
            descriptor: Self.httpRequests, labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
    }

    /// The Prometheus text exposition, with queue gauges fresh from the store.
    public func text(store: any JobStore) async -> String {
        if let statistics = try? await store.statistics() {
            for state in JobState.allCases {
                for channel in Channel.allCases {
                    registry.makeGauge(
                        descriptor: Self.jobs, labels: [("state", state.rawValue), ("channel", channel.rawValue)]
                    )
                    .set(Double(statistics.jobs[state.rawValue]?[channel.rawValue] ?? 0))
                }
            }
            registry.makeGauge(descriptor: Self.oldestDueAge).set(statistics.oldestDueAge)
        }
        if let pooled = store as? any JobNotifications {
            let use = pooled.poolUse
            for (state, value) in [("size", use.size), ("in_use", use.inUse), ("waiting", use.waiting)] {
                registry.makeGauge(descriptor: Self.poolConnections, labels: [("state", state)]).set(Double(value))
            }
            registry.makeGauge(descriptor: Self.poolWait).set(use.waitSeconds)
            registry.makeGauge(descriptor: Self.poolLeases).set(Double(use.leases))
        }
        return registry.emitToString()
    }
}
