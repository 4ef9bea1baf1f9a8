// libFuzzer targets for Relance's hand-written parsers (make fuzz, docs/RELIABILITY.md).
// Compiled into one binary together with the sources of RelanceCore and the parsing files
// of RelanceEmail, and RelancePayments (module RelanceCore, so internal functions are reachable); the target is
// chosen with FUZZ_TARGET. Each target feeds the input to a parser and checks what it
// promises beyond "does not crash" (a round trip, a bound, no line break in a header).

import Foundation

/// The targets, by name.
let fuzzTargets: [String: (UnsafeRawBufferPointer) -> Void] = [
    "json": fuzzJSON,
    "smtp-replies": fuzzSMTPReplies,
    "smtp-capabilities": { bytes in _ = SMTPCapabilities(dialogue: String(decoding: bytes, as: UTF8.self)) },
    "delivery-reports": fuzzDeliveryReports,
    "postal-address": fuzzPostalAddress,
    "phone-number": fuzzPhoneNumber,
    "email-address": fuzzEmailAddress,
    "mime-header": fuzzMIMEHeader,
    "instant": fuzzInstant,
    "references": fuzzReferences,
    "tokens-file": fuzzTokensFile,
    "bounces": fuzzBounces,
    "camt": fuzzCamt,
]

let selectedTarget: (UnsafeRawBufferPointer) -> Void = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = fuzzTargets[name] else {
        FileHandle.standardError.write(
            Data("FUZZ_TARGET must be one of: \(fuzzTargets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    selectedTarget(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

/// Fails the run (libFuzzer keeps the input as a crasher).
func violated(_ what: String) -> Never {
    fatalError("invariant violated: \(what)")
}

func fuzzJSON(_ bytes: UnsafeRawBufferPointer) {
    guard let value = try? JSONValue.parse(data: Data(bytes)) else { return }
    // What the parser accepts, it writes back as text that parses to the same value.
    guard let again = try? JSONValue.parse(value.jsonText), again == value else {
        violated("JSON round trip: \(value.jsonText.prefix(200))")
    }
}

func fuzzSMTPReplies(_ bytes: UnsafeRawBufferPointer) {
    var reader = SMTPReplyReader()
    // Fed in two pieces, as reads split them.
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var replies = 0
    for piece in [UnsafeRawBufferPointer(rebasing: bytes[..<cut]), UnsafeRawBufferPointer(rebasing: bytes[cut...])] {
        reader.append(piece)
        do {
            while let reply = try reader.next() {
                replies += 1
                guard (0...999).contains(reply.code) else { violated("reply code \(reply.code)") }
                guard reply.text.count <= SMTPReplyReader.maximumTextCharacters + 3 else {
                    violated("reply text of \(reply.text.count) characters")
                }
            }
        } catch {
            return
        }
    }
    _ = replies
}

func fuzzDeliveryReports(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let fields = FormEncoding.decode(Substring(text))
    for provider in DeliveryReportParser.providers + ["unknown"] {
        _ = DeliveryReportParser.parse(provider: provider, fields: fields)
    }
}

func fuzzPostalAddress(_ bytes: UnsafeRawBufferPointer) {
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(
        String.init)
    for country in [nil, "FR", "GB", "DE", "BE"] as [String?] {
        _ = try? PostalAddress.normalize(lines, country: country)
    }
}

func fuzzPhoneNumber(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    for country in [nil, "FR", "GB", "DE", "US"] as [String?] {
        if let number = try? PhoneNumber.normalize(text, country: country) {
            // What is accepted is E.164, and stays itself when read again.
            guard PayerProfile.isE164(number.e164) else { violated("not E.164: \(number.e164)") }
            guard (try? PhoneNumber.normalize(number.e164, country: nil))?.e164 == number.e164 else {
                violated("E.164 not stable: \(number.e164)")
            }
        }
    }
}

func fuzzEmailAddress(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let address = try? EmailAddress(text) else { return }
    // An accepted address never carries what would break an SMTP command or a header.
    guard !address.value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
        violated("address with a line break: \(address.value.debugDescription)")
    }
    if let commands = try? SMTPEnvelope.commands(
        from: address, to: [address], size: 100, capabilities: SMTPCapabilities(pipelining: true, size: true))
    {
        for command in commands {
            guard command.filter({ $0 == 10 || $0 == 13 }).count == 2, command.suffix(2) == [13, 10] else {
                violated(
                    "command with a line break inside: \(String(decoding: command, as: UTF8.self).debugDescription)")
            }
        }
    }
}

func fuzzMIMEHeader(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let header = MIMEEncoding.foldHeader(name: "Subject", words: MIMEEncoding.encodeUnstructured(text))
    // As MIMEWriter writes a display name: its words folded into the header.
    let words = MIMEEncoding.encodeDisplayName(text).split(separator: " ").map(String.init) + ["<a@b.example>"]
    let name = MIMEEncoding.foldHeader(name: "To", words: words)
    for (what, value) in [("header", header), ("display name", name)] {
        // Lines end with CRLF, continue with a space, stay within RFC 5322's 998 bytes.
        let lines = value.utf8.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        for (index, line) in lines.enumerated() {
            guard line.last == 13, !line.dropLast().contains(13) else { violated("\(what): bare CR or LF") }
            guard line.count <= 1000 else { violated("\(what): a line of \(line.count) bytes") }
            if index > 0, line.first != 32 { violated("\(what): a continuation line without a space") }
        }
    }
}

func fuzzInstant(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let date = Timestamp.strictInstant(text) else { return }
    let stored = Timestamp.string(from: date)
    guard let again = Timestamp.strictInstant(stored), Timestamp.string(from: again) == stored else {
        violated("instant round trip: \(text.debugDescription) → \(stored)")
    }
}

func fuzzReferences(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    if TextRules.referenceProblem(text) == nil {
        guard !text.utf8.contains(0), TextRules.isNFC(text), !TextRules.hasControl(text) else {
            violated("reference accepted: \(text.debugDescription)")
        }
    }
    _ = TextRules.strictUTF8(bytes)
}

/// The API tokens file (`api.tokens_file`): an error never quotes a token, and every
/// token of a file that is accepted authenticates as its own name.
func fuzzTokensFile(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
    }
    let fields = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }.map {
        $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
    do {
        let tokens = try APITokens.parse(text, source: "tokens")
        for parts in fields where parts.count == 3 {
            guard tokens.authenticate(parts[2])?.name == parts[0] else {
                violated("token of '\(parts[0])' does not authenticate as it")
            }
        }
    } catch {
        let message = "\(error)"
        // A token is secret; the name and the scopes may be quoted (skip lines where the
        // token also appears as one of them, or as part of the file's own name).
        for parts in fields where parts.count >= 3 && parts[2].utf8.count >= 16 {
            let token = parts[2]
            if parts[0].contains(token) || parts[1].contains(token) || "tokens".contains(token) { continue }
            if message.contains(token) { violated("an error quotes a token: \(message.prefix(200))") }
        }
    }
}

/// An inbound e-mail (a bounce, a complaint, a reply): whatever the bytes, every string of
/// the report is one line without control characters, and the report's size is bounded by
/// the input's.
func fuzzBounces(_ bytes: UnsafeRawBufferPointer) {
    let report = BounceParser.parse(Array(bytes))
    var strings = [report.reason] + report.deliveredTo + Array(report.originalHeaders.values)
    strings += [report.feedbackType, report.originalMessageID].compactMap { $0 }
    for recipient in report.recipients {
        strings += [recipient.address]
        strings += [recipient.action, recipient.status, recipient.diagnostic, recipient.remoteMTA].compactMap { $0 }
        if (recipient.diagnostic?.count ?? 0) > 500 { violated("diagnostic of \(recipient.diagnostic!.count)") }
    }
    for string in strings where string.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
        violated("control character in \(string.debugDescription.prefix(200))")
    }
    // Every recipient needs an "@" and a byte either side of it in the input.
    guard report.recipients.count * 3 <= bytes.count else { violated("\(report.recipients.count) recipients") }
    if report.kind == .other || report.kind == .autoReply, !report.recipients.isEmpty {
        violated("recipients in a report of kind \(report.kind)")
    }
}

/// A bank statement (camt.053/054) through SafeXML and CamtReader: a document read has a
/// sound element table (parents before children, depth and count bounded by the input),
/// every error is one line with a position, and every line read keeps the reader's rules.
func fuzzCamt(_ bytes: UnsafeRawBufferPointer) {
    let input = Array(bytes)
    func oneLine(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
    do {
        let document = try SafeXML.parse(input)
        guard document.elements.count * 4 <= input.count else { violated("\(document.elements.count) elements") }
        for (index, element) in document.elements.enumerated() {
            if let parent = element.parent, parent >= index { violated("parent \(parent) of element \(index)") }
            if index > 0, element.parent == nil { violated("a second root at \(index)") }
            for child in element.children where child <= index || child >= document.elements.count {
                violated("child \(child) of element \(index)")
            }
            if element.text.utf8.count > input.count { violated("text longer than the input") }
            if document.path(of: index).split(separator: "/").count > SafeXML.Limits.standard.maxDepth {
                violated("an element deeper than the limit")
            }
        }
    } catch let error as SafeXML.Error {
        guard error.line >= 1, error.column >= 1, oneLine(error.description) else {
            violated("XML error: \(error.description.debugDescription.prefix(300))")
        }
    } catch {
        violated("not a SafeXML.Error: \(error)")
    }
    do {
        let document = try CamtReader.read(input)
        var ids = Set<String>()
        for line in document.lines {
            guard line.amount >= 0, CamtFields.isCurrency(line.currency), !line.id.isEmpty,
                ids.insert(line.id).inserted
            else { violated("line \(line.id): \(line.amount) \(line.currency)") }
            let texts =
                [line.debtorName, line.debtorIBAN, line.endToEndID, line.structuredReference, line.status]
                .compactMap { $0 } + line.unstructured + [line.account, line.statementID]
            for text in texts where !oneLine(text) || text.unicodeScalars.count > 140 || text.isEmpty {
                violated("text field \(text.debugDescription.prefix(200))")
            }
            if line.endToEndID == "NOTPROVIDED" { violated("NOTPROVIDED kept") }
        }
    } catch let error as CamtError {
        guard oneLine(error.description) else {
            violated("camt error: \(error.description.debugDescription.prefix(300))")
        }
    } catch {
        violated("not a CamtError: \(error)")
    }
}
