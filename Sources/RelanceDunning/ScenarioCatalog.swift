import Foundation
import RelanceCore
import RelanceTemplates
import Yams

/// The dunning scenarios of `Templates/scenarios/*.yaml` (or `scenarios.directory`):
/// loaded, checked against the templates, and picked for a payer by segment.
public struct ScenarioCatalog: Sendable {
    public let directory: String
    public let scenarios: [Scenario]

    /// Loads every `*.yaml`; reports every problem with its file (and line when YAML gives one).
    public static func load(directory: String, overrides: [String: Int] = [:]) throws -> ScenarioCatalog {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw ScenarioError("scenarios directory \(directory) does not exist")
        }
        var scenarios: [Scenario] = []
        var problems: [String] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = directory + "/" + name
            do {
                var scenario = try parse(String(contentsOfFile: path, encoding: .utf8), file: name)
                for (index, step) in scenario.steps.enumerated() {
                    if let offset = overrides["\(scenario.name).\(step.id)"] {
                        scenario.steps[index].offsetDays = offset
                    }
                }
                scenario.steps.sort { $0.offsetDays < $1.offsetDays }
                problems += scenario.validate().map { "\(name): \($0)" }
                if scenarios.contains(where: { $0.name == scenario.name }) {
                    problems.append("\(name): a scenario named '\(scenario.name)' is already defined")
                }
                scenarios.append(scenario)
            } catch {
                problems.append("\(error)")
            }
        }
        if scenarios.isEmpty && problems.isEmpty { problems.append("no scenario (*.yaml) in \(directory)") }
        if !problems.isEmpty { throw ScenarioError(problems.joined(separator: "\n")) }
        return ScenarioCatalog(directory: directory, scenarios: scenarios)
    }

    static func parse(_ text: String, file: String) throws -> Scenario {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ScenarioError("\(file): not valid YAML: \(error)") }
        guard let root = node?.mapping else { throw ScenarioError("\(file): expected a mapping at the top") }
        func at(_ node: Node?) -> String { (node?.mark?.line).map { "\(file):\($0)" } ?? file }
        let known: Set<String> = ["name", "description", "segments", "steps", "on_payment"]
        for key in root.keys.compactMap(\.string) where !known.contains(key) {
            throw ScenarioError("\(at(root[key])): unknown key '\(key)' (\(known.sorted().joined(separator: ", ")))")
        }
        guard let name = root["name"]?.string, !name.isEmpty else { throw ScenarioError("\(file): 'name' is missing") }
        func step(_ node: Node, id defaultID: String?, payment: Bool) throws -> Scenario.Step {
            guard let map = node.mapping else { throw ScenarioError("\(at(node)): a step is a mapping") }
            let stepKeys: Set<String> = ["id", "offset", "message", "channels", "when", "attach_letter"]
            for key in map.keys.compactMap(\.string) where !stepKeys.contains(key) {
                throw ScenarioError(
                    "\(at(map[key])): unknown step key '\(key)' (\(stepKeys.sorted().joined(separator: ", ")))")
            }
            guard let id = map["id"]?.string ?? defaultID else {
                throw ScenarioError("\(at(node)): a step needs an 'id'")
            }
            var offset = 0
            if !payment {
                guard let text = map["offset"]?.string, let days = Scenario.parseOffset(text) else {
                    throw ScenarioError(
                        "\(at(map["offset"] ?? node)): step '\(id)': 'offset' must be days such as -5d, 3d, 2w")
                }
                offset = days
            }
            guard let message = map["message"]?.string, !message.isEmpty else {
                throw ScenarioError("\(at(node)): step '\(id)': 'message' is missing")
            }
            var channels: [Scenario.ChannelChoice] = []
            for item in map["channels"]?.sequence ?? [] {
                guard let text = item.string, let choice = Scenario.ChannelChoice(text) else {
                    throw ScenarioError(
                        "\(at(item)): step '\(id)': channel '\(item.string ?? "?")' is not email, sms, letter or preferred"
                    )
                }
                channels.append(choice)
            }
            var conditions = Scenario.Conditions()
            if let when = map["when"]?.mapping {
                for key in when.keys.compactMap(\.string) where !["segments", "min_balance", "locales"].contains(key) {
                    throw ScenarioError(
                        "\(at(when[key])): step '\(id)': unknown condition '\(key)' (segments, min_balance, locales)")
                }
                conditions.segments = when["segments"]?.sequence?.compactMap(\.string)
                conditions.locales = when["locales"]?.sequence?.compactMap(\.string)
                if let text = when["min_balance"]?.string {
                    guard let amount = Invoice.parseAmount(text) else {
                        throw ScenarioError(
                            "\(at(when["min_balance"])): step '\(id)': min_balance '\(text)' is not a decimal")
                    }
                    conditions.minBalance = amount
                }
            }
            var attachLetter = false
            if let node = map["attach_letter"] {
                guard let flag = node.bool else {
                    throw ScenarioError("\(at(node)): step '\(id)': 'attach_letter' must be true or false")
                }
                attachLetter = flag
            }
            return Scenario.Step(
                id: id, offsetDays: offset, message: message, channels: channels, conditions: conditions,
                attachLetter: attachLetter)
        }
        let steps = try (root["steps"]?.sequence ?? []).map { try step($0, id: nil, payment: false) }
        let onPayment = try root["on_payment"].map { try step($0, id: "thanks", payment: true) }
        return Scenario(
            name: name, description: root["description"]?.string ?? "",
            segments: root["segments"]?.sequence?.compactMap(\.string) ?? [], steps: steps, onPayment: onPayment)
    }

    /// Every segment the scenarios name: their own names, their `segments`, and their
    /// steps' `when.segments`.
    public var segments: Set<String> {
        var names: Set<String> = []
        for scenario in scenarios {
            names.insert(scenario.name)
            names.formUnion(scenario.segments)
            for step in scenario.steps + [scenario.onPayment].compactMap({ $0 }) {
                names.formUnion(step.conditions.segments ?? [])
            }
        }
        return names
    }

    /// The scenario named `name`, else the one for the payer's segment, else `standard`.
    public func scenario(named name: String? = nil, for payer: PayerProfile) -> Scenario? {
        if let name { return scenarios.first { $0.name == name } }
        return scenarios.first { $0.segments.contains(payer.segment) } ?? scenarios.first { $0.name == "standard" }
    }

    /// Every step's message exists and has the parts its channels need, in every locale.
    public func check(against catalog: TemplateCatalog) -> [String] {
        var problems: [String] = []
        for scenario in scenarios {
            for step in scenario.steps + [scenario.onPayment].compactMap({ $0 }) {
                guard catalog.hasMessage(step.message) else {
                    problems.append("\(scenario.name)/\(step.id): unknown message '\(step.message)'")
                    continue
                }
                var channels = Set(
                    step.channels.compactMap { choice -> Channel? in
                        if case .channel(let c) = choice { return c } else { return nil }
                    })
                // An attached letter is rendered from the message's letter parts.
                if step.attachLetter { channels.insert(.letter) }
                // `preferred` takes the payer's first usable channel the message has parts for.
                for channel in channels.sorted(by: { $0.rawValue < $1.rawValue }) {
                    let parts = channel.requiredParts
                    for locale in catalog.locales {
                        for part in parts {
                            if (try? catalog.resolve(message: step.message, part: part, locale: locale, segment: nil))
                                == nil
                            {
                                problems.append(
                                    "\(scenario.name)/\(step.id): \(step.message) has no \(part.rawValue) for \(locale) (needed by \(channel.rawValue))"
                                )
                            }
                        }
                    }
                }
            }
        }
        return problems
    }
}
