import Foundation
import Hummingbird
import RelanceCore
import RelanceDunning
import RelanceStore

extension Invoice {
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "number": .string(ref), "payer_ref": .string(payerRef), "scenario": .string(scenario),
            "amount": .object(["amount": .string(Invoice.text(amount)), "currency": .string(currency)]),
            "balance": .object(["amount": .string(Invoice.text(balance)), "currency": .string(currency)]),
            "issue_date": .string(issueDate), "due_date": .string(dueDate), "status": .string(status.rawValue),
        ]
        object["paid_at"] = paidAt.map(JSONValue.string) ?? .null
        object["payment_reference"] = reference.map { .string(RFReference.display($0)) } ?? .null
        object["hold"] =
            holdUntil.map { .object(["until": .string($0), "reason": .string(holdReason ?? "")]) } ?? .null
        return .object(object)
    }
}

extension StepFigures {
    /// The step on payment (thanks) has no payment figures: they are null.
    public var jsonValue: JSONValue {
        [
            "scenario": .string(scenario), "step": .string(step), "sent": .number(String(sent)),
            "delivered": .number(String(delivered)), "undelivered": .number(String(undelivered)),
            "complaints": .number(String(complaints)),
            "invoices": .number(String(invoices)),
            "paid_within_7_days": onPayment ? .null : .number(String(paidWithin7Days)),
            "paid_within_30_days": onPayment ? .null : .number(String(paidWithin30Days)),
            "recovered": onPayment
                ? .null
                : .array(
                    recovered.keys.sorted().map {
                        .object(["amount": .string(Invoice.text(recovered[$0]!)), "currency": .string($0)])
                    }),
        ]
    }
}

extension Handlers {
    func stepReport(_ request: Request) async throws -> Response {
        try authorize(request, .read)
        let desk = try desk()
        let query = request.uri.queryParameters
        let since = query.get("since")
        let scenario = query.get("scenario")
        var errors: [FieldError] = []
        if let since, Scenario.day(since) == nil { errors.append(FieldError("/since", "'\(since)' is not YYYY-MM-DD")) }
        if !errors.isEmpty { throw APIError.validation(errors) }
        let figures: [StepFigures]
        do {
            figures = try await StepReport.figures(
                store: environment.store, scenarios: desk.scenarios, since: since, scenario: scenario)
        } catch let error as ScenarioError {
            throw APIError.validation([
                FieldError(error.message.hasPrefix("scenario") ? "/scenario" : "", error.message)
            ])
        }
        return json(.ok, ["steps": .array(figures.map(\.jsonValue))])
    }

    /// The desk's problems (`amount: …; due_date: …`, `payer X does not exist`, `no
    /// scenario …`) as field errors with the pointer of the field each one names.
    static func fieldErrors(_ error: ScenarioError) -> [FieldError] {
        let fields = [
            "number", "payer_ref", "amount", "issue_date", "due_date", "scenario", "date", "until", "reason",
        ]
        if !error.problems.isEmpty { return error.problems }
        // One problem: never split (a reference may hold "; " or ": ").
        return [error.message].map { problem in
            if let colon = problem.firstIndex(of: ":"), fields.contains(String(problem[..<colon])) {
                let field = String(problem[..<colon])
                return FieldError(
                    "/\(field)", problem[problem.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            if problem.hasPrefix("payer ") { return FieldError("/payer_ref", problem) }
            if problem.hasPrefix("no scenario") || problem.hasPrefix("scenario") {
                return FieldError("/scenario", problem)
            }
            return FieldError("", problem)
        }
    }

    /// `{"amount": "1250.00", "currency": "EUR"}` at `pointer`.
    func money(_ value: JSONValue?, _ pointer: String, _ errors: inout [FieldError]) -> (Decimal, String)? {
        guard let object = value?.objectValue, let text = object["amount"]?.stringValue,
            let currency = object["currency"]?.stringValue
        else {
            errors.append(FieldError(pointer, "expected {\"amount\": \"1250.00\", \"currency\": \"EUR\"}"))
            return nil
        }
        guard let amount = Invoice.parseAmount(text), amount > 0 else {
            errors.append(
                FieldError(pointer + "/amount", "'\(text)' is not a positive decimal amount such as \"1250.00\""))
            return nil
        }
        return (amount, currency)
    }

    /// The invoice desk with the scenarios in force now; 404 while they do not load
    /// (the log says why).
    func desk() throws -> InvoiceDesk {
        let composer = environment.composer()
        guard let scenarios = composer.scenarios else {
            throw APIError.notFound("invoices are not available: the dunning scenarios are not loaded")
        }
        return InvoiceDesk(store: environment.store, composer: composer, scenarios: scenarios, clock: environment.clock)
    }

    func openInvoice(_ request: Request) async throws -> Response {
        try authorize(request, .enqueue)
        let desk = try desk()
        guard case .object(let fields) = try await readJSON(request) else {
            throw APIError.validation([FieldError("", "expected an invoice object")])
        }
        var errors: [FieldError] = []
        let known: Set<String> = ["number", "payer_ref", "amount", "issue_date", "due_date", "scenario"]
        for key in fields.keys.sorted() where !known.contains(key) {
            errors.append(FieldError("/\(key)", "unknown field"))
        }
        func text(_ key: String, required: Bool = true) -> String? {
            guard let value = fields[key] else {
                if required { errors.append(FieldError("/\(key)", "is required")) }
                return nil
            }
            guard let s = value.stringValue, !s.isEmpty, s.count <= 200 else {
                errors.append(FieldError("/\(key)", "must be a string of 1 to 200 characters"))
                return nil
            }
            return s
        }
        let number = text("number"), payer = text("payer_ref"), issued = text("issue_date"), due = text("due_date")
        let scenario = text("scenario", required: false)
        let money = money(fields["amount"], "/amount", &errors)
        for (key, value) in [("issue_date", issued), ("due_date", due)] {
            if let value, Scenario.day(value) == nil {
                errors.append(FieldError("/\(key)", "'\(value)' is not YYYY-MM-DD"))
            }
        }
        guard errors.isEmpty, let number, let payer, let issued, let due, let (amount, currency) = money else {
            throw APIError.validation(errors)
        }
        let opening: InvoiceDesk.Opening
        do {
            opening = try await desk.open(
                ref: number, payerRef: payer, amount: amount, currency: currency, issueDate: issued, dueDate: due,
                scenario: scenario)
        } catch let error as ScenarioError {
            throw APIError.validation(Self.fieldErrors(error))
        }
        let jobs: [JSONValue] = zip(opening.planned, opening.results).map { planned, result in
            .object([
                "id": .number(String(result.id)), "created": .bool(result.created), "step": .string(planned.step),
                "template": .string(planned.message), "channel": .string(planned.channel.rawValue),
                "day": .string(planned.day),
            ])
        }
        environment.onEnqueued(
            zip(opening.planned, opening.results).filter(\.1.created).map(\.0.channel.rawValue), false)
        return json(
            opening.created ? .created : .ok,
            [
                "created": .bool(opening.created), "invoice": opening.invoice.jsonValue, "jobs": .array(jobs),
                "skipped": .array(opening.skipped.map(JSONValue.string)),
            ])
    }

    func getInvoice(_ request: Request, ref: String) async throws -> Response {
        try authorize(request, .read)
        guard let invoice = try await environment.store.invoice(ref: ref) else {
            throw APIError.notFound("invoice \(ref) is not registered")
        }
        let jobs = try await environment.store.jobs(JobFilter(caseRef: ref, limit: 500))
        return json(.ok, ["invoice": invoice.jsonValue, "jobs": .array(jobs.map(\.jsonValue))])
    }

    func recordPayment(_ request: Request, ref: String) async throws -> Response {
        try authorize(request, .enqueue)
        let desk = try desk()
        guard case .object(let fields) = try await readJSON(request) else {
            throw APIError.validation([FieldError("", "expected {\"amount\": {…}, \"date\": \"YYYY-MM-DD\"}")])
        }
        var errors: [FieldError] = []
        for key in fields.keys.sorted() where !["amount", "date"].contains(key) {
            errors.append(FieldError("/\(key)", "unknown field"))
        }
        let money = money(fields["amount"], "/amount", &errors)
        var date: String?
        if let value = fields["date"] {
            if let s = value.stringValue, Scenario.day(s) != nil {
                date = s
            } else {
                errors.append(FieldError("/date", "must be YYYY-MM-DD"))
            }
        }
        guard errors.isEmpty, let (amount, currency) = money else { throw APIError.validation(errors) }
        guard let current = try await environment.store.invoice(ref: ref) else {
            throw APIError.notFound("invoice \(ref) is not registered")
        }
        guard current.currency == currency else {
            throw APIError.validation([FieldError("/amount/currency", "the invoice is in \(current.currency)")])
        }
        let outcome: PaymentOutcome
        do {
            outcome = try await desk.pay(ref: ref, amount: amount, date: date)
        } catch let error as OperatorError {
            throw APIError(status: .conflict, code: "conflict", message: error.message)
        } catch let error as ScenarioError {
            throw APIError.validation(Self.fieldErrors(error))
        }
        if !outcome.thanks.isEmpty {
            environment.onEnqueued(outcome.thanks.filter(\.created).map { _ in "email" }, true)
        }
        return json(
            .ok,
            [
                "invoice": outcome.invoice.jsonValue, "settled": .bool(outcome.settled),
                "cancelled": .number(String(outcome.cancelled)),
                "thanks": .array(outcome.thanks.map { .number(String($0.id)) }),
            ])
    }
}

extension Handlers {
    func hold(_ request: Request, ref: String, lift: Bool) async throws -> Response {
        try authorize(request, .enqueue)
        let desk = try desk()
        var until: String?
        var reason = "lifted"
        if !lift {
            guard case .object(let fields) = try await readJSON(request) else {
                throw APIError.validation([
                    FieldError("", "expected {\"reason\": \"dispute\", \"until\": \"YYYY-MM-DD\"}")
                ])
            }
            var errors: [FieldError] = []
            for key in fields.keys.sorted() where !["reason", "until"].contains(key) {
                errors.append(FieldError("/\(key)", "unknown field"))
            }
            let reasons = ["dispute", "promise-to-pay", "other"]
            if let r = fields["reason"]?.stringValue, reasons.contains(r) {
                reason = r
            } else {
                errors.append(FieldError("/reason", "must be one of \(reasons.joined(separator: ", "))"))
            }
            if let u = fields["until"]?.stringValue, Scenario.day(u) != nil {
                until = u
            } else {
                errors.append(FieldError("/until", "must be YYYY-MM-DD"))
            }
            if !errors.isEmpty { throw APIError.validation(errors) }
        }
        let outcome: HoldOutcome
        do {
            outcome = try await desk.hold(ref: ref, until: until, reason: reason)
        } catch let error as OperatorError {
            throw APIError.notFound(error.message)
        } catch let error as ScenarioError {
            throw APIError.validation(Self.fieldErrors(error))
        }
        return json(.ok, ["invoice": outcome.invoice.jsonValue, "jobs": .number(String(outcome.jobs))])
    }
}
