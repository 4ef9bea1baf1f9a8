import Foundation
import RelanceCore
import RelanceStore

/// The effectiveness report (`relance report`, `GET /v1/reports/steps`): which steps of
/// which scenario bring cash in.
public enum StepReport {
    /// The figures of `since` (YYYY-MM-DD, nil for all) for `scenario` (nil for all), each
    /// scenario's steps in its own order with the step on payment last and marked.
    public static func figures(
        store: any JobStore, scenarios: ScenarioCatalog, since: String?, scenario: String?
    ) async throws -> [StepFigures] {
        if let since, Scenario.day(since) == nil { throw ScenarioError("since: '\(since)' is not YYYY-MM-DD") }
        if let scenario, !scenarios.scenarios.contains(where: { $0.name == scenario }) {
            throw ScenarioError(
                "scenario: no scenario '\(scenario)' (known: \(scenarios.scenarios.map(\.name).joined(separator: ", ")))"
            )
        }
        return ordered(try await store.stepReport(since: since ?? "0000", scenario: scenario), scenarios: scenarios)
    }

    static func ordered(_ figures: [StepFigures], scenarios: ScenarioCatalog) -> [StepFigures] {
        // Each step's place in its scenario: the steps in order, then the step on payment.
        var place: [String: [String: Int]] = [:]
        var onPayment: [String: String] = [:]
        for scenario in scenarios.scenarios {
            for (index, step) in scenario.steps.enumerated() { place[scenario.name, default: [:]][step.id] = index }
            if let step = scenario.onPayment {
                place[scenario.name, default: [:]][step.id] = scenario.steps.count
                onPayment[scenario.name] = step.id
            }
        }
        func rank(_ f: StepFigures) -> (String, Int, String) {
            (f.scenario, place[f.scenario]?[f.step] ?? Int.max, f.step)
        }
        return figures.map { f in
            var f = f
            f.onPayment = onPayment[f.scenario] == f.step
            return f
        }
        .sorted { rank($0) < rank($1) }
    }

    /// A plain-text table; the step on payment shows no payment figures.
    public static func table(_ figures: [StepFigures]) -> [String] {
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        func right(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        var lines = [
            pad("scenario", 16) + pad("step", 18) + right("sent", 5) + right("delivered", 11)
                + right("undelivered", 13) + right("complaints", 12) + right("invoices", 10)
                + right("paid<=7d", 10) + right("paid<=30d", 11) + "  recovered after the step"
        ]
        for f in figures {
            let paid7 = f.onPayment ? "-" : String(f.paidWithin7Days)
            let paid30 = f.onPayment ? "-" : String(f.paidWithin30Days)
            let recovered =
                f.onPayment
                ? "-"
                : f.recovered.isEmpty
                    ? "0"
                    : f.recovered.keys.sorted().map { "\(Invoice.text(f.recovered[$0]!)) \($0)" }.joined(
                        separator: " + ")
            lines.append(
                pad(f.scenario, 16) + pad(f.step, 18) + right(String(f.sent), 5) + right(String(f.delivered), 11)
                    + right(String(f.undelivered), 13) + right(String(f.complaints), 12) + right(String(f.invoices), 10)
                    + right(paid7, 10)
                    + right(paid30, 11) + "  " + recovered)
        }
        return lines
    }
}
