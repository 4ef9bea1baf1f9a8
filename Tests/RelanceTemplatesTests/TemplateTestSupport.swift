import Foundation
import RelanceCore

@testable import RelanceTemplates

/// A templates directory made up for one test, removed when the value goes away.
final class TemporaryTemplates {
    let path: String

    /// `files`: path relative to the directory → content.
    init(_ files: [String: String]) throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("relance-templates-\(UUID().uuidString)").path
        for (relative, content) in files {
            let full = path + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func load(defaultLocale: String = "en") throws -> TemplateCatalog {
        try TemplateCatalog.load(directory: path, defaultLocale: defaultLocale)
    }
}

enum Fixtures {
    /// Monday 23 November 2026, 10:00 UTC.
    static let today = Date(timeIntervalSince1970: 1_795_428_000)

    static func payer(
        locale: String = "fr-FR", segment: String = "standard", timezone: String = "Europe/Paris",
        kind: PayerKind = .business
    ) -> PayerProfile {
        PayerProfile(
            ref: "C-00412", name: "Dupont & Fils <SARL>", locale: locale, timezone: timezone, segment: segment,
            email: "compta@dupont.example", kind: kind)
    }

    static let creditor = Creditor(
        name: "Lumen Conseil", email: "compta@lumen.example", phone: "+33 1 84 60 12 34",
        website: "https://lumen.example",
        address: ["12 rue de la Paix", "75002 Paris"],
        registration: "SAS au capital de 50 000 € – RCS Paris 123 456 789",
        iban: "FR76 3000 6000 0112 3456 7890 189", bic: "AGRIFRPP")

    /// Renders `template` as an email-text part (no escaping) with the context built
    /// from `data` for `payer`: what a template author sees.
    static func renderText(
        _ template: String, data: String, payer: PayerProfile = payer(), creditor: Creditor = creditor,
        caseRef: String? = "F-2026-0142", today: Date = today
    ) throws -> String {
        let templates = try TemporaryTemplates(["probe/en/email-text.mustache": template])
        let catalog = try templates.load(defaultLocale: "en")
        let context = try MessageContext.build(
            payer: payer, creditor: creditor, caseRef: caseRef, data: data, today: today)
        let rendered = try catalog.render(message: "probe", parts: [.emailText], payer: payer, context: context)
        return rendered[.emailText] ?? ""
    }

    /// Narrow and ordinary no-break spaces as plain spaces, so expectations stay readable.
    static func plainSpaces(_ s: String) -> String {
        s.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
    }
}
