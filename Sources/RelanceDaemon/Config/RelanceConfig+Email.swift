import Foundation
import RelanceCore
import RelanceDunning
import RelanceEmail

// The `email.*` keys: the sender, DKIM keys, the bounce address and its listener.
extension RelanceConfig {
    static func emailSettings(
        _ r: Reader, state: String, smtp: SMTPSettings?, environment: [String: String]
    ) throws -> EmailSettings {
        let from = try emailAddress(r, "email.from", try r.string(defaulted: "email.from"))
        var replyTo: EmailAddress?
        if let text = try r.string("email.reply_to"), !text.isEmpty {
            replyTo = try emailAddress(r, "email.reply_to", text)
        }
        let transport = try r.choice("email.transport", as: EmailTransportKind.self) ?? (smtp == nil ? .outbox : .smtp)
        if transport == .smtp && smtp == nil {
            throw ConfigError("\(r.origin("email.transport")): email.transport is smtp but smtp.host is not set")
        }
        return EmailSettings(
            transport: transport, from: from, fromName: try r.string(defaulted: "email.from_name"), replyTo: replyTo,
            messageIDDomain: try r.string("email.message_id_domain") ?? String(from.domain),
            outboxDirectory: try r.string("email.outbox_directory") ?? state + "/outbox",
            dkim: try dkimSigner(r, from: from, environment: environment),
            bounces: try bounceAddress(r, environment: environment))
    }

    /// `email.bounce_address` with its secret; nil when bounces are not read back.
    static func bounceAddress(_ r: Reader, environment: [String: String]) throws -> VERPAddress? {
        guard let text = try r.string("email.bounce_address") else {
            if try r.string("email.bounce_secret_file") != nil || r.string("email.bounces.lmtp_listen") != nil {
                throw ConfigError(
                    "\(r.origin("email.bounce_address")): email.bounce_address is needed to read bounces (email.bounce_secret_file, email.bounces.lmtp_listen are set)"
                )
            }
            return nil
        }
        let base = try emailAddress(r, "email.bounce_address", text)
        guard let file = try r.string("email.bounce_secret_file") else {
            throw ConfigError(
                "\(r.origin("email.bounce_address")): email.bounce_address is set but email.bounce_secret_file is not (the key of the bounce addresses)"
            )
        }
        let secret = try ConfigSources.readSecret(
            file, key: "email.bounce_secret_file", environment: environment,
            configFile: r.origin("email.bounce_secret_file"))
        guard secret.utf8.count >= 16 else {
            throw ConfigError("email.bounce_secret_file: the secret must be at least 16 bytes")
        }
        do { return try VERPAddress(base: base, secret: secret) } catch let error as FieldError {
            throw ConfigError("\(r.origin("email.bounce_address")): \(error.pointer): \(error.message)")
        }
    }

    /// The DKIM keys, read now (and again at each SIGHUP, which reads the configuration
    /// anew): a key that cannot sign is a configuration error, not a message sent unsigned.
    static func dkimSigner(_ r: Reader, from: EmailAddress, environment: [String: String]) throws -> DKIMSigner? {
        var signings: [DKIMSigner.Signing] = []
        for algorithm in DKIMKey.Algorithm.allCases {
            let selectorKey = "email.dkim.\(algorithm.rawValue).selector"
            let fileKey = "email.dkim.\(algorithm.rawValue).key_file"
            let selector = try r.string(selectorKey)
            let file = try r.string(fileKey)
            guard let selector, let file else {
                if selector != nil || file != nil {
                    let missing = selector == nil ? selectorKey : fileKey
                    throw ConfigError(
                        "\(r.origin(missing)): \(missing) is needed with \(selector == nil ? fileKey : selectorKey)")
                }
                continue
            }
            if let problem = DKIMAlignment.selectorProblem(selector) {
                throw ConfigError("\(r.origin(selectorKey)): \(selectorKey): '\(selector)' \(problem)")
            }
            let pem = try ConfigSources.readSecret(
                file, key: fileKey, environment: environment, configFile: r.origin(fileKey), lines: true)
            let key: DKIMKey
            do { key = try DKIMKey(pem: pem + "\n") } catch {
                throw ConfigError("\(r.origin(fileKey)): \(fileKey): \(file) holds \(error)")
            }
            guard key.algorithm == algorithm else {
                throw ConfigError(
                    "\(r.origin(fileKey)): \(fileKey): \(file) holds an \(key.algorithm == .rsa ? "RSA" : "Ed25519") key, not an \(algorithm == .rsa ? "RSA" : "Ed25519") one (move it to email.dkim.\(key.algorithm.rawValue))"
                )
            }
            signings.append(DKIMSigner.Signing(selector: selector, key: key))
        }
        let domainText = try r.string("email.dkim.domain") ?? String(from.domain)
        guard !signings.isEmpty else {
            if try r.string("email.dkim.domain") != nil {
                throw ConfigError(
                    "\(r.origin("email.dkim.domain")): email.dkim.domain is set but no key is: set email.dkim.ed25519.selector and key_file (or rsa)"
                )
            }
            return nil
        }
        let domain: String
        do { domain = try DKIMAlignment.signingDomain(domainText, from: from) } catch {
            throw ConfigError("\(r.origin("email.dkim.domain")): email.dkim.domain: \(error)")
        }
        return DKIMSigner(domain: domain, signings: signings)
    }

    /// `email.bounces.lmtp_listen`: on loopback only (Postfix on the same host delivers
    /// the bounce domain to it; nothing else should reach it).
    static func lmtpListen(_ r: Reader) throws -> (host: String, port: Int)? {
        guard let text = try r.string("email.bounces.lmtp_listen") else { return nil }
        let (host, port) = try hostPort(r, "email.bounces.lmtp_listen", text, example: "127.0.0.1:8426")
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let ipv4Loopback =
            octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
        guard host == "localhost" || host == "::1" || ipv4Loopback else {
            throw ConfigError(
                "\(r.origin("email.bounces.lmtp_listen")): email.bounces.lmtp_listen: '\(text)' is not a loopback address (127.0.0.1, ::1): the listener takes bounces from the local MTA only"
            )
        }
        return (host, port)
    }
}
