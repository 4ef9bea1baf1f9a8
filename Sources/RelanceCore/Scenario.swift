import Foundation

/// A dunning scenario: the steps that look after one invoice, each an offset in days
/// from its due date (negative = before), a message and the channels to send it on.
/// Scenarios are shipped in `Templates/scenarios/*.yaml`; a payer's segment picks one.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String
    /// The segments this scenario is the default for.
    public var segments: [String]
    public var steps: [Step]
    /// Sent once when the invoice is paid in full.
    public var onPayment: Step?

    public init(name: String, description: String = "", segments: [String], steps: [Step], onPayment: Step? = nil) {
        self.name = name
        self.description = description
        self.segments = segments
        self.steps = steps
        self.onPayment = onPayment
    }

    public enum ChannelChoice: Sendable, Equatable, CustomStringConvertible {
        case channel(Channel)
        /// The payer's first channel with a usable contact point.
        case preferred

        public init?(_ text: String) {
            if text == "preferred" {
                self = .preferred
            } else if let channel = Channel(rawValue: text) {
                self = .channel(channel)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .channel(let channel): channel.rawValue
            case .preferred: "preferred"
            }
        }
    }

    /// When a step applies; every condition given must hold.
    public struct Conditions: Sendable, Equatable {
        public var segments: [String]?
        /// The invoice's balance must be at least this (same currency).
        public var minBalance: Decimal?
        /// Locale prefixes, e.g. `fr` matches `fr-FR` and `fr-BE`.
        public var locales: [String]?

        public init(segments: [String]? = nil, minBalance: Decimal? = nil, locales: [String]? = nil) {
            self.segments = segments
            self.minBalance = minBalance
            self.locales = locales
        }

        public func hold(for payer: PayerProfile, balance: Decimal) -> Bool {
            if let segments, !segments.contains(payer.segment) { return false }
            if let minBalance, balance < minBalance { return false }
            if let locales {
                let locale = payer.locale.lowercased()
                guard locales.contains(where: { locale == $0.lowercased() || locale.hasPrefix($0.lowercased() + "-") })
                else { return false }
            }
            return true
        }
    }

    public struct Step: Sendable, Equatable {
        public var id: String
        /// Days from the due date; 0 for the payment step.
        public var offsetDays: Int
        public var message: String
        public var channels: [ChannelChoice]
        public var conditions: Conditions
        /// The e-mail of this step carries the step's letter as a PDF (a formal notice
        /// sent by post and by e-mail, the same document).
        public var attachLetter: Bool

        public init(
            id: String, offsetDays: Int, message: String, channels: [ChannelChoice], conditions: Conditions = .init(),
            attachLetter: Bool = false
        ) {
            self.id = id
            self.offsetDays = offsetDays
            self.message = message
            self.channels = channels
            self.conditions = conditions
            self.attachLetter = attachLetter
        }
    }

    /// One message the scenario schedules for an invoice.
    public struct PlannedJob: Sendable, Equatable, CustomStringConvertible {
        public var step: String
        public var message: String
        public var channel: Channel
        /// The calendar day (YYYY-MM-DD) it falls due; the channel's send window then applies.
        public var day: String
        /// `<case>:<step>:<channel>`: repeating the expansion inserts nothing new.
        public var idempotencyKey: String
        /// An e-mail that carries the step's letter as a PDF attachment.
        public var attachLetter: Bool = false

        public var description: String { "\(day) \(step) \(message) \(channel.rawValue)" }
    }

    /// The jobs this scenario schedules for an invoice due on `dueDay` (YYYY-MM-DD) with
    /// `balance` left, for `payer`. `usable` lists the payer's channels that have a usable
    /// contact point, in the payer's order of preference; a step's channel without one
    /// is skipped (the trace of the expansion says so), and `preferred` takes the first.
    /// Steps whose day is before `from` (a late registration) are not scheduled.
    /// `supports` says whether a message has the parts a channel needs (the templates).
    public func plan(
        caseRef: String, dueDay: String, balance: Decimal, payer: PayerProfile, usable: [Channel], from: String? = nil,
        supports: (String, Channel) -> Bool = { _, _ in true }
    ) throws -> (jobs: [PlannedJob], skipped: [String]) {
        guard let due = Self.day(dueDay) else { throw ScenarioError("due date '\(dueDay)' is not YYYY-MM-DD") }
        var jobs: [PlannedJob] = []
        var skipped: [String] = []
        for step in steps {
            guard step.conditions.hold(for: payer, balance: balance) else {
                skipped.append("\(step.id): its conditions do not hold")
                continue
            }
            let day = Self.format(due.addingTimeInterval(Double(step.offsetDays) * 86400))
            if let from, day < from {
                skipped.append("\(step.id): \(day) is already past")
                continue
            }
            var chosen: [Channel] = []
            for choice in step.channels {
                switch choice {
                case .preferred:
                    if let first = usable.first(where: { !chosen.contains($0) && supports(step.message, $0) }) {
                        chosen.append(first)
                    } else {
                        skipped.append("\(step.id): no usable preferred channel")
                    }
                case .channel(let channel):
                    if !supports(step.message, channel) {
                        skipped.append("\(step.id): \(step.message) has no \(channel.rawValue) template")
                    } else if usable.contains(channel) {
                        if !chosen.contains(channel) { chosen.append(channel) }
                    } else {
                        skipped.append("\(step.id): no usable \(channel.rawValue) contact point")
                    }
                }
            }
            for channel in chosen {
                jobs.append(
                    PlannedJob(
                        step: step.id, message: step.message, channel: channel, day: day,
                        idempotencyKey: StepKey(caseRef: caseRef, step: step.id, channel: channel.rawValue).description,
                        attachLetter: step.attachLetter && channel == .email))
            }
        }
        return (jobs, skipped)
    }

    /// Checks what a scenario must be, whatever the templates: names, unique ordered steps.
    public func validate() -> [String] {
        var problems: [String] = []
        if name.isEmpty { problems.append("the scenario has no name") }
        if steps.isEmpty { problems.append("the scenario has no step") }
        var seen = Set<String>()
        for step in steps {
            if !seen.insert(step.id).inserted { problems.append("step '\(step.id)' is defined twice") }
            if step.channels.isEmpty { problems.append("step '\(step.id)' has no channel") }
        }
        for (earlier, later) in zip(steps, steps.dropFirst()) where earlier.offsetDays > later.offsetDays {
            problems.append(
                "step '\(later.id)' (\(later.offsetDays)d) comes before '\(earlier.id)' (\(earlier.offsetDays)d): "
                    + "list the steps in time order")
        }
        return problems
    }

    static let utc = TimeZone(identifier: "UTC")!

    public static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, text.count == 10 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components),
            calendar.dateComponents([.year, .month, .day], from: date) == components
        else { return nil }
        return date
    }

    public static func format(_ date: Date) -> String {
        Timestamp.isoDate(of: date, in: utc)
    }

    /// `-5d`, `3d`, `10`, `2w`: whole days.
    public static func parseOffset(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("w"), let weeks = Int(trimmed.dropLast()) { return weeks * 7 }
        if trimmed.hasSuffix("d"), let days = Int(trimmed.dropLast()) { return days }
        return Int(trimmed)
    }
}

public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The problems by field, when the error names fields (pointers into the request).
    public var problems: [FieldError] = []
    public init(_ message: String) { self.message = message }
    public init(problems: [FieldError]) {
        self.problems = problems
        self.message = problems.map { "\($0.pointer.dropFirst()): \($0.message)" }.joined(separator: "; ")
    }
    public var description: String { message }
}
