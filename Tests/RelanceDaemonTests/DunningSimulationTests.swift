import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelancePayments
import RelanceStore
import Testing

/// 45 simulated days of the shipped scenarios, on an injected clock, for four payers:
/// a French business on `standard` (e-mail, SMS and post), a British strategic customer
/// (`strategic`, e-mail and post), a French craftsman on `small-business` with only a
/// phone and a postal address, and a French business reached by e-mail that pays by bank
/// transfer with the RF reference (read from a camt.053 statement, not told by anyone). Every message that goes out is checked against the table
/// below, written by hand from the scenario files, the send windows (SMS Monday to Friday
/// 10:00–13:00 and 14:00–20:00 in the payer's time zone, not on French public holidays:
/// 11 November 2026 is one) and the script of payments and holds.
@Suite("Dunning scenarios on a simulated clock", .serialized)
struct DunningSimulationTests {
    static let dupre = PayerProfile(
        ref: "A-DUPRE", name: "Boulangerie Dupré", locale: "fr-FR", timezone: "Europe/Paris", segment: "standard",
        email: "compta@dupre.example.fr", phone: "06 12 34 56 78",
        postalAddress: ["Boulangerie Dupré", "12 rue des Tanneurs", "69002 Lyon"], channels: [.email, .sms, .letter])
    static let hargreaves = PayerProfile(
        ref: "B-HARGREAVES", name: "Hargreaves & Sons Ltd", locale: "en-GB", timezone: "Europe/London",
        segment: "strategic", email: "accounts@hargreaves.example.co.uk",
        postalAddress: ["Hargreaves & Sons Ltd", "4 Mill Lane", "Leeds", "LS1 4AB", "UNITED KINGDOM"],
        channels: [.email, .letter])
    static let martin = PayerProfile(
        ref: "C-MARTIN", name: "Menuiserie Martin", locale: "fr-FR", timezone: "Europe/Paris",
        segment: "small-business", phone: "06 98 76 54 32",
        postalAddress: ["Menuiserie Martin", "3 chemin des Vignes", "21200 Beaune"], channels: [.sms, .letter])
    static let leroy = PayerProfile(
        ref: "D-LEROY", name: "Cabinet Leroy", locale: "fr-FR", timezone: "Europe/Paris", segment: "standard",
        email: "compta@leroy.example.fr", channels: [.email])

    /// Local date, weekday and time in the payer's time zone; payer; message; channel; the
    /// invoices the message is about. Ordered by instant, then payer, channel and message.
    static let expected = """
        2026-11-04 Wed 09:00  A-DUPRE       pre-due        email   F-1004
        2026-11-05 Thu 10:00  C-MARTIN      pre-due        sms     F-3002
        2026-11-08 Sun 09:00  A-DUPRE       pre-due        email   F-1001
        2026-11-09 Mon 09:00  B-HARGREAVES  statement      email   INV-2001
        2026-11-12 Thu 09:00  A-DUPRE       pre-due        email   F-1002
        2026-11-12 Thu 10:00  C-MARTIN      reminder-1     sms     F-3002
        2026-11-14 Sat 09:00  A-DUPRE       pre-due        email   F-1003
        2026-11-15 Sun 09:00  D-LEROY       pre-due        email   F-4001
        2026-11-16 Mon 09:00  A-DUPRE       reminder-1     email   F-1001
        2026-11-16 Mon 10:00  C-MARTIN      pre-due        sms     F-3001+F-3003
        2026-11-18 Wed 09:00  C-MARTIN      reminder-2     letter  F-3002
        2026-11-18 Wed 10:00  C-MARTIN      reminder-2     sms     F-3002
        2026-11-20 Fri 09:00  A-DUPRE       reminder-1     email   F-1002
        2026-11-20 Fri 09:00  B-HARGREAVES  statement      email   INV-2002+INV-2003+INV-2004
        2026-11-21 Sat 09:00  B-HARGREAVES  statement      email   INV-2001
        2026-11-21 Sat 11:00  A-DUPRE       thanks         email   F-1002
        2026-11-22 Sun 09:00  A-DUPRE       reminder-1     email   F-1003
        2026-11-23 Mon 09:00  A-DUPRE       reminder-2     email   F-1001
        2026-11-23 Mon 09:00  D-LEROY       reminder-1     email   F-4001
        2026-11-23 Mon 10:00  A-DUPRE       reminder-2     sms     F-1001
        2026-11-23 Mon 10:00  C-MARTIN      reminder-1     sms     F-3001+F-3003
        2026-11-25 Wed 09:00  A-DUPRE       reminder-1     email   F-1004
        2026-11-25 Wed 09:00  A-DUPRE       reminder-2     email   F-1004
        2026-11-25 Wed 10:00  A-DUPRE       reminder-2     sms     F-1004
        2026-11-25 Wed 10:00  D-LEROY       thanks         email   F-4001
        2026-11-28 Sat 09:00  C-MARTIN      formal-notice  letter  F-3002
        2026-11-28 Sat 09:00  C-MARTIN      reminder-2     letter  F-3001+F-3003
        2026-11-29 Sun 09:00  A-DUPRE       formal-notice  email   F-1004
        2026-11-29 Sun 09:00  A-DUPRE       reminder-2     email   F-1003
        2026-11-29 Sun 09:00  A-DUPRE       formal-notice  letter  F-1004
        2026-11-30 Mon 10:00  A-DUPRE       reminder-2     sms     F-1003
        2026-11-30 Mon 10:00  C-MARTIN      reminder-2     sms     F-3001+F-3003
        2026-12-01 Tue 09:00  B-HARGREAVES  reminder-2     email   INV-2001
        2026-12-02 Wed 09:00  B-HARGREAVES  statement      email   INV-2002+INV-2003+INV-2004
        2026-12-03 Thu 09:00  A-DUPRE       formal-notice  email   F-1001
        2026-12-03 Thu 09:00  A-DUPRE       formal-notice  letter  F-1001
        2026-12-04 Fri 10:00  B-HARGREAVES  thanks         email   INV-2001
        2026-12-08 Tue 09:00  C-MARTIN      formal-notice  letter  F-3001+F-3003
        2026-12-08 Tue 15:00  A-DUPRE       thanks         email   F-1001
        2026-12-09 Wed 09:00  A-DUPRE       formal-notice  email   F-1003
        2026-12-09 Wed 09:00  A-DUPRE       formal-notice  letter  F-1003
        2026-12-12 Sat 09:00  B-HARGREAVES  reminder-2     email   INV-2002+INV-2003+INV-2004
        2026-12-14 Mon 11:00  B-HARGREAVES  thanks         email   INV-2003
        2026-12-14 Mon 16:00  C-MARTIN      thanks         sms     F-3001
        """

    /// Monday 2 November 2026, 08:00 in Paris; the simulation ends 45 days later.
    static let start = "2026-11-02T07:00:00.000Z"

    /// One run shared by the tests below (each reads it, none changes what it asserts on).
    static let shared = Task { try await simulate() }

    static func simulate() async throws -> Simulation {
        let sim = try await Simulation(start: start, payers: [dupre, hargreaves, martin, leroy])
        func open(_ ref: String, _ payer: String, _ amount: String, _ currency: String, due: String) async throws {
            _ = try await sim.desk.open(
                ref: ref, payerRef: payer, amount: Decimal(string: amount)!, currency: currency,
                issueDate: "2026-11-02", dueDate: due)
        }
        try await open("F-1001", "A-DUPRE", "1200.00", "EUR", due: "2026-11-13")
        try await open("F-1002", "A-DUPRE", "480.00", "EUR", due: "2026-11-17")
        try await open("F-1003", "A-DUPRE", "900.00", "EUR", due: "2026-11-19")
        try await open("F-1004", "A-DUPRE", "750.00", "EUR", due: "2026-11-09")
        try await open("INV-2001", "B-HARGREAVES", "4800.00", "GBP", due: "2026-11-16")
        try await open("INV-2002", "B-HARGREAVES", "1250.00", "GBP", due: "2026-11-27")
        try await open("INV-2003", "B-HARGREAVES", "2000.00", "GBP", due: "2026-11-27")
        try await open("INV-2004", "B-HARGREAVES", "350.00", "GBP", due: "2026-11-27")
        try await open("F-3001", "C-MARTIN", "650.00", "EUR", due: "2026-11-18")
        try await open("F-3003", "C-MARTIN", "150.00", "EUR", due: "2026-11-18")
        try await open("F-3002", "C-MARTIN", "400.00", "EUR", due: "2026-11-08")
        try await open("F-4001", "D-LEROY", "300.00", "EUR", due: "2026-11-20")
        func pay(_ ref: String, _ amount: String) -> (Simulation) async throws -> Void {
            { sim in _ = try await sim.desk.pay(ref: ref, amount: Decimal(string: amount)!) }
        }
        let script: [Simulation.Action] = [
            // F-4001: paid by transfer at D+5 with the RF reference its reminders show; the
            // bank's statement says so the same morning.
            .init(at: sim.at("2026-11-25", "10:00", for: "D-LEROY"), label: "F-4001 statement") { sim in
                let invoice = try await sim.runtime.store.invoice(ref: "F-4001")
                let document = try CamtReader.read(Array(Self.statement(reference: invoice?.reference ?? "").utf8))
                let report = try await PaymentDesk(store: sim.runtime.store, invoices: sim.desk).importLines(
                    document.lines)
                #expect(report.count(.matched) == 1, "\(report.text)")
            },
            // F-1004: disputed from D+2 through D+15.
            .init(at: sim.at("2026-11-11", "10:00", for: "A-DUPRE"), label: "hold F-1004") { sim in
                _ = try await sim.desk.hold(ref: "F-1004", until: "2026-11-24", reason: "dispute")
            },
            // F-1002 paid in full at D+4.
            .init(
                at: sim.at("2026-11-21", "11:00", for: "A-DUPRE"), label: "F-1002 paid", action: pay("F-1002", "480.00")
            ),
            // F-1003: 300.00 of 900.00 at D+8.
            .init(
                at: sim.at("2026-11-27", "12:00", for: "A-DUPRE"), label: "F-1003 part", action: pay("F-1003", "300.00")
            ),
            .init(
                at: sim.at("2026-12-04", "10:00", for: "B-HARGREAVES"), label: "INV-2001 paid",
                action: pay("INV-2001", "4800.00")),
            .init(
                at: sim.at("2026-12-14", "11:00", for: "B-HARGREAVES"), label: "INV-2003 paid",
                action: pay("INV-2003", "2000.00")),
            .init(
                at: sim.at("2026-12-08", "15:00", for: "A-DUPRE"), label: "F-1001 paid",
                action: pay("F-1001", "1200.00")),
            .init(
                at: sim.at("2026-12-14", "16:00", for: "C-MARTIN"), label: "F-3001 paid",
                action: pay("F-3001", "650.00")),
        ]
        try await sim.run(until: Timestamp.date(from: start)!.addingTimeInterval(45 * 86400), script: script)
        return sim
    }

    /// The camt.053 statement of 25 November 2026: one credit of 300.00 EUR from Cabinet
    /// Leroy, the creditor reference given as the payer's bank passes it on.
    static func statement(reference: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
          <BkToCstmrStmt>
            <GrpHdr><MsgId>STMT-20261125</MsgId><CreDtTm>2026-11-25T06:00:00</CreDtTm></GrpHdr>
            <Stmt>
              <Id>STMT-20261125</Id><CreDtTm>2026-11-25T06:00:00</CreDtTm>
              <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
              <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>
              <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1300.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>
              <Ntry>
                <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
                <BookgDt><Dt>2026-11-25</Dt></BookgDt><ValDt><Dt>2026-11-25</Dt></ValDt>
                <AcctSvcrRef>BK-20261125-1</AcctSvcrRef>
                <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
                <NtryDtls><TxDtls>
                  <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
                  <RltdPties><Dbtr><Pty><Nm>Cabinet Leroy</Nm></Pty></Dbtr>
                    <DbtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></DbtrAcct></RltdPties>
                  <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
                    <Ref>\(reference)</Ref></CdtrRefInf></Strd></RmtInf>
                </TxDtls></NtryDtls>
              </Ntry>
            </Stmt>
          </BkToCstmrStmt>
        </Document>
        """
    }

    static func normalized(_ lines: [String]) -> [String] {
        lines.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { !$0.isEmpty }
    }

    @Test("every message, channel and date of 45 days matches the expected table")
    func fortyFiveDays() async throws {
        let sim = try await Self.shared.value
        let sent = try await sim.sent()
        let actual = Self.normalized(sent.map(\.description))
        let expected = Self.normalized(Self.expected.split(separator: "\n").map(String.init))
        #expect(actual == expected, "\(actual.joined(separator: "\n"))")
        // Nothing else is left waiting or failed: every other job was cancelled for a
        // reason (paid, merged) or is scheduled after the 45 days.
        let jobs = try await sim.runtime.store.jobs(JobFilter(limit: 10_000))
        let failed = jobs.filter { [.failed, .dead, .uncertain, .running].contains($0.state) }
        #expect(failed.isEmpty, "\(failed.map { "\($0.id) \($0.idempotencyKey ?? "") \($0.state)" })")
        let later = jobs.filter { $0.state == .queued }.map { $0.idempotencyKey ?? "" }.sorted()
        // The strategic formal notices fall due at D+45, after the simulation's end.
        #expect(
            later == [
                "INV-2002:formal-notice:email", "INV-2002:formal-notice:letter", "INV-2004:formal-notice:email",
                "INV-2004:formal-notice:letter",
            ])
    }

    /// `relance report` on the simulated data, worked out by hand from the table above:
    /// a message listing several invoices is sent once but reaches each of them; "paid"
    /// counts invoices settled within 7 or 30 days of the step's day; "recovered" adds
    /// every payment (partial ones too) on or after it. F-1001, F-1002, INV-2001, INV-2003,
    /// F-3001 and F-4001 (by transfer, read from the statement) were settled; F-1003 got
    /// 300.00 of 900.00.
    static let expectedReport = """
        scenario        step              sent  delivered  undelivered  complaints  invoices  paid<=7d  paid<=30d  recovered after the step
        small-business  pre-due              2          0            0           0         3         0          1  650.00 EUR
        small-business  reminder-1           2          0            0           0         3         0          1  650.00 EUR
        small-business  reminder-2           4          0            0           0         3         0          1  650.00 EUR
        small-business  formal-notice        2          0            0           0         3         1          1  650.00 EUR
        small-business  thanks               1          0            0           0         1         -          -  -
        standard        pre-due              5          0            0           0         5         0          3  2280.00 EUR
        standard        reminder-1           5          0            0           0         5         2          3  2280.00 EUR
        standard        reminder-2           6          0            0           0         3         0          1  1200.00 EUR
        standard        formal-notice        6          0            0           0         3         1          1  1200.00 EUR
        standard        thanks               3          0            0           0         3         -          -  -
        strategic       statement-before     2          0            0           0         4         0          2  6800.00 GBP
        strategic       statement-after      2          0            0           0         4         0          2  6800.00 GBP
        strategic       reminder-2           2          0            0           0         4         2          2  6800.00 GBP
        strategic       thanks               2          0            0           0         2         -          -  -
        """

    @Test("the effectiveness report on the simulated data matches the table")
    func report() async throws {
        let sim = try await Self.shared.value
        let figures = try await StepReport.figures(
            store: sim.runtime.store, scenarios: sim.scenarios, since: nil, scenario: nil)
        #expect(
            Self.normalized(StepReport.table(figures))
                == Self.normalized(Self.expectedReport.split(separator: "\n").map(String.init)),
            "\(StepReport.table(figures).joined(separator: "\n"))")
        // Since a day, for one scenario: only the steps sent from then on.
        let late = try await StepReport.figures(
            store: sim.runtime.store, scenarios: sim.scenarios, since: "2026-12-03", scenario: "standard")
        #expect(late.map(\.step) == ["formal-notice", "thanks"])
        #expect(late.first?.invoices == 2 && late.first?.paidWithin7Days == 1)
    }

    @Test("a payment at D+4 cancels every later step and thanks exactly once")
    func paymentAtDPlus4() async throws {
        let sim = try await Self.shared.value
        let jobs = try await sim.runtime.store.jobs(JobFilter(caseRef: "F-1002", limit: 100))
        let byKey = Dictionary(uniqueKeysWithValues: jobs.map { ($0.idempotencyKey ?? "", $0) })
        for key in ["reminder-2:email", "reminder-2:sms", "formal-notice:letter", "formal-notice:email"] {
            let job = try #require(byKey["F-1002:" + key])
            #expect(job.state == .cancelled, "\(key)")
            let cancelled = try await sim.runtime.store.events(jobID: job.id).filter { $0.kind == .cancelled }
            #expect(cancelled.map { $0.detail["reason"] } == ["paid"], "\(key)")
        }
        #expect(jobs.filter { $0.template == "thanks" }.map(\.state) == [.sent])
        // A second payment notice for a settled invoice is refused and thanks nobody again.
        await #expect(throws: (any Error).self) { _ = try await sim.desk.pay(ref: "F-1002", amount: 1) }
        let again = try await sim.runtime.store.jobs(JobFilter(caseRef: "F-1002", limit: 100))
        #expect(again.filter { $0.template == "thanks" }.count == 1)
    }

    @Test(
        "a transfer with the RF reference, read from the bank statement, stops the reminders that would have followed")
    func transferWithTheReference() async throws {
        let sim = try await Self.shared.value
        let invoice = try #require(try await sim.runtime.store.invoice(ref: "F-4001"))
        #expect(invoice.status == .paid && invoice.paidAt == "2026-11-25")
        let reference = try #require(invoice.reference.flatMap { RFReference($0) })
        // The reminder the payer acted on showed the reference and carried the QR code.
        let sent = try await sim.sent().filter { $0.cases == ["F-4001"] && $0.message == "reminder-1" }
        let text = try sim.text(of: try #require(sent.first))
        #expect(text.contains(reference.grouped), "\(text)")
        let jobs = try await sim.runtime.store.jobs(JobFilter(caseRef: "F-4001", limit: 100))
        let byKey = Dictionary(uniqueKeysWithValues: jobs.map { ($0.idempotencyKey ?? "", $0) })
        for key in ["reminder-2:email", "formal-notice:email"] {
            let job = try #require(byKey["F-4001:" + key])
            #expect(job.state == .cancelled, "\(key)")
            let cancelled = try await sim.runtime.store.events(jobID: job.id).filter { $0.kind == .cancelled }
            #expect(cancelled.map { $0.detail["reason"] } == ["paid"], "\(key)")
        }
        #expect(jobs.filter { $0.template == "thanks" }.map(\.state) == [.sent])
        // The statement imported again changes nothing.
        let document = try CamtReader.read(Array(Self.statement(reference: reference.text).utf8))
        let again = try await PaymentDesk(store: sim.runtime.store, invoices: sim.desk).importLines(document.lines)
        #expect(again.count(.duplicate) == 1 && again.count(.matched) == 0)
        #expect(try await sim.runtime.store.jobs(JobFilter(caseRef: "F-4001", limit: 100)).count == jobs.count)
    }

    @Test("a partial payment at D+8 shows in the D+10 reminder's balance")
    func partialPaymentAtDPlus8() async throws {
        let sim = try await Self.shared.value
        let sent = try await sim.sent().filter { $0.cases == ["F-1003"] }
        let reminder1 = try sim.text(of: sent.first { $0.message == "reminder-1" }!)
        let reminder2 = try sim.text(of: sent.first { $0.message == "reminder-2" && $0.channel == "email" }!)
        let sms = try sim.text(of: sent.first { $0.message == "reminder-2" && $0.channel == "sms" }!)
        let before = "900,00", after = "600,00"
        #expect(reminder1.contains(before) && !reminder1.contains(after), "\(reminder1)")
        #expect(reminder2.contains(after) && !reminder2.contains(before), "\(reminder2)")
        #expect(sms.contains(after) && !sms.contains(before), "\(sms)")
    }

    @Test("a hold from D+2 to D+15 moves the D+3 and D+10 steps after D+15, with the reason in the trace")
    func holdFromDPlus2ToDPlus15() async throws {
        let sim = try await Self.shared.value
        let jobs = try await sim.runtime.store.jobs(JobFilter(caseRef: "F-1004", limit: 100))
        for key in ["F-1004:reminder-1:email", "F-1004:reminder-2:email", "F-1004:reminder-2:sms"] {
            let job = try #require(jobs.first { $0.idempotencyKey == key })
            let events = try await sim.runtime.store.events(jobID: job.id)
            let held = try #require(events.first { $0.kind == .deferred && $0.detail["reason"] == "hold" }, "\(key)")
            #expect(held.detail["hold_reason"] == "dispute")
            let accepted = try #require(events.first { $0.kind == .accepted })
            // Paris is UTC+1 in November: 09:00 on 25 November is 08:00 UTC.
            #expect(accepted.at >= "2026-11-25T08:00:00.000Z", "\(key) went out at \(accepted.at)")
        }
    }

    @Test("three invoices of one payer due the same day make one reminder listing all three")
    func threeInvoicesOneMessage() async throws {
        let sim = try await Self.shared.value
        let sent = try await sim.sent().filter { $0.payer == "B-HARGREAVES" && $0.message == "reminder-2" }
        let merged = try #require(sent.first { $0.cases.count == 3 })
        let text = try sim.text(of: merged)
        for ref in ["INV-2002", "INV-2003", "INV-2004"] { #expect(text.contains(ref), "\(text)") }
        #expect(text.contains("3 600,00") || text.contains("3,600.00"), "the total of the three: \(text)")
        var into: [String] = []
        for job in try await sim.runtime.store.jobs(JobFilter(payerRef: "B-HARGREAVES", limit: 100))
        where job.state == .cancelled {
            let events = try await sim.runtime.store.events(jobID: job.id)
            if events.contains(where: { $0.detail["into_job"] == .number(String(merged.jobID)) }) {
                into.append(job.caseRef ?? "")
            }
        }
        #expect(into.sorted() == ["INV-2003", "INV-2004"])
    }

    @Test("the formal notice e-mail of the standard scenario carries the letter as a PDF")
    func formalNoticeCarriesTheLetter() async throws {
        let sim = try await Self.shared.value
        let notice = try #require(
            try await sim.sent().first {
                $0.cases == ["F-1001"] && $0.message == "formal-notice" && $0.channel == "email"
            })
        let eml = try String(contentsOfFile: "\(sim.root)/state/outbox/job-\(notice.jobID)-1.eml", encoding: .utf8)
        #expect(eml.contains("Content-Type: application/pdf"))
        #expect(eml.contains("formal-notice-F-1001.pdf"))
    }
}

@Suite("Channel fallback on a simulated clock")
struct ChannelFallbackSimulationTests {
    /// A French business whose e-mail address no longer exists (the mail server answers
    /// 550 5.1.1); it has a postal address and a phone, in that order of preference.
    static let roux = PayerProfile(
        ref: "D-ROUX", name: "Garage Roux", locale: "fr-FR", timezone: "Europe/Paris", segment: "standard",
        email: "inconnu@roux.example.fr", phone: "06 11 22 33 44",
        postalAddress: ["Garage Roux", "8 avenue Jean Jaurès", "69007 Lyon"], channels: [.email, .letter, .sms])

    /// Registered on Tuesday 10 November, due the day before: the pre-due step is past.
    /// Reminder-1 bounces and goes out as a letter the same morning; from then on the
    /// address is suppressed, so reminder-2's and the formal notice's e-mails move to the
    /// letter too (the formal notice's letter exists already: it is not sent twice).
    static let expected = """
        2026-11-12 Thu 09:00  D-ROUX  reminder-1     letter  F-4001
        2026-11-19 Thu 09:00  D-ROUX  reminder-2     letter  F-4001
        2026-11-19 Thu 10:00  D-ROUX  reminder-2     sms     F-4001
        2026-11-29 Sun 09:00  D-ROUX  formal-notice  letter  F-4001
        """

    @Test("a hard bounce on the reminder-1 e-mail makes that step, and the later e-mail steps, go out as letters")
    func hardBounceGoesOutAsALetter() async throws {
        let sim = try await Simulation(
            start: "2026-11-10T07:00:00.000Z", payers: [Self.roux], bouncing: ["inconnu@roux.example.fr"])
        _ = try await sim.desk.open(
            ref: "F-4001", payerRef: "D-ROUX", amount: 600, currency: "EUR", issueDate: "2026-10-10",
            dueDate: "2026-11-09")
        try await sim.run(until: Timestamp.date(from: "2026-12-01T07:00:00.000Z")!, script: [])
        let actual = DunningSimulationTests.normalized(try await sim.sent().map(\.description))
        #expect(actual == DunningSimulationTests.normalized(Self.expected.split(separator: "\n").map(String.init)))

        let jobs = Dictionary(
            uniqueKeysWithValues: try await sim.runtime.store.jobs(JobFilter(limit: 100)).map {
                ($0.idempotencyKey ?? "", $0)
            })
        let bounced = try #require(jobs["F-4001:reminder-1:email"])
        #expect(bounced.state == .failed && bounced.lastError?.contains("5.1.1") == true)
        let hop = try #require(try await sim.runtime.store.events(jobID: bounced.id).first { $0.kind == .rescued })
        #expect(hop.detail["to_channel"] == "letter" && hop.detail["suppressed"] == "email")
        #expect(hop.detail["new_job"] == .number(String(jobs["F-4001:reminder-1:letter"]!.id)))
        for key in ["F-4001:reminder-2:email", "F-4001:formal-notice:email"] {
            let job = try #require(jobs[key])
            #expect(job.state == .failed && job.lastError?.contains("suppressed") == true, "\(key)")
        }
        #expect(try await sim.runtime.store.suppressedChannels(payerRef: "D-ROUX") == [.email])
    }

    @Test("an SMS for a payer without a usable number fails at once, not when the window opens days later")
    func unusableNumberFailsBeforeTheWindow() async throws {
        // Saturday 2026-11-21, 12:00 in Paris: the SMS window (Monday to Friday) is closed.
        let payer = PayerProfile(
            ref: "NOPHONE", name: "Sans Numéro", locale: "fr-FR", timezone: "Europe/Paris", channels: [.sms])
        let sim = try await Simulation(start: "2026-11-21T11:00:00Z", payers: [payer])
        let id = try await sim.runtime.store.enqueue(
            [NewJob(payerRef: "NOPHONE", caseRef: "C-1", channel: .sms, template: "reminder-1")], payers: []
        )[0].id
        try await sim.dispatcher.run()
        let job = try #require(try await sim.runtime.store.job(id: id))
        #expect(job.state == .failed)
        #expect(job.lastError?.contains("no phone number") == true, "\(job.lastError ?? "")")
        let kinds = try await sim.runtime.store.events(jobID: id).map(\.kind.rawValue)
        #expect(!kinds.contains("deferred"), "\(kinds)")
    }
}
