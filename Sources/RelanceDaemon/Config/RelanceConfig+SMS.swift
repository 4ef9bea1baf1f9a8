import Configuration
import Foundation
import RelanceAPI
import RelanceCore
import RelanceDunning
import RelanceEmail
import RelanceLetters
import RelanceSMS
import RelanceTemplates
import RelanceTransport
import SystemPackage

/// The `sms` section: text settings, rate, callbacks and the chosen gateway.
extension RelanceConfig {
    static func smsConfig(_ r: Reader, state: String, environment: [String: String]) throws -> SMSConfig {
        var country = try r.string("sms.default_country")
        if let given = country {
            country = given.uppercased()
            guard given.count == 2, given.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ConfigError(
                    "\(r.origin("sms.default_country")): sms.default_country: '\(given)' is not a two-letter country code (FR)"
                )
            }
        }
        let text = SMSTextSettings(
            sanitizing: try r.choice(defaulted: "sms.sanitize", as: SMSSanitizing.self),
            maxSegments: try r.int(defaulted: "sms.max_segments"), defaultCountry: country)
        let rateText = try r.string(defaulted: "sms.rate")
        let rate: Double?
        let trimmed = rateText.trimmingCharacters(in: .whitespaces)
        if ["none", "unlimited", "0"].contains(trimmed) {
            rate = nil
        } else if let value = Double(trimmed), (0.01...100_000).contains(value) {
            rate = value
        } else {
            throw ConfigError(
                "\(r.origin("sms.rate")): sms.rate: '\(rateText)' is not a number of messages per second from 0.01 to 100000 (or none)"
            )
        }
        let http = HTTPSettings(
            connectTimeout: try r.duration(defaulted: "sms.connect_timeout"),
            timeout: try r.duration(defaulted: "sms.timeout"), caFile: try r.string("sms.ca_file"))
        var config = SMSConfig(
            transport: try r.choice(defaulted: "sms.transport", as: SMSTransportKind.self), text: text, rate: rate,
            http: http, outboxDirectory: try r.string("sms.outbox_directory") ?? state + "/outbox",
            callbacks: try callbacks(r, environment: environment))
        try smsGateway(r, &config, environment: environment)
        return config
    }

    static func callbacks(_ r: Reader, environment: [String: String]) throws -> CallbackSettings? {
        guard let base = try r.string("sms.callback_base_url"), !base.isEmpty else { return nil }
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), URLComponents(string: base)?.host != nil else {
            throw ConfigError(
                "\(r.origin("sms.callback_base_url")): sms.callback_base_url: \(r.quoted("sms.callback_base_url", base)) is not an http(s) URL"
            )
        }
        if let parts = URLComponents(string: base),
            parts.user != nil || parts.password != nil || parts.query != nil || parts.fragment != nil
        {
            throw ConfigError(
                "\(r.origin("sms.callback_base_url")): sms.callback_base_url: give the scheme, host, port and path only (no credentials, query or fragment)"
            )
        }
        guard let file = try r.string("sms.callback_secret_file"), !file.isEmpty else {
            throw ConfigError(
                "\(r.origin("sms.callback_base_url")): sms.callback_base_url is set but sms.callback_secret_file is not (the key that signs callback URLs)"
            )
        }
        let secret = try ConfigSources.readSecret(
            file, key: "sms.callback_secret_file", environment: environment, configFile: r.file)
        guard secret.utf8.count >= 16 else {
            throw ConfigError("sms.callback_secret_file: the secret must be at least 16 bytes")
        }
        return CallbackSettings(baseURL: base, signer: CallbackSigner(secret: secret))
    }

    /// The chosen gateway's section (`sms.kannel`, `sms.twilio`, `sms.webhook`).
    static func smsGateway(_ r: Reader, _ config: inout SMSConfig, environment: [String: String]) throws {
        let transport = config.transport
        let sender = try r.string("sms.sender")
        func required(_ key: String) throws -> String {
            guard let value = try r.string(key), !value.isEmpty else {
                throw ConfigError(
                    "\(r.origin("sms.transport")): sms.transport is \(transport.rawValue) but \(key) is not set")
            }
            return value
        }
        func secret(_ key: String) throws -> String {
            try ConfigSources.readSecret(try required(key), key: key, environment: environment, configFile: r.file)
        }
        switch transport {
        case .outbox: break
        case .kannel:
            config.kannel = KannelSettings(
                url: try required("sms.kannel.url"), username: try required("sms.kannel.username"),
                password: try secret("sms.kannel.password_file"), sender: sender,
                dlrMask: try r.int(defaulted: "sms.kannel.dlr_mask"), smsc: try r.string("sms.kannel.smsc"))
        case .twilio:
            let service = try r.string("sms.twilio.messaging_service_sid")
            if sender == nil && service == nil {
                throw ConfigError(
                    "\(r.origin("sms.transport")): sms.transport is twilio: set sms.sender or sms.twilio.messaging_service_sid"
                )
            }
            config.twilio = TwilioSettings(
                url: try r.string(defaulted: "sms.twilio.url"), accountSID: try required("sms.twilio.account_sid"),
                authToken: try secret("sms.twilio.auth_token_file"), from: sender, messagingServiceSID: service)
        case .webhook:
            let headers = try httpHeaders(r, prefix: "sms.webhook", environment: environment)
            // An empty name leaves the field out of the request.
            func field(_ key: String) throws -> String? {
                guard let value = try r.string(key), !value.isEmpty else { return nil }
                return value
            }
            // The recipient and the text need a field each, and no two values one name. Each
            // key is read once (a read is also what `config check` shows).
            var fields: [String: String] = [:]
            var used: [String: String] = [:]
            for name in [
                "to_field", "text_field", "sender_field", "reference_field", "callback_field", "encoding_field",
            ] {
                let key = "sms.webhook.\(name)"
                guard let value = try field(key) else {
                    if name == "to_field" || name == "text_field" {
                        throw ConfigError("\(r.origin(key)): \(key): the webhook needs a field name for it")
                    }
                    continue
                }
                guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
                    throw ConfigError(
                        "\(r.origin(key)): \(key): '\(value)' is not a field name (letters, digits, _ - .)")
                }
                if let other = used[value] {
                    throw ConfigError(
                        "\(r.origin(key)): \(key): '\(value)' is already the name of sms.webhook.\(other)")
                }
                used[value] = name
                fields[name] = value
            }
            config.webhook = WebhookSettings(
                url: try required("sms.webhook.url"), headers: headers,
                toField: fields["to_field"] ?? "to", textField: fields["text_field"] ?? "text",
                senderField: fields["sender_field"], sender: sender, referenceField: fields["reference_field"],
                callbackField: fields["callback_field"], encodingField: fields["encoding_field"],
                idField: try field("sms.webhook.id_field"))
        }
    }
}
