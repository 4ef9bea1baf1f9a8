import Foundation
import RelanceCore

/// The parts of one message, rendered, with what the trace keeps as evidence.
public struct RenderedMessage: Sendable {
    public var parts: [TemplatePart: String]
    /// The template files used, relative to the templates directory.
    public var files: [String]
    /// The locale of the templates found (may differ from the payer's after fallback).
    public var locale: String
    /// The segment variant used, if any.
    public var variant: String?

    public subscript(part: TemplatePart) -> String? { parts[part] }

    /// SHA-256 over the parts in a fixed order, for the `rendered` trace event.
    public var sha256: String {
        var joined = ""
        for part in TemplatePart.allCases {
            if let text = parts[part] { joined += part.rawValue + "\u{0}" + text + "\u{0}" }
        }
        return SHA256.hex(joined)
    }

    /// The trace detail of the `rendered` event.
    public var traceDetail: JSONValue {
        var detail: [String: JSONValue] = [
            "templates": .array(files.map(JSONValue.string)), "locale": .string(locale), "sha256": .string(sha256),
        ]
        if let variant { detail["variant"] = .string(variant) }
        return .object(detail)
    }
}

extension TemplateCatalog {
    /// Renders the given parts of a message for a payer. `creditor` is the one in
    /// `context`: given, the partials that show only it are taken rendered already.
    public func render(
        message: String, parts: [TemplatePart], payer: PayerProfile, context: [String: Any], creditor: Creditor? = nil
    ) throws -> RenderedMessage {
        guard hasMessage(message) else {
            throw TemplateError.notFound("unknown template '\(message)' (known: \(messages.joined(separator: ", ")))")
        }
        let htmlLibrary = library(for: payer.locale, escapingHTML: true, creditor: creditor)
        let textLibrary = library(for: payer.locale, escapingHTML: false, creditor: creditor)
        var rendered: [TemplatePart: String] = [:]
        var files: [String] = []
        var locale = payer.locale
        var variant: String?
        for (i, part) in parts.enumerated() {
            let resolved = try resolve(message: message, part: part, locale: payer.locale, segment: payer.segment)
            var text = resolved.template.render(context, library: part.escapesHTML ? htmlLibrary : textLibrary)
            if part == .emailSubject {
                // A subject is one line: collapse every kind of line break and run of spaces.
                text = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            }
            rendered[part] = text
            files.append(resolved.path)
            if i == 0 {
                locale = resolved.locale
                variant = resolved.variant
            }
        }
        return RenderedMessage(parts: rendered, files: files, locale: locale, variant: variant)
    }
}
