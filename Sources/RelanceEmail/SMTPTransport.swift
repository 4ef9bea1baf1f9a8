import CCurl
import Foundation
import RelanceCore
import RelanceTransport

/// SMTP settings. The password is read from a file by the daemon and never logged.
public struct SMTPSettings: Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain SMTP; only sensible on loopback or a trusted relay.
        case none
        /// STARTTLS required (the connection fails rather than sending in clear).
        case starttls
        /// TLS from the first byte (smtps, port 465).
        case tls
    }
    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The EHLO name; defaults to libcurl's choice.
    public var heloName: String?
    public var connectTimeout: Double
    /// Connecting, the envelope and writing the message.
    public var timeout: Double
    /// How long the server may take to answer the final `.` of DATA: its own, not shared
    /// with `timeout`, 10 minutes by default (RFC 5321 4.5.3.2.6), because the message is
    /// then in the server's hands and giving up early is what duplicates mail (RFC 1047).
    public var dataTimeout: Double
    /// Extra CA bundle (PEM) for a private relay; verification always stays on.
    public var caFile: String?

    public init(
        host: String, port: Int = 25, security: Security = .starttls, username: String? = nil, password: String? = nil,
        heloName: String? = nil, connectTimeout: Double = 10, timeout: Double = 60, dataTimeout: Double = 600,
        caFile: String? = nil
    ) {
        self.dataTimeout = dataTimeout
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.caFile = caFile
    }

    var url: String {
        let scheme = security == .tls ? "smtps" : "smtp"
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(scheme)://\(host):\(port)/\(heloName ?? "")"
    }
}

/// SMTP through libcurl, one connection per session (worker), reused between messages.
public struct SMTPTransport: EmailTransport {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public var summary: String {
        "smtp \(settings.url) security=\(settings.security.rawValue)" + (settings.username.map { " user=\($0)" } ?? "")
    }

    public func makeSession() throws -> any EmailSession {
        try SMTPConnection(settings: settings)
    }
}

/// One SMTP connection, reused between the messages of a worker. libcurl opens it
/// (connect, greeting, EHLO, STARTTLS with certificate verification, AUTH) and keeps its
/// TLS; the mail transactions are spoken here over libcurl's byte stream, so that the
/// envelope is pipelined (RFC 2920) when the server offers it: MAIL FROM, RCPT TO and
/// DATA in one write, then the message, two round trips a message instead of four.
final class SMTPConnection: EmailSession {
    private let settings: SMTPSettings
    private let session = CurlSession(label: "relance.smtp")
    /// What the server offered when this connection was opened. `@unchecked Sendable`:
    /// only touched on the session's queue.
    private final class State: @unchecked Sendable {
        var capabilities = SMTPCapabilities()
        /// When the connection last finished a message.
        var lastUsed = ContinuousClock.now
    }
    private let state = State()
    /// A connection idle longer than this is not reused: a NAT or firewall may have
    /// dropped it without a word to either side, and a command sent into it would only
    /// fail at the deadline (libcurl's own limit was 118 s).
    static let maximumIdle = Duration.seconds(60)

    init(settings: SMTPSettings) throws {
        self.settings = settings
    }

    /// Says QUIT (RFC 5321 4.1.1.10) and waits a moment for the answer, then closes.
    func close() async {
        _ = await session.performOnConnection { curl, isNew in
            if !isNew, let stream = CurlStream(curl: curl) {
                let soon = ContinuousClock.now + .seconds(2)
                if (try? stream.send(Array("QUIT\r\n".utf8), until: soon)) != nil {
                    var reply = [UInt8](repeating: 0, count: 512)
                    _ = try? reply.withUnsafeMutableBytes { try stream.receive(into: $0, until: soon) }
                }
                stream.shutDown()
            }
            return ((), false)
        } orElse: { _ in
            ()
        }
    }

    /// The outcome of one try on the connection at hand.
    private enum Attempt: Sendable {
        case done(DispatchOutcome)
        /// The kept connection could not take the message (the server closed it or said
        /// 421, it sat idle too long, or it broke before any reply): nothing of the message
        /// was accepted, so it goes again on a new connection within the same attempt.
        case stale
    }

    func send(_ email: OutgoingEmail, fence: DispatchFence) async -> DispatchOutcome {
        let settings = self.settings
        let session = self.session
        let state = self.state
        // One deadline for the whole message, a reopened connection included: the lease
        // must outlast it (configuration checks lease > connect_timeout + timeout).
        let deadline = ContinuousClock.now + .milliseconds(Int(settings.timeout * 1000))
        for _ in 0..<2 {
            let attempt = await session.performOnConnection { curl, isNew in
                Self.send(
                    email, curl: curl, isNew: isNew, session: session, settings: settings, state: state,
                    deadline: deadline, fence: fence)
            } orElse: { message in
                .done(.transient(DispatchFailure(reason: .curl, message: message)))
            }
            if case .done(let outcome) = attempt { return outcome }
        }
        return .transient(
            DispatchFailure(reason: .network, message: "\(settings.host):\(settings.port) closed the connection"))
    }

    private static func send(
        _ email: OutgoingEmail, curl: UnsafeMutableRawPointer, isNew: Bool, session: CurlSession,
        settings: SMTPSettings, state: State, deadline: ContinuousClock.Instant, fence: DispatchFence
    ) -> (result: Attempt, keep: Bool) {
        let stream: CurlStream
        if isNew {
            switch open(curl: curl, session: session, settings: settings, deadline: deadline) {
            case .success(let (opened, capabilities)):
                stream = opened
                state.capabilities = capabilities
                state.lastUsed = .now
            case .failure(let failure):
                return (.done(failure.outcome), false)
            }
        } else {
            guard let kept = CurlStream(curl: curl) else { return (.stale, false) }
            guard kept.isReusable(), state.lastUsed.duration(to: .now) < maximumIdle else {
                kept.shutDown()
                return (.stale, false)
            }
            stream = kept
        }
        let commands: [[UInt8]]
        do {
            commands = try SMTPEnvelope.commands(
                from: email.envelopeFrom, to: email.recipients, size: email.bytes.count,
                capabilities: state.capabilities)
        } catch {
            // Nothing was sent: the connection stays good for the next message. A sender
            // the server cannot take is the configuration's problem: the job waits for the fix.
            if error.concernsSender {
                let message = "email.from: \(error.description)"
                return (.done(.transient(DispatchFailure(reason: .sender, message: message))), true)
            }
            return (.done(.permanent(DispatchFailure(reason: .address, message: error.description))), true)
        }
        var transaction = SMTPTransaction(stream: stream, deadline: deadline, settings: settings, fence: fence)
        let result = transaction.run(
            commands: commands, data: SMTPEnvelope.data(email.bytes), pipelining: state.capabilities.pipelining)
        switch result {
        case .accepted(let reply):
            state.lastUsed = .now
            return (
                .done(.accepted(ProviderResponse(code: reply.code, text: reply.text, providerRef: reply.queueID))), true
            )
        case .refused(let reply, _) where !isNew && reply.code == 421 && transaction.repliesRead == 1:
            // The server's idle timeout raced the first command: nothing was accepted.
            stream.shutDown()
            return (.stale, false)
        case .refused(let reply, let step) where reply.code < 400:
            // A code out of place (250 to DATA) must never pass for an acceptance.
            // (After the whole message, such a code never gets here: the transaction calls
            // it unanswered, and the job uncertain.)
            stream.shutDown()
            let failure = DispatchFailure(
                reason: .smtpReply, message: "unexpected SMTP reply to \(step): \(reply.text)", code: reply.code,
                enhancedCode: reply.enhancedCode)
            return (.done(.transient(failure)), false)
        case .refused(let reply, _):
            stream.shutDown()
            return (.done(SMTPClassification.classify(reply: reply, transportError: nil)), false)
        case .fenced:
            // After the server's 354, before a byte of the message: closing now aborts
            // the transaction at the server, nothing is delivered.
            stream.shutDown()
            return (.done(fence.refusal("the server could answer the message (smtp.data_timeout)")), false)
        case .unanswered(let why):
            // The whole message and its final `.` were written: the server may have it.
            stream.shutDown()
            return (.done(.uncertain(DispatchFailure(reason: .smtpData, message: why))), false)
        case .broken(let failure, let repliesRead):
            stream.shutDown()
            // A kept connection the server dropped before answering anything: try a new one.
            if !isNew && repliesRead == 0 && failure != .timedOut { return (.stale, false) }
            return (
                .done(SMTPClassification.classify(reply: nil, transportError: transaction.describe(failure))), false
            )
        }
    }

    /// Opens the connection: libcurl does the greeting, EHLO, STARTTLS and AUTH and stops
    /// there (`CURLOPT_CONNECT_ONLY`); the dialogue it captured tells what the server offers.
    static func open(
        curl: UnsafeMutableRawPointer, session: CurlSession, settings: SMTPSettings, deadline: ContinuousClock.Instant
    ) -> Result<(CurlStream, SMTPCapabilities), OpenFailure> {
        let milliseconds = max(1, CurlStream.milliseconds(until: deadline))
        var setupError: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if setupError == CURLE_OK && code != CURLE_OK { setupError = code } }
        set(relance_curl_setopt_string(curl, CURLOPT_URL, settings.url))
        set(relance_curl_setopt_long(curl, CURLOPT_CONNECT_ONLY, 1))
        set(relance_curl_capture_replies(curl, session.replies))
        set(relance_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        set(relance_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000)))
        set(relance_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, milliseconds))
        switch settings.security {
        case .none: set(relance_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue)))
        case .starttls, .tls: set(relance_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)))
        }
        if let caFile = settings.caFile { set(relance_curl_setopt_string(curl, CURLOPT_CAINFO, caFile)) }
        if let username = settings.username { set(relance_curl_setopt_string(curl, CURLOPT_USERNAME, username)) }
        if let password = settings.password { set(relance_curl_setopt_string(curl, CURLOPT_PASSWORD, password)) }
        guard setupError == CURLE_OK else {
            let message = "libcurl option refused: \(String(cString: curl_easy_strerror(setupError)))"
            return .failure(OpenFailure(outcome: .transient(DispatchFailure(reason: .curl, message: message))))
        }
        let result = curl_easy_perform(curl)
        let dialogue = CurlSession.text(session.replies)
        guard result == CURLE_OK, let stream = CurlStream(curl: curl) else {
            let error = String(cString: curl_easy_strerror(result))
            // A reply only explains the failure if the server said no (a refused AUTH).
            let outcome = SMTPClassification.classify(
                reply: SMTPReply.lastRefusal(in: dialogue),
                transportError: "\(error) (libcurl \(result.rawValue)) talking to \(settings.host):\(settings.port)")
            return .failure(OpenFailure(outcome: outcome))
        }
        return .success((stream, SMTPCapabilities(dialogue: dialogue)))
    }

    struct OpenFailure: Error {
        var outcome: DispatchOutcome
    }
}

/// One mail transaction on an open connection: the envelope (pipelined or one command
/// at a time), then the message once the server said `354`.
struct SMTPTransaction {
    enum Result {
        case accepted(SMTPReply)
        /// The server answered a command or the message with something else than what
        /// lets the transaction go on (a refusal, or a code out of place); `step` says where.
        case refused(SMTPReply, step: String)
        /// The exchange broke before a reply explained anything, and before the end of
        /// the message was written: the server cannot have accepted it.
        case broken(CurlStream.Failure, repliesRead: Int)
        /// The message was written whole (its final `.` included) and no answer came:
        /// closed, reset, `smtp.data_timeout` passed, or something that is not an answer
        /// (a line that is no SMTP reply, a code other than 2xx, 4xx or 5xx). It may have
        /// been delivered.
        case unanswered(String)
        /// The worker's lease would not outlast the message and its answer: nothing of
        /// the message was written.
        case fenced
    }

    let stream: CurlStream
    let deadline: ContinuousClock.Instant
    let settings: SMTPSettings
    let fence: DispatchFence
    private var reader = SMTPReplyReader()
    /// Where received bytes land before the reader takes them.
    private var chunk = [UInt8](repeating: 0, count: 4096)
    private(set) var repliesRead = 0
    /// The commands of the transaction, and what the client was doing with them: an
    /// error message names the step, and only an error needs its words.
    private var commands: [[UInt8]] = []
    private enum Step {
        case sendingEnvelope, sending(Int), waiting(Int), sendingMessage, waitingForMessage
    }
    private var step = Step.sendingEnvelope

    init(stream: CurlStream, deadline: ContinuousClock.Instant, settings: SMTPSettings, fence: DispatchFence) {
        self.stream = stream
        self.deadline = deadline
        self.settings = settings
        self.fence = fence
    }

    /// `commands` are MAIL FROM, the RCPT TOs and DATA; `data` the dot-stuffed message.
    mutating func run(commands: [[UInt8]], data: [UInt8], pipelining: Bool) -> Result {
        self.commands = commands
        do {
            if pipelining {
                step = .sendingEnvelope
                try stream.send(Array(commands.joined()), until: deadline)
            }
            // Every reply of the group is read in order; the first that is not the expected
            // one explains the failure (after a refused MAIL FROM the others only repeat it).
            for (index, command) in commands.enumerated() {
                if !pipelining {
                    step = .sending(index)
                    try stream.send(command, until: deadline)
                }
                step = .waiting(index)
                let reply = try nextReply(until: deadline)
                let isData = index == commands.count - 1
                guard isData ? reply.code == 354 : (200..<300).contains(reply.code) else {
                    return .refused(reply, step: name(index))
                }
            }
            // The irrevocable part: once the final `.` is written the server may deliver
            // the message whatever happens to this connection. The lease must cover
            // writing it and the whole wait for the answer.
            let answeredBy = max(deadline, .now) + .milliseconds(Int(settings.dataTimeout * 1000))
            guard fence.permits(answeredBy: answeredBy) else { return .fenced }
            step = .sendingMessage
            do {
                try stream.send(data, until: deadline)
            } catch {
                // A server refusing in the middle of the message (552, too big) says why
                // before it closes: that reply explains more than the broken write.
                let soon = min(deadline, .now + .seconds(1))
                if let reply = try? nextReply(until: soon), reply.code >= 400 {
                    return .refused(reply, step: "the message")
                }
                throw error
            }
            step = .waitingForMessage
            let reply: SMTPReply
            do {
                reply = try nextReply(until: .now + .milliseconds(Int(settings.dataTimeout * 1000)))
            } catch let failure as CurlStream.Failure {
                return .unanswered(describe(failure))
            } catch {
                // Garbage where the reply belongs: whatever the server did with the
                // message, this says nothing about it.
                return .unanswered(
                    "\(error) after the end of the message, from \(settings.host):\(settings.port): it may have been delivered"
                )
            }
            switch reply.code {
            case 200..<300: return .accepted(reply)
            case 400..<600: return .refused(reply, step: "the message")
            default:
                return .unanswered(
                    "\(settings.host):\(settings.port) answered the end of the message with \(reply.text), which is no answer: it may have been delivered"
                )
            }
        } catch let failure as CurlStream.Failure {
            return .broken(failure, repliesRead: repliesRead)
        } catch {
            return .broken(.failed("\(error)"), repliesRead: repliesRead)
        }
    }

    /// `MAIL FROM`, `RCPT TO`, `DATA`: the verb of a command.
    private func name(_ index: Int) -> String {
        String(decoding: commands[index].prefix { $0 != UInt8(ascii: ":") && $0 != 13 }, as: UTF8.self)
    }

    /// The error text for a broken exchange.
    func describe(_ failure: CurlStream.Failure) -> String {
        let peer = "\(settings.host):\(settings.port)"
        let step =
            switch self.step {
            case .sendingEnvelope: "sending \(commands.indices.map(name).joined(separator: ", "))"
            case .sending(let index): "sending \(name(index))"
            case .waiting(let index): "waiting for the reply to \(name(index))"
            case .sendingMessage: "sending the message"
            case .waitingForMessage: "waiting for the reply to the message"
            }
        switch failure {
        case .closed:
            if case .waitingForMessage = self.step {
                return
                    "\(peer) closed the connection after the end of the message, before its reply: it may have been delivered"
            }
            return "\(peer) closed the connection (\(step))"
        case .timedOut:
            if case .waitingForMessage = self.step {
                return
                    "no reply from \(peer) within smtp.data_timeout (\(settings.dataTimeout) s) after the end of the message: it may have been delivered"
            }
            return "no progress with \(peer) within smtp.timeout (\(settings.timeout) s) while \(step)"
        case .failed(let message):
            if case .waitingForMessage = self.step {
                return "\(message) talking to \(peer), \(step): it may have been delivered"
            }
            return "\(message) talking to \(peer), \(step)"
        }
    }

    /// Sends one command and reads its reply (for the probe).
    mutating func command(_ verb: String) -> Swift.Result<SMTPReply, CurlStream.Failure> {
        commands = [Array("\(verb)\r\n".utf8)]
        do {
            step = .sending(0)
            try stream.send(commands[0], until: deadline)
            step = .waiting(0)
            return .success(try nextReply(until: deadline))
        } catch let failure as CurlStream.Failure {
            return .failure(failure)
        } catch {
            return .failure(.failed("\(error)"))
        }
    }

    private mutating func nextReply(until deadline: ContinuousClock.Instant) throws -> SMTPReply {
        while true {
            if let reply = try reader.next() {
                repliesRead += 1
                return reply
            }
            let stream = self.stream
            let count = try chunk.withUnsafeMutableBytes { try stream.receive(into: $0, until: deadline) }
            chunk.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }
}

/// What `relance doctor` learns from a server: its greeting and what it offers.
public struct SMTPProbe: Sendable {
    public var greeting: String
    public var capabilities: SMTPCapabilities
}

extension SMTPTransport {
    /// Connects as for a message (greeting, EHLO, STARTTLS and AUTH when configured) and
    /// sends NOOP: for `relance doctor`. Returns the server's last reply, or why not.
    public func probe() async -> Result<SMTPProbe, DispatchFailure> {
        let settings = self.settings
        let session = CurlSession(label: "relance.smtp.probe")
        return await session.performOnConnection { curl, _ in
            // Opened exactly as for a message, then NOOP and QUIT over the same stream.
            let deadline = ContinuousClock.now + .milliseconds(Int(settings.connectTimeout * 2000))
            let peer = "\(settings.host):\(settings.port)"
            switch SMTPConnection.open(curl: curl, session: session, settings: settings, deadline: deadline) {
            case .failure(let failure):
                var message = "could not connect"
                if case .transient(let why) = failure.outcome { message = why.message }
                if case .permanent(let why) = failure.outcome { message = why.message }
                if !message.contains(peer) { message += " (\(peer))" }
                return (.failure(DispatchFailure(reason: .smtp, message: message)), false)
            case .success(let (stream, capabilities)):
                defer { stream.shutDown() }
                let dialogue = CurlSession.text(session.replies)
                let greeting = dialogue.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                var transaction = SMTPTransaction(
                    stream: stream, deadline: deadline, settings: settings, fence: .unlimited)
                switch transaction.command("NOOP") {
                case .success(let reply) where (200..<300).contains(reply.code):
                    _ = transaction.command("QUIT")
                    return (.success(SMTPProbe(greeting: greeting, capabilities: capabilities)), false)
                case .success(let reply):
                    return (
                        .failure(DispatchFailure(reason: .smtp, message: "NOOP answered \(reply.text) at \(peer)")),
                        false
                    )
                case .failure(let failure):
                    return (.failure(DispatchFailure(reason: .smtp, message: transaction.describe(failure))), false)
                }
            }
        } orElse: { message in
            .failure(DispatchFailure(reason: .curl, message: message))
        }
    }
}
