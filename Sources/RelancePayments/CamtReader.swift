import Foundation
import RelanceCore

/// Reads ISO 20022 bank-to-customer messages, camt.053 statements and camt.054
/// debit/credit notifications, any `001.xx` version (tested: 001.02 and 001.08), into bank
/// lines. Pure: bytes in, values out. The XML is read by `SafeXML` (no DTD, bounded).
///
/// Paths read, by local name (`Ntry` under `BkToCstmrStmt/Stmt` or
/// `BkToCstmrDbtCdtNtfctn/Ntfctn`):
/// - `Amt` with `Ccy`, `CdtDbtInd` (CRDT, DBIT), `RvslInd`, `Sts` (text in 001.02, `Sts/Cd`
///   or `Sts/Prtry` later), `BookgDt` and `ValDt` (`Dt`, or the date of `DtTm`),
///   `AcctSvcrRef`;
/// - each `NtryDtls/TxDtls` (several make a batch: one line each): `Amt` (001.08) or
///   `AmtDtls/TxAmt/Amt` (001.02), the entry's amount when a lone transaction has none;
///   `CdtDbtInd` when given; `Refs/EndToEndId` (`NOTPROVIDED` is nil), `Refs/AcctSvcrRef`;
///   `RltdPties/Dbtr/Nm` or `RltdPties/Dbtr/Pty/Nm`, `RltdPties/DbtrAcct/Id/IBAN`;
///   `RmtInf/Ustrd` (every one) and the first `RmtInf/Strd/CdtrRefInf/Ref`.
///
/// A line's `id` (see `BankLine.id`):
/// - `<account>/<Ntry/AcctSvcrRef>` for an entry of one transaction (or none) with the
///   bank's reference (first: a notification may give only the entry's, the statement
///   both);
/// - else `<account>/<TxDtls/Refs/AcctSvcrRef>` when the transaction has the bank's
///   reference (in a batch: when no other transaction of the entry has the same and it
///   differs from the entry's own);
/// - else `<account>/<Ntry/AcctSvcrRef>#<n>` for the n-th transaction (from 1) of a batch;
/// - else `sha256:` and the hex digest of `canonicalText`: account, statement id, entry
///   and transaction places, amount, currency, direction, booking date, end-to-end id,
///   debtor IBAN, remittance.
/// The same bytes thus give the same ids, and a camt.054 notification and the camt.053
/// statement that books the same movement (same account, same `AcctSvcrRef`) give the
/// same id. Two lines of one document with the same id refuse the document: the bank's
/// references would not tell them apart, and an importer would keep only one.
public enum CamtReader {
    /// What every camt namespace starts with.
    public static let namespacePrefix = "urn:iso:std:iso:20022:tech:xsd:"

    /// Reads a camt.053 or camt.054 document. Throws `CamtError` (its `description` says
    /// what and where).
    public static func read(_ bytes: [UInt8]) throws -> CamtDocument {
        try read(bytes, limits: .standard)
    }

    public static func read(_ bytes: [UInt8], limits: SafeXML.Limits) throws -> CamtDocument {
        let doc: SafeXML.Document
        do {
            doc = try SafeXML.parse(bytes, limits: limits)
        } catch let error as SafeXML.Error {
            throw CamtError(error)
        }
        let fields = CamtFields(doc: doc)
        let root = doc.root
        guard doc[root].name == "Document" else {
            throw fields.error(root, "the root element is <\(doc[root].name)>, not <Document>")
        }
        let namespace = doc[root].namespace ?? ""
        guard let (kind, version) = messageType(namespace) else {
            throw fields.error(
                root,
                (namespace.isEmpty
                    ? "<Document> has no namespace" : "the namespace \(CamtFields.quoted(namespace, limit: 100))")
                    + " is not \(namespacePrefix)camt.053.001.xx (a statement) or camt.054.001.xx (a notification)")
        }
        let (messageName, reportName) =
            kind == .statement ? ("BkToCstmrStmt", "Stmt") : ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
        guard let message = doc.first(root, messageName) else {
            throw fields.error(root, "a \(kind.rawValue) <Document> holds a <\(messageName)>, and this one none")
        }
        let messageID = try fields.required(message, "GrpHdr", "MsgId", limit: CamtFields.idLength)
        let reports = doc.children(of: message, named: reportName)
        guard !reports.isEmpty else { throw fields.error(message, "<\(messageName)> holds no <\(reportName)>") }
        var statements: [CamtDocument.Statement] = []
        var lines: [BankLine] = []
        var seen: [String: String] = [:]
        for report in reports {
            let (statement, found) = try readStatement(report, fields: fields)
            statements.append(statement)
            for (line, element, label) in found {
                if let earlier = seen[line.id] {
                    throw CamtFields(doc: doc, label: label).error(
                        element,
                        "its id \(CamtFields.quoted(line.id)) is also the id of \(earlier): the bank's references "
                            + "(AcctSvcrRef) do not tell the two apart")
                }
                seen[line.id] = label.hasSuffix(": ") ? String(label.dropLast(2)) : label
                lines.append(line)
            }
        }
        return CamtDocument(
            kind: kind, version: version, messageID: messageID, statements: statements, lines: lines)
    }

    /// `(.statement, "001.08")` for `urn:iso:std:iso:20022:tech:xsd:camt.053.001.08`.
    static func messageType(_ namespace: String) -> (CamtDocument.Kind, String)? {
        guard namespace.hasPrefix(namespacePrefix) else { return nil }
        let name = Array(namespace.utf8.dropFirst(namespacePrefix.utf8.count))
        guard name.count == 15, name[8] == UInt8(ascii: "."), name[9...12].elementsEqual("001.".utf8),
            name[13...14].allSatisfy({ (48...57).contains($0) })
        else { return nil }
        let version = String(decoding: name[9...], as: UTF8.self)
        switch String(decoding: name[0..<8], as: UTF8.self) {
        case "camt.053": return (.statement, version)
        case "camt.054": return (.notification, version)
        default: return nil
        }
    }

    /// A `Stmt` or `Ntfctn` and its lines, each with its element and label (for errors).
    static func readStatement(_ report: Int, fields base: CamtFields) throws -> (
        CamtDocument.Statement, [(BankLine, Int, String)]
    ) {
        let doc = base.doc
        let id = try base.required(report, "Id", limit: CamtFields.idLength)
        var fields = base
        fields.label = "statement \(CamtFields.quoted(id)): "
        guard let accountID = doc.first(report, "Acct", "Id") else {
            throw fields.error(report, "<\(doc[report].name)> has no <Acct><Id>")
        }
        let account: String
        if let iban = doc.first(accountID, "IBAN") {
            account = try fields.iban(iban)
        } else if let other = doc.first(accountID, "Othr", "Id"), let value = try fields.text(other, limit: 34) {
            account = value
        } else {
            throw fields.error(accountID, "the account has neither <IBAN> nor <Othr><Id>")
        }
        var accountCurrency: String?
        if let code = try fields.optional(report, "Acct", "Ccy", limit: 3) {
            accountCurrency = try fields.currency(code, at: doc.first(report, "Acct", "Ccy")!)
        }
        let creationDate = try doc.first(report, "CreDtTm").map { try fields.date($0, withTime: true) }
        let entries = doc.children(of: report, named: "Ntry")
        var found: [(BankLine, Int, String)] = []
        for (offset, entry) in entries.enumerated() {
            let place = EntryPlace(account: account, statementID: id, entry: offset + 1)
            found += try readEntry(entry, place: place, fields: fields)
        }
        let statement = CamtDocument.Statement(
            id: id, account: account, accountCurrency: accountCurrency, creationDate: creationDate,
            entryCount: entries.count)
        return (statement, found)
    }

    struct EntryPlace {
        var account: String
        var statementID: String
        var entry: Int
    }
}
