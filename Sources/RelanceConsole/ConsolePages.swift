import Foundation
import HTTPTypes
import Hummingbird
import RelanceCore
import RelanceStore

/// The pages that read: the overview, payers, jobs, the audit trail.
extension Console {
    func overview(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .signedIn)
        let t = visitor.language
        let now = environment.clock.now()
        let reads = visitor.session.role.readsPersonalData
        async let attentionCounts = store.attentionCounts()
        async let workload = store.workload()
        async let oldest = store.oldestDueAge()
        let figures = try await overviewSnapshot.figures(store: store, now: now)
        let outcomes: [JobState] = [.sent, .delivered, .undelivered, .uncertain, .failed, .dead, .cancelled]
        func period(_ label: String, _ counts: [String: [String: Int]]) -> [String: Any] {
            let rows = RelanceCore.Channel.allCases.map(\.rawValue).map { channel -> [String: Any] in
                let cells = outcomes.map { counts[channel]?[$0.rawValue] ?? 0 }
                return ["channel": channel, "cells": cells.map(String.init), "sum": String(cells.reduce(0, +))]
            }
            return ["label": label, "columns": outcomes.map(\.rawValue), "rows": rows]
        }
        let attention = try await attentionCounts
        var attentionItems: [[String: Any]] = attentionStates.map { state in
            var item: [String: Any] = ["count": attention[state]?.values.reduce(0, +) ?? 0, "label": state]
            if reads { item["link"] = "/jobs?state=\(state)" }
            return item
        }
        attentionItems.append(["count": try await store.suppressionCount(), "label": t.text("suppressed")])
        let review = try await store.reviewLineCount()
        attentionItems.append(["count": review, "label": t.text("unmatched")])
        let load = try await workload
        var queue: [String: Any] = [
            "due": load.due, "running": load.running, "scheduled": load.scheduled,
            "oldest": String(Int(try await oldest.rounded())),
        ]
        if let next = load.nextRunAt { queue["next"] = next }
        let aging = Aging(figures.balances, today: Timestamp.isoDate(of: now, in: TimeZone(identifier: "UTC")!))
        let bandNames = (0..<5).map { t.text("band\($0)") }
        let agingViews = aging.amounts.keys.sorted().map { currency -> [String: Any] in
            let amounts = aging.amounts[currency] ?? []
            let counts = aging.counts[currency] ?? []
            let bars = amounts.indices.map {
                SVGChart.Bar(
                    label: bandNames[$0], value: NSDecimalNumber(decimal: amounts[$0]).doubleValue,
                    text: Self.money(amounts[$0], currency, t))
            }
            return [
                "currency": currency, "svg": SVGChart(title: "\(t.text("outstanding")) (\(currency))", bars: bars).svg,
                "bands": amounts.indices.map {
                    ["label": bandNames[$0], "amount": Self.money(amounts[$0], currency, t), "count": counts[$0]]
                },
            ]
        }
        let steps = figures.steps
        let stepRows = steps.map { figure -> [String: Any] in
            [
                "scenario": figure.scenario, "step": figure.step, "sent": figure.sent, "delivered": figure.delivered,
                "undelivered": figure.undelivered, "invoices": figure.invoices, "paid7": figure.paidWithin7Days,
                "paid30": figure.paidWithin30Days,
                "recovered": figure.recovered.keys.sorted().map { Self.money(figure.recovered[$0]!, $0, t) }
                    .joined(separator: ", "),
            ]
        }
        let stepBars = steps.filter { !$0.onPayment }.map { figure in
            let share = figure.invoices > 0 ? Double(figure.paidWithin30Days) / Double(figure.invoices) : 0
            return SVGChart.Bar(
                label: "\(figure.scenario) · \(figure.step)", value: share,
                text: "\(Int((share * 100).rounded())) % (\(figure.paidWithin30Days)/\(figure.invoices))")
        }
        return page(
            request, visitor, title: t.text("overview"), template: "overview",
            context: [
                "periods": [period(t.text("today"), figures.today), period(t.text("last30"), figures.month)],
                "attention": attentionItems, "computed_at": Timestamp.string(from: figures.computedAt), "queue": queue,
                "aging": agingViews, "steps": stepRows,
                "has_steps": !stepRows.isEmpty,
                "steps_svg": SVGChart(title: t.text("paid30_chart"), bars: stepBars).svg,
            ])
    }

    static func money(_ amount: Decimal, _ currency: String, _ language: ConsoleLanguage) -> String {
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: language == .fr ? "fr_FR" : "en_GB")
        formatter.numberStyle = .currency
        formatter.currencyCode = currency
        return formatter.string(from: NSDecimalNumber(decimal: amount)) ?? "\(amount) \(currency)"
    }

    // MARK: payers

    func payers(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let q = try query(request, "q")
        var context: [String: Any] = ["q": q ?? "", "searched": q != nil]
        if let q {
            let found = try await store.searchPayers(q, limit: 100)
            context["results"] = found.map {
                [
                    "ref": $0.ref, "payer_name": $0.name, "email": $0.email ?? "", "phone": $0.phone ?? "",
                    "href": "/payers/\(Self.escapePath($0.ref))",
                ]
            }
            context["has_results"] = !found.isEmpty
        }
        return page(request, visitor, title: visitor.language.text("payers"), template: "payers", context: context)
    }

    func payer(_ request: Request, _ context: ConsoleContext, ref: String, printable: Bool) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let t = visitor.language
        var profile: PayerProfile?
        var unusable: String?
        do { profile = try await store.payer(ref: ref) } catch { unusable = "\(error)" }
        if profile == nil, unusable == nil { throw ConsoleStop.notFound }
        var fields: [[String: String]] = [["label": t.text("reference"), "value": ref]]
        if let profile {
            fields += [
                ["label": t.text("name"), "value": profile.name],
                ["label": t.text("email"), "value": profile.email ?? "—"],
                ["label": t.text("phone"), "value": profile.phone ?? "—"],
                ["label": t.text("address"), "value": profile.postalAddress?.joined(separator: " / ") ?? "—"],
                ["label": t.text("locale"), "value": profile.locale],
                ["label": t.text("timezone"), "value": profile.timezone],
                ["label": t.text("segment"), "value": profile.segment],
                ["label": t.text("channels"), "value": profile.channels.map(\.rawValue).joined(separator: ", ")],
            ]
        }
        let invoices = try await store.invoices(payerRef: ref).map { invoice -> [String: Any] in
            [
                "number": invoice.ref, "amount": Self.money(invoice.amount, invoice.currency, t),
                "balance": Self.money(invoice.balance, invoice.currency, t), "due": invoice.dueDate,
                "status": invoice.status.rawValue, "open": invoice.status == .open,
                "hold": invoice.holdUntil.map { "\($0) (\(invoice.holdReason ?? ""))" } ?? "—",
                "held": invoice.holdUntil != nil,
                "hold_href": "/invoices/\(Self.escapePath(invoice.ref))/hold",
                "release_href": "/invoices/\(Self.escapePath(invoice.ref))/release",
            ]
        }
        let suppressions = try await store.suppressions(payerRef: ref, limit: 100).map {
            ["channel": $0.channel, "contact": $0.contact, "reason": $0.reason, "created": $0.createdAt]
        }
        var filter = JobFilter(payerRef: ref, limit: printable ? 1000 : 50)
        filter.newestFirst = true
        let jobs = try await store.jobs(filter)
        var cases: [String] = []
        for job in jobs { if let c = job.caseRef, !cases.contains(c) { cases.append(c) } }
        var body: [String: Any] = [
            "fields": fields, "invoices": invoices, "has_invoices": !invoices.isEmpty, "suppressions": suppressions,
            "cases": cases.map {
                [
                    "case_ref": $0, "jobs_href": "/jobs?case=\(Self.escapePath($0))",
                    "cancel_href": "/cases/\(Self.escapePath($0))/cancel",
                    "export_href": "/cases/\(Self.escapePath($0))/export.zip",
                ]
            },
            "timeline": try await timeline(jobs), "history_href": "/payers/\(Self.escapePath(ref))/history",
            "printed_at": Timestamp.string(from: environment.clock.now()),
        ]
        if let unusable { body["unusable"] = unusable }
        let title = printable ? "\(t.text("history")): \(profile?.name ?? ref)" : (profile?.name ?? ref)
        return page(request, visitor, title: title, template: printable ? "history" : "payer", context: body)
    }

    /// Jobs with their trace, for the payer page, the history and the job page.
    func timeline(_ jobs: [Job]) async throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for job in jobs {
            let events = try await store.events(jobID: job.id).map { event -> [String: Any] in
                [
                    "at": event.at, "event": event.kind.rawValue, "attempt": event.attempt,
                    "detail": event.detail.jsonText,
                ]
            }
            var row: [String: Any] = [
                "id": job.id, "href": "/jobs/\(job.id)", "template": job.template, "channel": job.channel,
                "state": job.state.rawValue, "case_ref": job.caseRef ?? "—", "created": job.createdAt,
                "run_at": job.runAt, "events": events,
            ]
            if let error = job.lastError { row["last_error"] = error }
            out.append(row)
        }
        return out
    }

    // MARK: jobs

    func jobs(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        var filter = JobFilter(limit: 100)
        filter.newestFirst = true
        let state = try query(request, "state")
        if let state {
            guard let s = JobState(rawValue: state) else { throw ConsoleStop.badInput("state: unknown state") }
            filter.state = s
        }
        let channel = try query(request, "channel")
        if let channel, RelanceCore.Channel(rawValue: channel) == nil {
            throw ConsoleStop.badInput("channel: unknown channel")
        }
        filter.channel = channel
        filter.template = try query(request, "template", max: 100)
        filter.caseRef = try query(request, "case")
        filter.payerRef = try query(request, "payer")
        let from = try query(request, "from", max: 10)
        let to = try query(request, "to", max: 10)
        for (name, day) in [("from", from), ("to", to)] where day != nil && Scenario.day(day!) == nil {
            throw ConsoleStop.badInput("\(name): must be YYYY-MM-DD")
        }
        filter.createdSince = from.map { $0 + "T00:00:00.000Z" }
        // "Created before" the day after `to`: the day itself is included.
        filter.createdBefore = to.flatMap(Scenario.day).map {
            Scenario.format($0.addingTimeInterval(86400)) + "T00:00:00.000Z"
        }
        if let before = try query(request, "before", max: 20) {
            guard let id = Int64(before) else { throw ConsoleStop.badInput("before: must be a job id") }
            filter.afterID = id
        }
        let jobs = try await store.jobs(filter)
        var context: [String: Any] = [
            "states": JobState.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == state] },
            "channels": RelanceCore.Channel.allCases.map {
                ["value": $0.rawValue, "selected": $0.rawValue == channel]
            },
            "template": filter.template ?? "", "case_ref": filter.caseRef ?? "", "from": from ?? "", "to": to ?? "",
            "has_jobs": !jobs.isEmpty,
            "jobs": jobs.map {
                [
                    "id": $0.id, "href": "/jobs/\($0.id)", "payer_ref": $0.payerRef,
                    "payer_href": "/payers/\(Self.escapePath($0.payerRef))", "case_ref": $0.caseRef ?? "—",
                    "template": $0.template, "channel": $0.channel, "state": $0.state.rawValue, "run_at": $0.runAt,
                ]
            },
        ]
        if jobs.count == filter.limit, let last = jobs.last {
            var items = Self.queryFields(request).filter { $0.key != "before" }.sorted { $0.key < $1.key }
                .map { ($0.key, $0.value) }
            items.append(("before", String(last.id)))
            context["older_href"] = "/jobs?" + FormEncoding.encode(items)
        }
        return page(request, visitor, title: visitor.language.text("jobs"), template: "jobs", context: context)
    }

    // MARK: the audit trail

    func auditPage(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let entries = audit.recent(limit: 500).map {
            ["at": $0.at, "user": $0.user, "action": $0.action, "target": $0.target, "outcome": $0.outcome]
        }
        return page(
            request, visitor, title: visitor.language.text("audit"), template: "audit",
            context: ["entries": entries, "has_entries": !entries.isEmpty])
    }
}
