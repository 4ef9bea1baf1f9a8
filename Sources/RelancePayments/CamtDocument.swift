import RelanceCore

/// What `CamtReader.read` found in an ISO 20022 bank-to-customer message.
public struct CamtDocument: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// camt.053, a bank-to-customer statement (`BkToCstmrStmt`, one `Stmt` per account).
        case statement = "camt.053"
        /// camt.054, a debit/credit notification (`BkToCstmrDbtCdtNtfctn`, one `Ntfctn` each).
        case notification = "camt.054"
    }

    /// One `Stmt` of a camt.053, or one `Ntfctn` of a camt.054.
    public struct Statement: Sendable, Equatable {
        /// Its `Id`.
        public var id: String
        /// `Acct/Id/IBAN`, or the bank's other id (`Acct/Id/Othr/Id`).
        public var account: String
        /// `Acct/Ccy`, when given.
        public var accountCurrency: String?
        /// The date part (YYYY-MM-DD) of `CreDtTm`, when given.
        public var creationDate: String?
        /// Its `Ntry` elements (a batch entry counts once).
        public var entryCount: Int

        public init(id: String, account: String, accountCurrency: String?, creationDate: String?, entryCount: Int) {
            self.id = id
            self.account = account
            self.accountCurrency = accountCurrency
            self.creationDate = creationDate
            self.entryCount = entryCount
        }
    }

    public var kind: Kind
    /// The message definition's variant and version, from the namespace: `001.02`, `001.08`.
    public var version: String
    /// `GrpHdr/MsgId`.
    public var messageID: String
    public var statements: [Statement]
    /// One line per transaction, credits and debits, in document order.
    public var lines: [BankLine]

    public init(kind: Kind, version: String, messageID: String, statements: [Statement], lines: [BankLine]) {
        self.kind = kind
        self.version = version
        self.messageID = messageID
        self.statements = statements
        self.lines = lines
    }
}

/// Why a camt document was refused: its XML (`SafeXML.Error`'s reasons) or its content.
/// `description` is one English line: `line 40, column 13, in
/// Document/BkToCstmrStmt/Stmt/Ntry/Amt: statement STMT-1, entry 3: the amount -12.00 is negative`.
public struct CamtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where, from 1; nil when the problem is the document as a whole.
    public let line: Int?
    public let column: Int?
    /// The element's path of local names, when known.
    public let path: String?
    /// What is wrong, without the position.
    public let reason: String

    /// `path` and `reason` are kept on one line (`SafeXML.printable`).
    public init(line: Int?, column: Int?, path: String?, reason: String) {
        self.line = line
        self.column = column
        self.path = path.map(SafeXML.printable)
        self.reason = SafeXML.printable(reason)
    }

    init(_ xml: SafeXML.Error) {
        self.init(line: xml.line, column: xml.column, path: xml.path, reason: xml.reason)
    }

    public var description: String {
        var place: [String] = []
        if let line, let column { place.append("line \(line), column \(column)") }
        if let path { place.append("in \(path)") }
        return place.isEmpty ? reason : place.joined(separator: ", ") + ": " + reason
    }
}
