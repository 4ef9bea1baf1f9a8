import RelanceCore

/// An SMTP server's reply: code, RFC 3463 enhanced status code and text.
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    public var enhancedCode: String?
    /// The reply as the server wrote it, e.g. `451 4.3.0 Try again later`; the lines of
    /// a multi-line reply joined by spaces.
    public var text: String

    /// The last complete reply in a captured dialogue (libcurl's incoming header lines).
    public static func last(in dialogue: String) -> SMTPReply? {
        // "\r\n" is one Character in Swift: split on isNewline, not on "\r" or "\n".
        let lines = dialogue.split(whereSeparator: \.isNewline).map(String.init)
        for line in lines.reversed() {
            let chars = Array(line)
            guard chars.count >= 3, chars[0...2].allSatisfy(\.isNumber), let code = Int(String(chars[0...2])) else {
                continue
            }
            if chars.count > 3 && chars[3] == "-" { continue }  // continuation of a multi-line reply
            return SMTPReply(code: code, enhancedCode: enhancedCode(in: line), text: line)
        }
        return nil
    }

    /// The last reply that refused something (code 400 or more): after a failure, the
    /// server's last words may be a later prompt (`334` during AUTH) rather than the refusal.
    public static func lastRefusal(in dialogue: String) -> SMTPReply? {
        var refusal: SMTPReply?
        for line in dialogue.split(whereSeparator: \.isNewline) {
            if let reply = last(in: String(line)), reply.code >= 400 { refusal = reply }
        }
        return refusal
    }

    /// `5.1.1` from `550 5.1.1 <x@y>: Recipient address rejected`.
    static func enhancedCode(in line: String) -> String? {
        let words = line.split(separator: " ")
        guard words.count >= 2 else { return nil }
        let parts = words[1].split(separator: ".")
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]),
            parts.allSatisfy({ $0.allSatisfy(\.isNumber) && !$0.isEmpty })
        else { return nil }
        return String(words[1])
    }

    /// The queue id many servers print on acceptance ("queued as 4F2A1C").
    public var queueID: String? {
        guard let range = text.range(of: "queued as ") else { return nil }
        let id = text[range.upperBound...].prefix { !$0.isWhitespace && $0 != ")" && $0 != ";" }
        return id.isEmpty ? nil : String(id)
    }
}

/// How a failed SMTP exchange is classified (README, "Job lifecycle").
public enum SMTPClassification {
    /// `reply` is the server's last reply, if any; `transportError` what the client saw otherwise.
    public static func classify(reply: SMTPReply?, transportError: String?) -> DispatchOutcome {
        if let reply {
            let message = "SMTP server answered: \(reply.text)"
            let failure = DispatchFailure(
                reason: .smtpReply, message: message, code: reply.code, enhancedCode: reply.enhancedCode)
            switch reply.code {
            case 200..<400 where transportError == nil:
                return .accepted(ProviderResponse(code: reply.code, text: reply.text, providerRef: reply.queueID))
            case 400..<500:
                return .transient(failure)
            // Authentication failures are the operator's configuration problem, not the
            // job's: retried (and visible in the trace) until someone fixes the credentials.
            case 530, 534, 535, 538:
                return .transient(
                    DispatchFailure(
                        reason: .smtpAuth, message: message, code: reply.code, enhancedCode: reply.enhancedCode))
            case 500..<600:
                return .permanent(failure)
            default:
                break
            }
        }
        return .transient(
            DispatchFailure(reason: .network, message: transportError ?? "SMTP exchange failed without a reply"))
    }
}
