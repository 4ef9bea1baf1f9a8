/// What a server offers in its EHLO reply (RFC 5321 4.1.1.1) that the client uses:
/// pipelining of the envelope (RFC 2920), the SIZE parameter (RFC 1870) and
/// internationalized addresses (RFC 6531).
public struct SMTPCapabilities: Sendable, Equatable {
    public var pipelining = false
    public var size = false
    public var smtpUTF8 = false

    public init(pipelining: Bool = false, size: Bool = false, smtpUTF8: Bool = false) {
        self.pipelining = pipelining
        self.size = size
        self.smtpUTF8 = smtpUTF8
    }

    /// The keywords of the last EHLO reply in a connection's opening dialogue (greeting,
    /// EHLO, and after STARTTLS the second EHLO, then AUTH). An EHLO reply is the only
    /// multi-line `250` a client sees there; a server that only took HELO offers nothing.
    public init(dialogue: String) {
        var keywords: [Substring] = []
        var current: [Substring] = []
        for line in dialogue.split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("250"), line.count >= 4 else { continue }
            let separator = line[line.index(line.startIndex, offsetBy: 3)]
            let keyword = line.dropFirst(4).split(separator: " ").first ?? ""
            current.append(keyword)
            if separator == " " {
                // The end of a reply: an EHLO reply has its domain line first, then keywords.
                // Each reply replaces what the one before offered, even with nothing: after
                // STARTTLS what the server said in clear no longer counts (RFC 3207 4.2).
                keywords = Array(current.dropFirst())
                current = []
            }
        }
        for keyword in keywords {
            switch keyword.uppercased() {
            case "PIPELINING": pipelining = true
            case "SIZE": size = true
            case "SMTPUTF8": smtpUTF8 = true
            default: break
            }
        }
    }
}
