/// The envelope sender of each e-mail when bounces are read back (`email.bounce_address`):
/// `<local>+<job>-<attempt>-<mac>@<domain>`, so that a bounce names its job and attempt
/// even when the relay rewrites everything else (variable envelope return path). The MAC,
/// an HMAC-SHA-256 of the job and attempt under a secret only Relance knows, truncated to
/// 80 bits, keeps anyone else from writing a bounce that would mark a job undelivered and
/// suppress a payer's address. The `From:` header is unchanged.
public struct VERPAddress: Sendable {
    public let local: String
    /// Lower-cased.
    public let domain: String
    private let key: [UInt8]

    /// The hex digits of the MAC (80 bits: 20 digits; the local part stays within 64 bytes).
    static let macDigits = 20

    /// `base`: the address bounces go to (`bounces@bounce.example`); it must not already
    /// hold a `+`, which separates the job's part.
    public init(base: EmailAddress, secret: String) throws {
        let local = base.value[..<base.value.lastIndex(of: "@")!]
        guard base.value.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw FieldError(
                "email.bounce_address",
                "must be ASCII (\(base.value)): every message would need SMTPUTF8 from every relay on the way")
        }
        guard !local.contains("+"), !local.hasPrefix("\"") else {
            throw FieldError("email.bounce_address", "its local part must not hold '+' or quotes (\(base.value))")
        }
        // Room for `+<19 digits>-<4 digits>-<20 hex digits>` within RFC 5321's 64 bytes.
        guard local.utf8.count <= Self.maxLocalBytes else {
            throw FieldError(
                "email.bounce_address",
                "its local part is longer than \(Self.maxLocalBytes) bytes; the job's part must fit within 64 (\(base.value))"
            )
        }
        self.local = String(local)
        self.domain = String(base.domain).lowercased()
        self.key = Array(secret.utf8)
    }

    static let maxLocalBytes = 64 - (1 + 19 + 1 + 4 + 1 + macDigits)

    /// The envelope sender for one attempt of one job; nil only past attempt 9999 (the
    /// local part would pass 64 bytes).
    public func address(jobID: Int64, attempt: Int) -> EmailAddress? {
        guard jobID > 0, (1...9999).contains(attempt), let mac = mac(jobID: jobID, attempt: attempt) else { return nil }
        return try? EmailAddress("\(local)+\(jobID)-\(attempt)-\(mac)@\(domain)")
    }

    /// The job and attempt an address names, when its MAC verifies; nil for any other
    /// address (another local part or domain, a forged or damaged MAC). Case-insensitive:
    /// some relays lower-case the local part.
    public func decode(_ address: String) -> (jobID: Int64, attempt: Int)? {
        var text = Substring(address.trimmingWhitespace())
        if text.hasPrefix("<") && text.hasSuffix(">") { text = text.dropFirst().dropLast() }
        guard let at = text.lastIndex(of: "@"), text[text.index(after: at)...].lowercased() == domain else {
            return nil
        }
        let localPart = text[..<at]
        guard let plus = localPart.lastIndex(of: "+"), localPart[..<plus].lowercased() == local.lowercased() else {
            return nil
        }
        let fields = localPart[localPart.index(after: plus)...].split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count <= 19, fields[1].count <= 4,
            fields[0].allSatisfy(\.isASCIIDigit), fields[1].allSatisfy(\.isASCIIDigit),
            let jobID = Int64(fields[0]), let attempt = Int(fields[1]), jobID > 0, attempt > 0,
            // Only the form `address(jobID:attempt:)` writes (no leading zeros).
            String(jobID) == fields[0], String(attempt) == fields[1]
        else { return nil }
        guard let mac = mac(jobID: jobID, attempt: attempt) else { return nil }
        let expected = Array(mac.utf8)
        guard ConstantTime.equal(expected, Array(fields[2].lowercased().utf8)) else { return nil }
        return (jobID, attempt)
    }

    /// nil if OpenSSL failed (never an all-zero MAC anyone could write).
    func mac(jobID: Int64, attempt: Int) -> String? {
        var digest = [UInt8](repeating: 0, count: 32)
        guard relanceHMAC(key: key, data: Array("relance-verp:v1:\(jobID):\(attempt)".utf8), into: &digest) else {
            return nil
        }
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest.prefix(Self.macDigits / 2) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
