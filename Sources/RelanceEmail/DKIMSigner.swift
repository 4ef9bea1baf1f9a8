import CCrypto
import Foundation
import RelanceCore

/// Signs outgoing messages with DKIM (RFC 6376; RFC 8463 for Ed25519): one
/// `DKIM-Signature` header per key, `relaxed/relaxed`, never `l=`. Pure apart from the
/// keys' OpenSSL calls; safe to share between workers.
public struct DKIMSigner: Sendable {
    public struct Signing: Sendable {
        public var selector: String
        public var key: DKIMKey

        public init(selector: String, key: DKIMKey) {
            self.selector = selector
            self.key = key
        }
    }

    /// The `d=` domain (ASCII, A-labels).
    public var domain: String
    /// In the order the signatures are added (each goes on top of the previous).
    public var signings: [Signing]

    /// The header fields signed when present, in this order.
    public static let signedHeaders = [
        "from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "reply-to", "sender", "in-reply-to", "references",
    ]
    /// Also signed once more than they appear ("over-signed"), so that none can be added in
    /// transit without breaking the signature: a second From, a Reply-To or Cc that would
    /// send the payer's answer (and payment questions) elsewhere, or a second Content-Type
    /// on top, which some mail readers would show instead of the signed one.
    public static let overSignedHeaders: Set<String> = [
        "from", "to", "cc", "subject", "reply-to", "sender", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding",
    ]

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(domain: String, signings: [Signing]) {
        self.domain = domain
        self.signings = signings
    }

    /// `message` (CRLF line ends, headers then a blank line then the body) with a
    /// `DKIM-Signature` header per key added on top. The message is returned unchanged if
    /// it has no header/body separator (never the case for `MIMEWriter`'s output).
    public func sign(_ message: [UInt8], at date: Date) throws -> [UInt8] {
        let headers = try signatureHeaders(message, at: date)
        var signedMessage = headers
        signedMessage.reserveCapacity(headers.count + message.count)
        signedMessage += message
        return signedMessage
    }

    /// The `DKIM-Signature` header fields `sign` puts on top of `message` (empty when it
    /// has no header/body separator). Throws when OpenSSL cannot sign: a message is never
    /// sent unsigned when signing was asked for.
    public func signatureHeaders(_ message: [UInt8], at date: Date) throws -> [UInt8] {
        guard let split = DKIMCanonical.headerEnd(message) else { return [] }
        let headerBytes = message[..<split]
        let body = message[(split + 2)...]
        let fields = DKIMCanonical.fields(headerBytes)
        let bodyHash = Data(SHA256.digest(DKIMCanonical.relaxedBody(body))).base64EncodedString()
        var names: [String] = []
        var chosen: [[UInt8]] = []
        for name in Self.signedHeaders {
            // Bottom-up, as verifiers take them (RFC 6376 §5.4.2).
            let present = fields.filter { $0.name == name }.reversed()
            for field in present {
                names.append(name)
                chosen.append(DKIMCanonical.relaxedHeader(field.raw))
            }
            if Self.overSignedHeaders.contains(name) { names.append(name) }
        }
        let signed = chosen.flatMap { $0 }
        let timestamp = Int(date.timeIntervalSince1970)
        var headers: [UInt8] = []
        for signing in signings {
            let unsigned =
                "DKIM-Signature: v=1; a=\(signing.key.algorithm.signatureTag); c=relaxed/relaxed;\r\n"
                + " d=\(domain); s=\(signing.selector); t=\(timestamp);\r\n"
                + " h=\(Self.foldedNames(names));\r\n" + " bh=\(bodyHash);\r\n b="
            var input = signed
            input += DKIMCanonical.relaxedHeader(Array(unsigned.utf8), lineEnd: false)
            let data = signing.key.algorithm == .ed25519 ? SHA256.digest(input) : input
            guard let signature = signing.key.sign(data) else {
                throw Failure(
                    description:
                        "DKIM: OpenSSL could not sign with the \(signing.key.algorithm.rawValue) key s=\(signing.selector)"
                )
            }
            headers = Array((unsigned + Self.folded(Data(signature).base64EncodedString()) + "\r\n").utf8) + headers
        }
        return headers
    }

    /// The base64 of a signature in lines of at most 72 characters.
    static func folded(_ base64: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(72))
            rest = rest.dropFirst(72)
        }
        return lines.joined(separator: "\r\n ")
    }

    /// The `h=` list, folded after a colon before a line passes 72 characters.
    static func foldedNames(_ names: [String]) -> String {
        var text = ""
        var line = 3  // " h="
        for (i, name) in names.enumerated() {
            let piece = i == 0 ? name : ":" + name
            if line + piece.utf8.count > 72 {
                text += ":\r\n " + name
                line = 1 + name.utf8.count
            } else {
                text += piece
                line += piece.utf8.count
            }
        }
        return text
    }
}

/// The `relaxed` canonicalizations of RFC 6376 §3.4.2 and §3.4.4, on bytes.
enum DKIMCanonical {
    struct Field {
        /// Lower-cased.
        var name: String
        /// The whole field, folding included, with its final CRLF.
        var raw: ArraySlice<UInt8>
    }

    /// The index of the CRLF CRLF between headers and body (the first CRLF's index + 2).
    static func headerEnd(_ message: [UInt8]) -> Int? {
        guard message.count >= 4 else { return nil }
        var i = 0
        while i + 3 < message.count {
            if message[i] == 0x0D && message[i + 1] == 0x0A && message[i + 2] == 0x0D && message[i + 3] == 0x0A {
                return i + 2
            }
            i += 1
        }
        return nil
    }

    /// The header fields, each with its continuation lines.
    static func fields(_ header: ArraySlice<UInt8>) -> [Field] {
        var fields: [Field] = []
        var start = header.startIndex
        var i = header.startIndex
        while i < header.endIndex {
            guard header[i] == 0x0A else {
                i += 1
                continue
            }
            let next = i + 1
            if next < header.endIndex, header[next] == 0x20 || header[next] == 0x09 {
                i = next
                continue
            }
            fields.append(field(header[start..<next]))
            start = next
            i = next
        }
        if start < header.endIndex { fields.append(field(header[start...])) }
        return fields
    }

    private static func field(_ raw: ArraySlice<UInt8>) -> Field {
        let colon = raw.firstIndex(of: 0x3A) ?? raw.endIndex
        var name: [UInt8] = []
        name.reserveCapacity(colon - raw.startIndex)
        for byte in raw[raw.startIndex..<colon] where byte != 0x20 && byte != 0x09 {
            name.append(byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte)
        }
        return Field(name: String(decoding: name, as: UTF8.self), raw: raw)
    }

    /// `name:value` with the name lower-cased, the value unfolded, runs of white space
    /// made one space, white space around the colon and at the end removed; then CRLF
    /// (left out for the signature's own header, which is hashed last).
    static func relaxedHeader<Bytes: Collection<UInt8>>(_ raw: Bytes, lineEnd: Bool = true) -> [UInt8] {
        let bytes = Array(raw)
        let colon = bytes.firstIndex(of: 0x3A) ?? bytes.count
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes[..<colon] where byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
            out.append(byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte)
        }
        out.append(0x3A)
        var pendingSpace = false
        var started = false
        for byte in bytes.dropFirst(colon + 1) {
            switch byte {
            case 0x0D, 0x0A: continue
            case 0x20, 0x09: pendingSpace = started
            default:
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                started = true
                out.append(byte)
            }
        }
        if lineEnd { out += [0x0D, 0x0A] }
        return out
    }

    /// Each line with runs of white space made one space and none at its end; the empty
    /// lines at the end removed; a non-empty body ends with CRLF. In C, one pass: it runs
    /// over every message (the letter attached to a formal notice too).
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        body.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: input.count + 2) { out, count in
                guard let base = input.baseAddress, let target = out.baseAddress else {
                    count = 0
                    return
                }
                count = relance_dkim_relaxed_body(base, input.count, target)
            }
        }
    }
}
