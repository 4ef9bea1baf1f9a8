import Foundation
import RelanceCore

/// The entries of a statement and the transactions of an entry.
extension CamtReader {
    /// What an entry gives each of its transactions.
    struct EntryFacts {
        var amount: Decimal
        var currency: String
        var direction: BankLine.Direction
        var reversal: Bool
        var status: String?
        var bookingDate: String?
        var valueDate: String?
        var reference: String?
        var transactionCount: Int
    }

    static func readEntry(_ entry: Int, place: EntryPlace, fields statementFields: CamtFields) throws -> [(
        BankLine, Int, String
    )] {
        let doc = statementFields.doc
        var fields = statementFields
        fields.label = "statement \(CamtFields.quoted(place.statementID)), entry \(place.entry): "
        guard let amountElement = doc.first(entry, "Amt") else { throw fields.error(entry, "<Ntry> has no <Amt>") }
        let (amount, currency) = try fields.amount(amountElement)
        let direction = try self.direction(entry, fields: fields, required: true)!
        var reversal = false
        if let flag = doc.first(entry, "RvslInd") {
            switch try fields.text(flag, limit: 5) {
            case "true", "1": reversal = true
            case "false", "0": reversal = false
            default: throw fields.error(flag, "<RvslInd> is true or false")
            }
        }
        var status: String?
        if let sts = doc.first(entry, "Sts") {
            let coded = doc.first(sts, "Cd") ?? doc.first(sts, "Prtry")
            status = try fields.text(coded ?? sts, limit: CamtFields.idLength)
        }
        let transactions = doc.children(of: entry, named: "NtryDtls").flatMap {
            doc.children(of: $0, named: "TxDtls")
        }
        let facts = EntryFacts(
            amount: amount, currency: currency, direction: direction, reversal: reversal, status: status,
            bookingDate: try fields.date(doc.first(entry, "BookgDt")),
            valueDate: try fields.date(doc.first(entry, "ValDt")),
            reference: try fields.optional(entry, "AcctSvcrRef", limit: CamtFields.idLength),
            transactionCount: transactions.count)
        guard !transactions.isEmpty else {
            let line = BankLine(
                id: "", statementID: place.statementID, account: place.account, direction: direction,
                reversal: reversal, amount: amount, currency: currency, bookingDate: facts.bookingDate,
                valueDate: facts.valueDate, status: status)
            return [(identified(line, place: place, transaction: 1, own: nil, facts: facts), entry, fields.label)]
        }
        // The transactions' own references, to tell whether each is unique in the entry.
        var references: [String?] = []
        for transaction in transactions {
            references.append(
                try fields.optional(transaction, "Refs", "AcctSvcrRef", limit: CamtFields.idLength))
        }
        var found: [(BankLine, Int, String)] = []
        for (offset, transaction) in transactions.enumerated() {
            var txFields = fields
            if transactions.count > 1 {
                txFields.label =
                    "statement \(CamtFields.quoted(place.statementID)), entry \(place.entry), "
                    + "transaction \(offset + 1): "
            }
            let line = try readTransaction(transaction, place: place, facts: facts, fields: txFields)
            var own = references[offset]
            if transactions.count > 1, let reference = own,
                reference == facts.reference || references.filter({ $0 == reference }).count > 1
            {
                own = nil
            }
            found.append(
                (
                    identified(line, place: place, transaction: offset + 1, own: own, facts: facts), transaction,
                    txFields.label
                ))
        }
        return found
    }

    static func direction(_ parent: Int, fields: CamtFields, required: Bool) throws -> BankLine.Direction? {
        guard let element = fields.doc.first(parent, "CdtDbtInd") else {
            if required { throw fields.error(parent, "<\(fields.doc[parent].name)> has no <CdtDbtInd>") }
            return nil
        }
        switch try fields.text(element, limit: CamtFields.idLength) {
        case "CRDT": return .credit
        case "DBIT": return .debit
        default: throw fields.error(element, "<CdtDbtInd> is CRDT or DBIT")
        }
    }

    /// One `TxDtls` of an entry, without its id.
    static func readTransaction(_ transaction: Int, place: EntryPlace, facts: EntryFacts, fields: CamtFields) throws
        -> BankLine
    {
        let doc = fields.doc
        var amount = facts.amount
        var currency = facts.currency
        if let element = doc.first(transaction, "Amt") ?? doc.first(transaction, "AmtDtls", "TxAmt", "Amt") {
            (amount, currency) = try fields.amount(element)
        } else if facts.transactionCount > 1 {
            throw fields.error(
                transaction, "a transaction of a batch of \(facts.transactionCount) has neither <Amt> nor <AmtDtls>")
        }
        var endToEnd = try fields.optional(transaction, "Refs", "EndToEndId", limit: CamtFields.idLength)
        if endToEnd == "NOTPROVIDED" { endToEnd = nil }
        let parties = doc.first(transaction, "RltdPties")
        let debtorName =
            try fields.optional(parties, "Dbtr", "Nm", limit: CamtFields.nameLength)
            ?? fields.optional(parties, "Dbtr", "Pty", "Nm", limit: CamtFields.nameLength)
        var debtorIBAN: String?
        if let parties, let element = doc.first(parties, "DbtrAcct", "Id", "IBAN") {
            debtorIBAN = try fields.iban(element)
        }
        var unstructured: [String] = []
        var structured: String?
        if let remittance = doc.first(transaction, "RmtInf") {
            for element in doc.children(of: remittance, named: "Ustrd") {
                if let line = try fields.text(element, limit: CamtFields.remittanceLength) { unstructured.append(line) }
            }
            for element in doc.children(of: remittance, named: "Strd") where structured == nil {
                structured = try fields.optional(element, "CdtrRefInf", "Ref", limit: CamtFields.idLength)
            }
        }
        return BankLine(
            id: "", statementID: place.statementID, account: place.account,
            direction: try direction(transaction, fields: fields, required: false) ?? facts.direction,
            reversal: facts.reversal, amount: amount, currency: currency, bookingDate: facts.bookingDate,
            valueDate: facts.valueDate, debtorName: debtorName, debtorIBAN: debtorIBAN, endToEndID: endToEnd,
            structuredReference: structured, unstructured: unstructured, status: facts.status)
    }

    /// The line with its id (the rule in `CamtReader`'s comment). `own` is the transaction's
    /// usable `AcctSvcrRef`.
    static func identified(_ line: BankLine, place: EntryPlace, transaction: Int, own: String?, facts: EntryFacts)
        -> BankLine
    {
        var line = line
        // One transaction: the entry's reference first, so that a notification giving only
        // the entry's and a statement giving both name the movement alike.
        if facts.transactionCount <= 1, let entry = facts.reference {
            line.id = place.account + "/" + entry
        } else if let own {
            line.id = place.account + "/" + own
        } else if let entry = facts.reference {
            line.id = place.account + "/" + entry + (facts.transactionCount > 1 ? "#\(transaction)" : "")
        } else {
            line.id = "sha256:" + SHA256.hex(canonicalText(line, entry: place.entry, transaction: transaction))
        }
        return line
    }

    /// The text whose digest identifies a line without a bank reference: one `key=value`
    /// per line (no value holds a line break: text fields refuse control characters).
    /// Changing it changes every such id already stored: keep it as it is.
    static func canonicalText(_ line: BankLine, entry: Int, transaction: Int) -> String {
        [
            "relance-bank-line-1",
            "account=\(line.account)",
            "statement=\(line.statementID)",
            "entry=\(entry)",
            "transaction=\(transaction)",
            "amount=\(line.amount.description)",
            "currency=\(line.currency)",
            "direction=\(line.direction.rawValue)",
            "booked=\(line.bookingDate ?? "")",
            "end-to-end=\(line.endToEndID ?? "")",
            "debtor-iban=\(line.debtorIBAN ?? "")",
            "remittance=\(line.remittance)",
        ].joined(separator: "\n")
    }
}
