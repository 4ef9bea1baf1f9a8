import RelanceCore

/// The commands of one SMTP mail transaction (RFC 5321 3.3) and its data, as bytes.
public enum SMTPEnvelope {
    /// Why a message cannot be offered to this server at all (a job's address, not the
    /// connection: retrying would not help).
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// The sender (the operator's `email.from`) is at fault, not the job's recipient.
        public var concernsSender = false
    }

    /// `MAIL FROM`, one `RCPT TO` per recipient, and `DATA`, each with its CRLF. Domains go
    /// out as A-labels; a non-ASCII local part needs the server's SMTPUTF8, announced in
    /// `MAIL FROM`. `size` is the message's size in bytes, announced when the server
    /// offers SIZE.
    public static func commands(
        from sender: EmailAddress, to recipients: [EmailAddress], size: Int, capabilities: SMTPCapabilities
    ) throws(Refusal) -> [[UInt8]] {
        guard !recipients.isEmpty else { throw Refusal(description: "the message has no recipient") }
        var needsUTF8 = false
        func path(_ address: EmailAddress, isSender: Bool = false) throws(Refusal) -> String {
            let value = address.value
            func refusal(_ description: String) -> Refusal {
                Refusal(description: description, concernsSender: isSender)
            }
            guard let at = value.lastIndex(of: "@"),
                let domain = Punycode.asciiDomain(String(value[value.index(after: at)...]))
            else {
                throw refusal("the domain of \(EmailAddress.quoted(value)) cannot be written in ASCII")
            }
            let local = value[..<at]
            guard !local.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ">") }) else {
                throw refusal("\(EmailAddress.quoted(value)) cannot be written in an SMTP command")
            }
            if local.utf8.contains(where: { $0 >= 0x80 }) {
                guard capabilities.smtpUTF8 else {
                    throw refusal(
                        "the SMTP server does not offer SMTPUTF8, which the address \(EmailAddress.quoted(value)) needs"
                    )
                }
                needsUTF8 = true
            }
            return "<\(local)@\(domain)>"
        }
        let rcpts = try recipients.map { (address) throws(Refusal) in "RCPT TO:\(try path(address))\r\n" }
        var mail = "MAIL FROM:\(try path(sender, isSender: true))"
        if capabilities.size { mail += " SIZE=\(size)" }
        if needsUTF8 { mail += " SMTPUTF8" }
        return ([mail + "\r\n"] + rcpts + ["DATA\r\n"]).map { Array($0.utf8) }
    }

    /// The message as sent after `354` (RFC 5321 4.5.2): a line starting with "." gets a
    /// second one, the message ends with CRLF, then the line with a single ".".
    public static func data(_ message: [UInt8]) -> [UInt8] {
        let dot = UInt8(ascii: "."), lf = UInt8(ascii: "\n")
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 8)
        message.withUnsafeBufferPointer { bytes in
            var runStart = 0
            var lineStart = 0
            while lineStart < bytes.count {
                if bytes[lineStart] == dot {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<lineStart]))
                    out.append(dot)
                    runStart = lineStart
                }
                guard let newline = bytes[lineStart...].firstIndex(of: lf) else { break }
                lineStart = newline + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        if !out.isEmpty && !out.ends(with: [UInt8(ascii: "\r"), lf]) { out += [UInt8(ascii: "\r"), lf] }
        out += [dot, UInt8(ascii: "\r"), lf]
        return out
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
