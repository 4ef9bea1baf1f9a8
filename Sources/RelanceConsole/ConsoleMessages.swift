import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RelanceCore
import RelanceDunning
import RelanceStore
import RelanceTemplates

/// A job's page, its message rendered now, and the templates' previews.
extension Console {
    func job(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let t = visitor.language
        guard let job = try await store.job(id: id) else { throw ConsoleStop.notFound }
        var fields: [[String: String]] = [
            ["label": t.text("payer"), "value": job.payerRef], ["label": t.text("case"), "value": job.caseRef ?? "—"],
            ["label": t.text("template"), "value": job.template], ["label": t.text("channel"), "value": job.channel],
            ["label": t.text("state"), "value": job.state.rawValue],
            ["label": t.text("attempt"), "value": String(job.attempt)],
            ["label": t.text("run_at"), "value": job.runAt], ["label": t.text("created"), "value": job.createdAt],
        ]
        if let error = job.lastError { fields.append(["label": t.text("last_error"), "value": error]) }
        let decisions = Self.decisions.filter { job.state.isFinished && $0.refusal(for: job.state) == nil }.map {
            ["href": "/jobs/\(id)/resolve?decision=\($0.rawValue)", "label": t.text($0.rawValue)]
        }
        // What each attempt handed to its provider, as archived (the trace's hash).
        let sent = try await store.events(jobID: id).filter { $0.kind == .rendered }.map { event -> [String: Any] in
            let sha = event.detail["content_sha256"]?.stringValue
            return [
                "attempt": event.attempt, "sha256": sha ?? "—", "archived": sha != nil,
                "href": "/jobs/\(id)/content?attempt=\(event.attempt)",
            ]
        }
        var body: [String: Any] = [
            "fields": fields, "settle": !decisions.isEmpty, "decisions": decisions,
            "timeline": try await timeline([job]), "sent": sent, "has_sent": !sent.isEmpty,
        ]
        body.merge(try await preview(job, base: "/jobs/\(id)", t), uniquingKeysWith: { $1 })
        return page(request, visitor, title: "\(t.text("job")) \(id)", template: "job", context: body)
    }

    /// The message rendered now: subject, text, a frame for the HTML, the SMS as the
    /// gateway would get it, a link to the letter's PDF.
    func preview(_ job: Job, base: String, _ t: ConsoleLanguage) async throws -> [String: Any] {
        var out: [String: Any] = [:]
        do {
            guard let payer = try await store.payer(ref: job.payerRef) else {
                return ["preview_error": "payer \(job.payerRef) does not exist"]
            }
            var subject = job
            if subject.attempt == 0 { subject.attempt = 1 }
            let composer = environment.composer()
            switch RelanceCore.Channel(rawValue: job.channel) {
            case .email:
                let rendered = try composer.render(job: subject, payer: payer)
                if let s = rendered.parts[.emailSubject] { out["subject"] = s }
                if let text = rendered.parts[.emailText] {
                    out["text"] = text
                    out["text_label"] = t.text("text_part")
                }
                if rendered.parts[.emailHTML] != nil { out["html_href"] = base + "/preview.html" }
            case .sms:
                let composed = try composer.compose(job: subject, payer: payer)
                if case .sms(let sms) = composed.payload {
                    out["text"] = sms.text
                    out["text_label"] = "\(t.text("sms_text")) (\(sms.encoding.rawValue), \(sms.segments))"
                }
            case .letter:
                out["pdf_href"] = base + "/letter.pdf"
            case nil:
                out["preview_error"] = "unknown channel \(job.channel)"
            }
        } catch {
            out["preview_error"] = DispatchFailure.composing(error).message
        }
        return out
    }

    /// The archived bytes of one attempt: an e-mail's MIME source and an SMS as plain text
    /// (never rendered: the browser shows them as they are), a letter as its PDF.
    func sentContent(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        _ = try gate(request, .personalData)
        guard let given = try query(request, "attempt", max: 6), let attempt = Int(given), attempt >= 1 else {
            throw ConsoleStop.badInput("attempt: must be an attempt number")
        }
        let found = try await store.sentContent(jobID: id, attempt: attempt)
        guard case .found(_, let message) = found else { throw ConsoleStop.badInput(found.explanation(jobID: id)) }
        var headers = HTTPFields()
        let pdf = message.mediaType == ArchivedMessage.letter
        headers[.contentType] = pdf ? "application/pdf" : "text/plain; charset=utf-8"
        headers[.contentDisposition] = "inline; filename=\"job-\(id)-\(attempt).\(pdf ? "pdf" : "txt")\""
        headers[HTTPField.Name("X-Content-SHA256")!] = message.sha256
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: message.bytes)))
    }

    /// The case file a lawyer gets (`relance case export`): history, hash chain, messages.
    func exportCase(_ request: Request, _ context: ConsoleContext, caseRef: String) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let exported: CaseExport.Exported
        do {
            exported = try await CaseExport(store: store, clock: environment.clock).export(caseRef: caseRef)
        } catch let error as ScenarioError {
            throw ConsoleStop.badInput(error.message)
        }
        audit.record(
            user: visitor.session.user, action: "export case", target: "case \(caseRef)",
            outcome: exported.problems.isEmpty ? "ok: chain intact" : "ok: CHAIN BROKEN", client: context.client)
        var headers = HTTPFields()
        headers[.contentType] = "application/zip"
        let safe = String(
            caseRef.unicodeScalars.map {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "_"
            })
        headers[.contentDisposition] = "attachment; filename=\"case-\(safe).zip\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: exported.zip)))
    }

    func previewHTML(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        _ = try gate(request, .personalData)
        guard let job = try await store.job(id: id) else { throw ConsoleStop.notFound }
        return try await htmlPart(of: job)
    }

    func htmlPart(of job: Job) async throws -> Response {
        guard let payer = try await store.payer(ref: job.payerRef) else { throw ConsoleStop.notFound }
        var subject = job
        if subject.attempt == 0 { subject.attempt = 1 }
        let rendered: RenderedMessage
        do { rendered = try environment.composer().render(job: subject, payer: payer) } catch {
            throw ConsoleStop.badInput(DispatchFailure.composing(error).message)
        }
        guard let html = rendered.parts[.emailHTML] else { throw ConsoleStop.notFound }
        var response = Self.html(html)
        // Its own document, sandboxed: no script, no form, no request anywhere.
        response.headers[.contentSecurityPolicy] = ConsoleHeaders.previewPolicy
        response.headers[.xFrameOptions] = "SAMEORIGIN"
        return response
    }

    func letterPDF(_ request: Request, _ context: ConsoleContext, id: Int64) async throws -> Response {
        _ = try gate(request, .personalData)
        guard let job = try await store.job(id: id) else { throw ConsoleStop.notFound }
        return try await pdf(of: job, name: "job-\(id)")
    }

    func pdf(of job: Job, name: String) async throws -> Response {
        guard job.channel == RelanceCore.Channel.letter.rawValue, let payer = try await store.payer(ref: job.payerRef)
        else {
            throw ConsoleStop.notFound
        }
        var subject = job
        if subject.attempt == 0 { subject.attempt = 1 }
        let letter: [UInt8]
        do { letter = try environment.composer().letter(job: subject, payer: payer).letter.pdf } catch {
            throw ConsoleStop.badInput(DispatchFailure.composing(error).message)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/pdf"
        headers[.contentDisposition] = "inline; filename=\"\(name).pdf\""
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: letter)))
    }

    // MARK: templates

    func templatesPage(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let catalog = environment.composer().catalog
        let parts: [(RelanceCore.Channel, TemplatePart)] = [(.email, .emailText), (.sms, .sms), (.letter, .letter)]
        let messages = catalog.messages.map { message -> [String: Any] in
            let channels = parts.filter {
                (try? catalog.resolve(message: message, part: $0.1, locale: catalog.defaultLocale, segment: nil)) != nil
            }
            return [
                "message": message, "locales": catalog.locales.joined(separator: ", "),
                "channels": channels.map(\.0.rawValue).joined(separator: ", "),
            ]
        }
        return page(
            request, visitor, title: visitor.language.text("templates"), template: "templates",
            context: ["messages": messages, "all_channels": RelanceCore.Channel.allCases.map(\.rawValue)])
    }

    /// A message for a stored payer with the sample data of `samples/<message>.json`.
    func sampleJob(_ request: Request) throws -> Job {
        guard let payer = try query(request, "payer"), let message = try query(request, "message", max: 100),
            let channel = try query(request, "channel", max: 10), RelanceCore.Channel(rawValue: channel) != nil
        else { throw ConsoleStop.badInput("give a payer, a message and a channel") }
        guard environment.composer().catalog.messages.contains(message) else {
            throw ConsoleStop.badInput("message: no such template")
        }
        let data =
            (try? String(contentsOfFile: environment.templatesDirectory + "/samples/\(message).json", encoding: .utf8))
            ?? "{}"
        return Job(
            id: 0, payerRef: payer, caseRef: nil, channel: channel, template: message, data: data, runAt: "", dueAt: "",
            createdAt: "", updatedAt: "")
    }

    func templatePreview(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let job = try sampleJob(request)
        switch try query(request, "part", max: 10) {
        case "html": return try await htmlPart(of: job)
        case "pdf": return try await pdf(of: job, name: "preview-\(job.template)")
        default: break
        }
        let base =
            "/templates/preview?"
            + FormEncoding.encode([
                ("payer", job.payerRef), ("message", job.template), ("channel", job.channel),
            ])
        var body = try await preview(job, base: base, visitor.language)
        if body["html_href"] != nil { body["html_href"] = base + "&part=html" }
        if body["pdf_href"] != nil { body["pdf_href"] = base + "&part=pdf" }
        body["fields"] = [
            ["label": visitor.language.text("payer"), "value": job.payerRef],
            ["label": visitor.language.text("message"), "value": job.template],
            ["label": visitor.language.text("channel"), "value": job.channel],
        ]
        body["timeline"] = [Any]()
        return page(
            request, visitor, title: "\(visitor.language.text("preview")): \(job.template)", template: "job",
            context: body)
    }
}
