import Foundation
import Testing

@testable import RelanceCore

@Suite("Scenario: planning an invoice's steps")
struct ScenarioTests {
    static let standard = Scenario(
        name: "standard", segments: ["standard"],
        steps: [
            .init(id: "pre-due", offsetDays: -5, message: "pre-due", channels: [.channel(.email)]),
            .init(id: "reminder-1", offsetDays: 3, message: "reminder-1", channels: [.channel(.email)]),
            .init(
                id: "reminder-2", offsetDays: 10, message: "reminder-2", channels: [.channel(.email), .channel(.sms)]),
            .init(
                id: "formal-notice", offsetDays: 20, message: "formal-notice",
                channels: [.channel(.letter), .channel(.email)], conditions: .init(minBalance: 15)),
        ],
        onPayment: .init(id: "thanks", offsetDays: 0, message: "thanks", channels: [.preferred]))

    static let payer = PayerProfile(ref: "P", name: "Dupont", locale: "fr-FR", segment: "standard")

    @Test("days are counted from the due date, across months and years, one job per usable channel")
    func days() throws {
        let plan = try Self.standard.plan(
            caseRef: "F-1", dueDay: "2026-12-29", balance: 100, payer: Self.payer, usable: [.email, .sms, .letter])
        #expect(
            plan.jobs.map(\.description) == [
                "2026-12-24 pre-due pre-due email", "2027-01-01 reminder-1 reminder-1 email",
                "2027-01-08 reminder-2 reminder-2 email", "2027-01-08 reminder-2 reminder-2 sms",
                "2027-01-18 formal-notice formal-notice letter", "2027-01-18 formal-notice formal-notice email",
            ])
        #expect(plan.jobs.map(\.idempotencyKey).contains("F-1:reminder-2:sms"))
        #expect(plan.skipped.isEmpty)
    }

    @Test("channels without a usable contact point, unmet conditions and past days are skipped, with the reason")
    func skipped() throws {
        let plan = try Self.standard.plan(
            caseRef: "F-2", dueDay: "2026-03-01", balance: 10, payer: Self.payer, usable: [.email],
            from: "2026-03-01")
        #expect(
            plan.jobs.map(\.description) == [
                "2026-03-04 reminder-1 reminder-1 email", "2026-03-11 reminder-2 reminder-2 email",
            ])
        #expect(
            plan.skipped == [
                "pre-due: 2026-02-24 is already past", "reminder-2: no usable sms contact point",
                "formal-notice: its conditions do not hold",
            ])
    }

    @Test("preferred takes the first usable channel the message has templates for")
    func preferred() throws {
        let scenario = Scenario(
            name: "s", segments: [],
            steps: [.init(id: "thanks", offsetDays: 0, message: "thanks", channels: [.preferred])])
        let plan = try scenario.plan(
            caseRef: "C", dueDay: "2026-01-10", balance: 0, payer: Self.payer, usable: [.letter, .sms, .email]
        ) { message, channel in channel != .letter }
        #expect(plan.jobs.map(\.channel) == [.sms])
    }

    @Test("conditions: segment, minimum balance, locale prefix")
    func conditions() {
        let payer = PayerProfile(ref: "P", name: "X", locale: "fr-BE", segment: "consumer")
        #expect(
            Scenario.Conditions(segments: ["consumer"], minBalance: 10, locales: ["fr"]).hold(for: payer, balance: 10))
        #expect(!Scenario.Conditions(segments: ["standard"]).hold(for: payer, balance: 10))
        #expect(!Scenario.Conditions(minBalance: 10.01).hold(for: payer, balance: 10))
        #expect(!Scenario.Conditions(locales: ["en", "fr-FR"]).hold(for: payer, balance: 10))
    }

    @Test("offsets and validation")
    func validation() throws {
        #expect(
            Scenario.parseOffset("-5d") == -5 && Scenario.parseOffset("2w") == 14 && Scenario.parseOffset("10") == 10)
        #expect(Scenario.parseOffset("soon") == nil)
        var broken = Self.standard
        broken.steps.append(.init(id: "pre-due", offsetDays: 1, message: "x", channels: []))
        #expect(
            broken.validate() == [
                "step 'pre-due' is defined twice", "step 'pre-due' has no channel",
                "step 'pre-due' (1d) comes before 'formal-notice' (20d): list the steps in time order",
            ])
        #expect(throws: ScenarioError.self) {
            try Self.standard.plan(caseRef: "C", dueDay: "2026-02-30", balance: 0, payer: Self.payer, usable: [.email])
        }
    }
}
