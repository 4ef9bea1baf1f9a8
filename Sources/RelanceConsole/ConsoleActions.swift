import Foundation
import HTTPTypes
import Hummingbird
import RelanceCore
import RelanceDunning
import RelanceStore

/// Signing in and out, the language switch, and the admins' actions: each behind a
/// confirmation page, a CSRF token and the audit trail.
extension Console {
    // MARK: sign in and out

    func loginPage(_ request: Request, _ context: ConsoleContext, error: String? = nil, name: String = "")
        async throws -> Response
    {
        if error == nil, visitor(request) != nil { return Self.redirect(try safeNext(request) ?? "/") }
        if !users.current().users.isEmpty { overviewSnapshot.warm(store: store, now: environment.clock.now()) }
        let language = language(request)
        // The login form's own CSRF token: a cookie and a field that must match (before
        // any session exists, there is nothing else to tie the form to).
        let token = ConsoleSessions.randomToken()
        var body: [String: Any] = [
            "login_token": token, "next": try safeNext(request) ?? "/", "name_value": name,
        ]
        if let error {
            body["error"] = error
        } else if users.current().users.isEmpty {
            body["error"] = language.text("no_users")
        }
        var response = page(
            request, nil, title: language.text("login"), template: "login", context: body,
            status: error == nil ? .ok : .unauthorized)
        response.setCookie(cookie(request, name: Self.loginCookie, value: token, maxAge: 3600))
        return response
    }

    /// Only a path of this console: never another site (an open redirect). A path of
    /// printable ASCII (what a browser sends, percent-encoded), starting with one `/`; no
    /// backslash, no tab or other control character (browsers drop them: `/\t/evil`
    /// would be `//evil`).
    func safeNext(_ request: Request, _ value: String? = nil) throws -> String? {
        guard let next = value ?? Self.queryFields(request)["next"] else { return nil }
        guard Self.isLocalPath(next) else { return nil }
        return next
    }

    static func isLocalPath(_ path: String) -> Bool {
        path.utf8.count <= 2000 && path.hasPrefix("/") && !path.hasPrefix("//")
            && path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }
    }

    func login(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let fields = try await formFields(request)
        guard let posted = fields["login_token"], let cookie = request.cookies[Self.loginCookie]?.value,
            ConsoleSessions.same(posted, cookie)
        else { throw ConsoleStop.csrf }
        let language = language(request)
        let name = String((fields["name"] ?? "").prefix(64))
        let password = fields["password"] ?? ""
        guard sessions.startVerification() else {
            return try await loginPage(request, context, error: language.text("login_busy"), name: name)
        }
        defer { sessions.endVerification() }
        guard sessions.reserveAttempt(user: name, client: context.client) else {
            if auditThrottle.shouldRecord(name) {
                audit.record(user: name, action: "login", target: "", outcome: "throttled", client: context.client)
            }
            return try await loginPage(request, context, error: language.text("login_throttled"), name: name)
        }
        let user = users.current().user(named: name)
        var accepted = false
        if let user {
            accepted = await PasswordHash.verify(password, hash: user.hash)
        } else {
            await PasswordHash.spendVerification(password)
        }
        guard accepted, let user else {
            audit.record(user: name, action: "login", target: "", outcome: "refused", client: context.client)
            return try await loginPage(request, context, error: language.text("login_failed"), name: name)
        }
        sessions.attemptSucceeded(user: name, client: context.client)
        let token = sessions.open(user: user.name, role: user.role, hash: user.hash)
        audit.record(
            user: user.name, action: "login", target: user.role.rawValue, outcome: "ok", client: context.client)
        var response = Self.redirect(try safeNext(request, fields["next"]) ?? "/")
        response.setCookie(self.cookie(request, name: Self.sessionCookie, value: token, maxAge: nil))
        response.setCookie(self.cookie(request, name: Self.loginCookie, value: "", maxAge: 0))
        return response
    }

    func logout(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .signedIn)
        _ = try await form(request, visitor)
        sessions.close(visitor.token)
        audit.record(user: visitor.session.user, action: "logout", target: "", outcome: "ok", client: context.client)
        var response = Self.redirect("/login")
        response.setCookie(cookie(request, name: Self.sessionCookie, value: "", maxAge: 0))
        return response
    }

    func switchLanguage(_ request: Request) -> Response {
        let fields = Self.queryFields(request)
        let chosen = fields["set"].flatMap { ConsoleLanguage(rawValue: $0) } ?? .en
        let back = fields["back"]
        var response = Self.redirect(((try? safeNext(request, back)) ?? nil) ?? "/")
        var cookie = cookie(request, name: Self.languageCookie, value: chosen.rawValue, maxAge: 365 * 86400)
        cookie = Cookie(
            name: cookie.name, value: cookie.value, maxAge: 365 * 86400, path: "/", secure: cookie.secure,
            httpOnly: true, sameSite: .lax)
        response.setCookie(cookie)
        return response
    }

    // MARK: settling a job

    static let decisions: [OperatorDecision] = [.requeue, .markSent, .cancel]

    func confirmResolve(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        let visitor = try gate(request, .action)
        guard let decision = try query(request, "decision").flatMap(OperatorDecision.init(rawValue:)) else {
            throw ConsoleStop.badInput("decision: must be one of requeue, mark-sent, cancel")
        }
        guard let job = try await store.job(id: id) else { throw ConsoleStop.notFound }
        let t = visitor.language
        return page(
            request, visitor, title: t.text("confirm_title"), template: "confirm",
            context: [
                "question":
                    "\(t.text(decision.rawValue)): \(t.text("job")) \(job.id) (\(job.template), \(job.channel), \(job.state.rawValue))",
                "action": "/jobs/\(id)/resolve", "csrf": visitor.session.csrf, "back_href": "/jobs/\(id)",
                "fields": [["id": "note", "label": t.text("note"), "max": 500, "value": "", "choices_list": false]],
                "hidden": [["name": "decision", "value": decision.rawValue]],
            ])
    }

    func resolve(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        let visitor = try gate(request, .action)
        let fields = try await form(request, visitor)
        guard let decision = fields["decision"].flatMap(OperatorDecision.init(rawValue:)) else {
            throw ConsoleStop.badInput("decision: must be one of requeue, mark-sent, cancel")
        }
        let note = (fields["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty, note.count <= 500 else {
            throw ConsoleStop.badInput("note: say why, in 1 to 500 characters")
        }
        let user = visitor.session.user
        let t = visitor.language
        do {
            // The same rules as `relance jobs resolve`, never forced from the console.
            guard
                try await store.resolve(
                    jobID: id, decision: decision, note: "\(user) (console): \(note)", force: false) != nil
            else { throw ConsoleStop.notFound }
        } catch let error as OperatorError {
            audit.record(
                user: user, action: "resolve \(decision.rawValue)", target: "job \(id)",
                outcome: "refused: \(error.message)", client: context.client)
            return messagePage(
                request, status: .conflict, text: t.text("refused") + " " + error.message, back: "/jobs/\(id)")
        }
        if decision == .requeue { environment.onRequeued() }
        audit.record(
            user: user, action: "resolve \(decision.rawValue)", target: "job \(id)", outcome: "ok",
            client: context.client)
        throw ConsoleStop.redirect("/jobs/\(id)")
    }

    // MARK: cancelling a case

    func confirmCancel(_ request: Request, _ context: ConsoleContext, caseRef: String) async throws -> Response {
        let visitor = try gate(request, .action)
        let t = visitor.language
        return page(
            request, visitor, title: t.text("confirm_title"), template: "confirm",
            context: [
                "question": "\(t.text("cancel_case")): \(caseRef)",
                "action": "/cases/\(Self.escapePath(caseRef))/cancel", "csrf": visitor.session.csrf,
                "back_href": "/jobs?case=\(Self.escapePath(caseRef))",
                "fields": [
                    [
                        "id": "reason", "label": t.text("reason"), "choices_list": true,
                        "choices": CancelReason.operatorChoices.map(\.stored),
                    ] as [String: Any]
                ],
            ])
    }

    func cancelCase(_ request: Request, _ context: ConsoleContext, caseRef: String) async throws -> Response {
        let visitor = try gate(request, .action)
        let fields = try await form(request, visitor)
        guard let reason = fields["reason"].flatMap(CancelReason.init(operatorChoice:)) else {
            throw ConsoleStop.badInput("reason: must be one of paid, dispute, manual")
        }
        let result = try await store.cancelCase(caseRef, reason: reason)
        audit.record(
            user: visitor.session.user, action: "cancel case (\(reason.stored))", target: "case \(caseRef)",
            outcome: "ok: \(result.cancelled) cancelled, \(result.inFlight) in flight", client: context.client)
        return messagePage(
            request, status: .ok,
            text: "\(caseRef): \(result.cancelled) + \(result.inFlight) (\(reason.stored))",
            kind: "flash", back: "/jobs?case=\(Self.escapePath(caseRef))")
    }

    // MARK: holding an invoice

    static let holdReasons = ["dispute", "promise-to-pay", "other"]

    func confirmHold(_ request: Request, _ context: ConsoleContext, ref: String, lift: Bool) async throws -> Response {
        let visitor = try gate(request, .action)
        guard let invoice = try await store.invoice(ref: ref) else { throw ConsoleStop.notFound }
        let t = visitor.language
        var fields: [[String: Any]] = []
        if !lift {
            fields = [
                ["id": "until", "label": t.text("until"), "max": 10, "value": "", "choices_list": false],
                ["id": "reason", "label": t.text("reason"), "choices_list": true, "choices": Self.holdReasons],
            ]
        }
        return page(
            request, visitor, title: t.text("confirm_title"), template: "confirm",
            context: [
                "question": "\(t.text(lift ? "release" : "hold_invoice")): \(invoice.ref)",
                "action": "/invoices/\(Self.escapePath(ref))/\(lift ? "release" : "hold")",
                "csrf": visitor.session.csrf, "back_href": "/payers/\(Self.escapePath(invoice.payerRef))",
                "fields": fields,
            ])
    }

    func hold(_ request: Request, _ context: ConsoleContext, ref: String, lift: Bool) async throws -> Response {
        let visitor = try gate(request, .action)
        let fields = try await form(request, visitor)
        let composer = environment.composer()
        guard let scenarios = composer.scenarios else {
            throw ConsoleStop.badInput("invoices are not available: the dunning scenarios are not loaded")
        }
        let desk = InvoiceDesk(store: store, composer: composer, scenarios: scenarios, clock: environment.clock)
        var until: String?
        var reason = "lifted"
        if !lift {
            guard let day = fields["until"], Scenario.day(day) != nil else {
                throw ConsoleStop.badInput("until: must be YYYY-MM-DD")
            }
            guard let chosen = fields["reason"], Self.holdReasons.contains(chosen) else {
                throw ConsoleStop.badInput("reason: must be one of \(Self.holdReasons.joined(separator: ", "))")
            }
            until = day
            reason = chosen
        }
        let t = visitor.language
        let action = lift ? "release hold" : "hold until \(until ?? "") (\(reason))"
        do {
            let outcome = try await desk.hold(ref: ref, until: until, reason: reason)
            audit.record(
                user: visitor.session.user, action: action, target: "invoice \(ref)",
                outcome: "ok: \(outcome.jobs) job(s)", client: context.client)
            throw ConsoleStop.redirect("/payers/\(Self.escapePath(outcome.invoice.payerRef))")
        } catch let error as OperatorError {
            audit.record(
                user: visitor.session.user, action: action, target: "invoice \(ref)",
                outcome: "refused: \(error.message)", client: context.client)
            return messagePage(request, status: .conflict, text: t.text("refused") + " " + error.message)
        } catch let error as ScenarioError {
            return messagePage(request, status: .badRequest, text: t.text("refused") + " \(error)")
        }
    }
}
