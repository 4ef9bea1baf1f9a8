import Logging
import NIOCore
import NIOPosix
import RelanceDunning
import RelanceEmail
import ServiceLifecycle
import Synchronization

/// An LMTP server (RFC 2033) on loopback for what comes back to the bounce address
/// (`email.bounces.lmtp_listen`): Postfix delivers the bounce domain to it
/// (`transport_maps`: `bounce.example lmtp:inet:127.0.0.1:8426`) without forking a
/// process per message. Each message goes to the `BounceDesk`; every recipient gets
/// `250` when the message was recorded or ignored (it names no job), `451` when the
/// store could not be written, so that the MTA keeps it and tries again.
final class LMTPListener: Service, Sendable {
    let host: String
    let port: Int
    /// The desk in force (the composer and bounce address change on SIGHUP).
    let desk: @Sendable () -> BounceDesk?
    let logger: Logger

    /// Input kept of one message: a DSN's report comes first; the rest is the returned message.
    static let keptBytes = BounceParser.maximumInput
    static let maxRecipients = 100
    static let maxCommandLine = 4096
    /// A line in DATA longer than this is kept in pieces (MTAs wrap at 998 bytes).
    static let maxDataLine = 1 << 20

    init(host: String, port: Int, logger: Logger, desk: @escaping @Sendable () -> BounceDesk?) {
        self.host = host
        self.port = port
        self.desk = desk
        self.logger = logger
    }

    func run() async throws {
        let desk = self.desk
        let logger = self.logger
        let counter = LMTPSession.Connections()
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .minutes(5)))
                        try channel.pipeline.syncOperations.addHandler(
                            LMTPSession(desk: desk, logger: logger, connections: counter))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw ConfigError("email.bounces.lmtp_listen \(host):\(port): cannot listen: \(error)")
        }
        logger.info("LMTP listener for bounces", metadata: ["listen": "\(host):\(port)"])
        try await withGracefulShutdownHandler {
            try await server.closeFuture.get()
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
    }
}

/// One LMTP connection: the command dialogue and the message, on its event loop.
final class LMTPSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State { case command, data, busy }

    /// The connections open now, across the listener (the local MTA opens a few; a
    /// program holding hundreds would starve the daemon of file descriptors).
    final class Connections: Sendable {
        let count = Mutex(0)
        static let limit = 32
        func enter() -> Bool {
            count.withLock {
                guard $0 < Self.limit else { return false }
                $0 += 1
                return true
            }
        }
        func leave() { count.withLock { $0 -= 1 } }
    }

    /// A transaction (MAIL to the final dot) must end within this, however slowly its
    /// bytes come (the idle timer restarts at each byte); a connection, within
    /// `sessionLimit` (so that none holds one of the 32 slots for ever).
    static let transactionLimit = TimeAmount.minutes(10)
    static let sessionLimit = TimeAmount.minutes(60)

    let desk: @Sendable () -> BounceDesk?
    let logger: Logger
    let connections: Connections
    var entered = false
    var state = State.command
    /// Unread input from `start`; `searched` is where the search for the next line end resumes.
    var pending: [UInt8] = []
    var start = 0
    var searched = 0
    /// In DATA, a line longer than the reader keeps was cut: what follows is no line start.
    var midLine = false
    var greeted = false
    var sender: String?
    var recipients: [String] = []
    var message: [UInt8] = []
    var deadline: Scheduled<Void>?
    var sessionDeadline: Scheduled<Void>?

    init(desk: @escaping @Sendable () -> BounceDesk?, logger: Logger, connections: Connections) {
        self.desk = desk
        self.logger = logger
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        guard connections.enter() else {
            write(context, "421 4.3.2 too many connections; try again later")
            state = .busy
            context.close(promise: nil)
            return
        }
        entered = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        sessionDeadline = context.eventLoop.scheduleTask(in: Self.sessionLimit) {
            let (session, context) = bound.value
            guard context.channel.isActive, session.state != .busy else { return }
            session.write(context, "421 4.4.2 connection too long, closing")
            session.state = .busy
            context.close(promise: nil)
        }
        write(context, "220 relance LMTP ready for bounces")
    }

    /// A client that sends commands without reading the replies is not read either.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable && state != .busy)
            .whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if entered { connections.leave() }
        entered = false
        deadline?.cancel()
        sessionDeadline?.cancel()
        pending = []
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .busy || entered else { return }
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { pending += bytes }
        process(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            write(context, "421 4.4.2 idle too long, closing")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Handles the complete lines received, until a message is being recorded. Linear in
    /// the input: the search resumes where it stopped, and consumed bytes are dropped in
    /// bulk.
    func process(_ context: ChannelHandlerContext) {
        while state != .busy {
            let newline = pending[searched...].firstIndex(of: 0x0A)
            guard let newline else {
                searched = pending.count
                let partial = pending.count - start
                if state == .command && partial > LMTPListener.maxCommandLine {
                    tooLong(context)
                } else if state == .data && partial > LMTPListener.maxDataLine {
                    // A line longer than any MTA writes: kept as it comes, in pieces.
                    let piece = Array(pending[start...])
                    keep(piece[...], lineStart: !midLine)
                    midLine = true
                    consume(upTo: pending.count)
                }
                break
            }
            var line = pending[start..<newline]
            consume(upTo: newline + 1)
            if line.last == 0x0D { line = line.dropLast() }
            if state == .data {
                dataLine(context, line)
            } else if line.count > LMTPListener.maxCommandLine {
                tooLong(context)
            } else {
                command(context, Array(line))
            }
        }
        if start > 65536 || start == pending.count {
            pending.removeSubrange(..<start)
            searched -= start
            start = 0
        }
    }

    func consume(upTo index: Int) {
        start = index
        searched = index
    }

    func tooLong(_ context: ChannelHandlerContext) {
        write(context, "500 5.5.2 line too long")
        state = .busy
        pending.removeAll()
        start = 0
        searched = 0
        context.close(promise: nil)
    }

    func dataLine(_ context: ChannelHandlerContext, _ line: ArraySlice<UInt8>) {
        let lineStart = !midLine
        midLine = false
        if lineStart && line.count == 1 && line.first == 0x2E {
            finish(context)
            return
        }
        keep(line, lineStart: lineStart)
        keep([0x0D, 0x0A], lineStart: false)
    }

    /// Appends to the message up to what is kept; dot-stuffing undone at a line's start
    /// (RFC 5321 §4.5.2).
    func keep(_ bytes: ArraySlice<UInt8>, lineStart: Bool) {
        let content = lineStart && bytes.first == 0x2E ? bytes.dropFirst() : bytes
        let room = LMTPListener.keptBytes - message.count
        guard room > 0 else { return }
        message += content.prefix(room)
    }

    func command(_ context: ChannelHandlerContext, _ line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        let verb = text.prefix { $0 != " " && $0 != ":" }.uppercased()
        switch verb {
        case "LHLO":
            greeted = true
            reset()
            write(context, "250-relance\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME")
        case "MAIL":
            guard greeted else { return write(context, "503 5.5.1 LHLO first") }
            guard sender == nil else { return write(context, "503 5.5.1 nested MAIL") }
            guard let address = Self.path(text, after: "MAIL FROM:") else {
                return write(context, "501 5.5.4 syntax: MAIL FROM:<address>")
            }
            sender = address
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: Self.transactionLimit) {
                let (session, context) = bound.value
                guard session.sender != nil, session.state != .busy else { return }
                session.write(context, "421 4.4.2 transaction too long, closing")
                session.state = .busy
                context.close(promise: nil)
            }
            write(context, "250 2.1.0 sender ok")
        case "RCPT":
            guard sender != nil else { return write(context, "503 5.5.1 MAIL first") }
            guard let address = Self.path(text, after: "RCPT TO:"), !address.isEmpty else {
                return write(context, "501 5.5.4 syntax: RCPT TO:<address>")
            }
            guard recipients.count < LMTPListener.maxRecipients else {
                return write(context, "452 4.5.3 too many recipients")
            }
            recipients.append(address)
            write(context, "250 2.1.5 recipient ok")
        case "DATA":
            guard !recipients.isEmpty else { return write(context, "503 5.5.1 RCPT first") }
            state = .data
            midLine = false
            message.removeAll(keepingCapacity: true)
            write(context, "354 2.0.0 end with <CRLF>.<CRLF>")
        case "RSET":
            reset()
            write(context, "250 2.0.0 reset")
        case "NOOP":
            write(context, "250 2.0.0 ok")
        case "VRFY":
            write(context, "252 2.5.0 not verified")
        case "QUIT":
            write(context, "221 2.0.0 bye")
            context.close(promise: nil)
            state = .busy
        default:
            write(context, "500 5.5.2 unknown command")
        }
    }

    /// The message is complete: recorded off the event loop, then one reply a recipient
    /// (LMTP), each recipient read as the address that names its job.
    func finish(_ context: ChannelHandlerContext) {
        state = .busy
        // Nothing more is read while the message is recorded (a client streaming on would
        // fill memory); pipelined commands already read wait in `pending`.
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        deadline?.cancel()
        let bytes = message
        let recipients = self.recipients
        let desk = self.desk
        let logger = self.logger
        let promise = context.eventLoop.makePromise(of: [String].self)
        promise.completeWithTask {
            guard let desk = desk() else {
                return recipients.map { _ in "451 4.3.5 email.bounce_address is not set: bounces cannot be matched" }
            }
            // Each recipient that is a bounce address names its own job (the same address
            // twice, once); when none is, the message's headers are read once for all.
            // The message is parsed once.
            let report = BounceParser.parse(bytes)
            let named = recipients.filter { desk.addresses.decode($0) != nil }
            var groups: [[String]] = []
            if named.isEmpty {
                groups = [recipients]
            } else {
                var seen: [String: Int] = [:]
                for recipient in recipients {
                    let key = recipient.lowercased()
                    if let index = seen[key] {
                        groups[index].append(recipient)
                    } else {
                        seen[key] = groups.count
                        groups.append([recipient])
                    }
                }
            }
            var replies: [String: String] = [:]
            for group in groups {
                do {
                    let handling = try await desk.handle(
                        report, envelopeRecipients: [group[0]], useHeaders: named.isEmpty)
                    logger.notice(
                        "bounce read",
                        metadata: [
                            "kind": "\(handling.kind)", "job": "\(handling.jobID.map(String.init) ?? "-")",
                            "summary": "\(handling.summary)",
                        ])
                    let reply = "250 2.0.0 \(handling.kind)" + (handling.jobID.map { " job \($0)" } ?? "")
                    for recipient in group { replies[recipient] = reply }
                } catch {
                    logger.error("bounce not recorded; the MTA will retry", metadata: ["error": "\(error)"])
                    for recipient in group { replies[recipient] = "451 4.3.0 not recorded now; try again later" }
                }
            }
            // One reply a recipient, in their order (RFC 2033).
            return recipients.map { replies[$0] ?? "451 4.3.0 not recorded now; try again later" }
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { replies in
            let (session, context) = bound.value
            for reply in replies { session.write(context, reply) }
            session.reset()
            session.state = .command
            context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
                .whenFailure { _ in }
            session.process(context)
        }
    }

    func reset() {
        sender = nil
        recipients.removeAll()
        message.removeAll()
        deadline?.cancel()
        deadline = nil
    }

    func write(_ context: ChannelHandlerContext, _ reply: String) {
        let text = reply.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
            .map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init)) }
            .joined(separator: "\r\n")
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text + "\r\n")), promise: nil)
    }

    /// The address in `MAIL FROM:<…>` or `RCPT TO:<…>` (parameters after it ignored).
    static func path(_ line: String, after prefix: String) -> String? {
        guard line.uppercased().hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count).drop { $0 == " " }
        guard rest.first == "<", let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: rest.startIndex)..<close])
    }
}
