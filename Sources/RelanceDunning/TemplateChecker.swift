import Foundation
import RelanceCore
import RelanceSMS
import RelanceTemplates

/// `relance templates check`: renders every message × locale × part × variant with
/// the sample data in `samples/<message>.json`, and reports every problem.
public struct TemplateChecker {
    let catalog: TemplateCatalog
    let creditor: Creditor
    let sms: SMSTextSettings
    /// The most segments an SMS may take with the sample data: the shipped templates
    /// keep within 2 (306 GSM-7 characters), so that real data (longer names, more
    /// invoices) still fits under `sms.max_segments`.
    let smsBudget: Int

    public init(
        catalog: TemplateCatalog, creditor: Creditor, sms: SMSTextSettings = .init(), smsBudget: Int = 2
    ) {
        self.catalog = catalog
        self.creditor = creditor
        self.sms = sms
        self.smsBudget = min(smsBudget, sms.maxSegments)
    }

    public struct Report {
        public var rendered = 0
        public var problems: [String] = []
        /// Each SMS rendered with the sample data: "message/locale (segment)" and its measure.
        public var sms: [(name: String, measure: SMSMeasure)] = []
    }

    public func run(today: Date = Date()) -> Report {
        var report = Report()
        let sampleCreditor =
            creditor.name.isEmpty
            ? Creditor(
                name: "Exemple SAS", email: "compta@exemple.fr", phone: "+33 1 23 45 67 89",
                address: ["1 rue de la Paix", "75002 Paris"],
                registration: "RCS Paris 123 456 789", iban: "FR76 3000 6000 0112 3456 7890 189", bic: "AGRIFRPP")
            : creditor
        for message in catalog.messages {
            let samplePath = catalog.directory + "/samples/\(message).json"
            var data = "{}"
            if let text = try? String(contentsOfFile: samplePath, encoding: .utf8) {
                data = text
            } else {
                report.problems.append("samples/\(message).json: missing; rendered with empty data")
            }
            let segments = ["standard", "consumer"] + catalog.variants(of: message)
            for locale in catalog.locales {
                for segment in Set(segments).sorted() {
                    // "consumer" renders for a consumer by kind (the legal texts differ).
                    let payer = PayerProfile(
                        ref: "SAMPLE", name: "Payeur <Exemple> & Fils", locale: locale, segment: segment,
                        kind: segment == "consumer" ? .consumer : .business)
                    do {
                        let parts = TemplatePart.allCases.filter { catalog.parts(of: message).contains($0) }
                        let context = try MessageContext.build(
                            payer: payer, creditor: sampleCreditor, caseRef: "C-SAMPLE", data: data, today: today,
                            deadlineDays: nil, language: catalog.language(message: message, parts: parts, payer: payer))
                        let rendered = try catalog.render(
                            message: message, parts: parts, payer: payer, context: context, creditor: sampleCreditor)
                        report.rendered += parts.count
                        // The partials that show only the creditor are rendered once and
                        // kept; what a message gets must not change for it.
                        let afresh = try catalog.render(message: message, parts: parts, payer: payer, context: context)
                        for part in parts where afresh[part] != rendered[part] {
                            report.problems.append(
                                "\(message)/\(locale)/\(part.rawValue) (\(segment)): differs when the creditor's partials are rendered once (a Relance bug: please report it)"
                            )
                        }
                        for (part, text) in rendered.parts
                        where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                            report.problems.append("\(message)/\(locale)/\(part.rawValue) (\(segment)): renders empty")
                        }
                        if let text = rendered[.sms] {
                            let name = "\(message)/\(locale)/sms (\(segment))"
                            do {
                                let prepared = try SMSText.prepare(
                                    text, sanitizing: sms.sanitizing, maxSegments: smsBudget)
                                report.sms.append((name, prepared.measure))
                            } catch {
                                report.problems.append("\(name): \(error) with the sample data")
                            }
                        }
                    } catch {
                        report.problems.append("\(message)/\(locale) (\(segment)): \(error)")
                    }
                }
            }
        }
        report.problems += catalog.missingPartials()
        // A payer whose language has no templates gets the default locale's: it must have them.
        for message in catalog.messages {
            for part in catalog.parts(of: message).sorted(by: { $0.rawValue < $1.rawValue })
            where (try? catalog.resolve(message: message, part: part, locale: catalog.defaultLocale, segment: nil))
                == nil
            {
                report.problems.append(
                    "\(message)/\(part.rawValue): no template for the default locale '\(catalog.defaultLocale)' (templates.default_locale), which payers of other languages get"
                )
            }
        }
        return report
    }
}
