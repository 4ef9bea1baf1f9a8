import Logging
import NIOCore
import NIOPosix
import RelanceDunning
import RelanceEmail
import ServiceLifecycle

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

    init(host: String, port: Int, logger: Logger, desk: @escaping @Sendable () -> BounceDesk?) {
        self.host = host
        self.port = port
        self.desk = desk
        self.logger = logger
    }

    func run() async throws {
        let desk = self.desk
        let logger = self.logger
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .minutes(5)))
                    try channel.pipeline.syncOperations.addHandler(LMTPSession(desk: desk, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
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

    let desk: @Sendable () -> BounceDesk?
    let logger: Logger
    var state = State.command
    var pending: [UInt8] = []
    var greeted = false
    var sender: String?
    var recipients: [String] = []
    var message: [UInt8] = []

    init(desk: @escaping @Sendable () -> BounceDesk?, logger: Logger) {
        self.desk = desk
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        write(context, "220 relance LMTP ready for bounces")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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

    /// Handles the complete lines received, until a message is being recorded.
    func process(_ context: ChannelHandlerContext) {
        while state != .busy {
            guard let newline = pending.firstIndex(of: 0x0A) else {
                if state == .command && pending.count > LMTPListener.maxCommandLine {
                    write(context, "500 5.5.2 line too long")
                    context.close(promise: nil)
                    pending.removeAll()
                }
                return
            }
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == 0x0D { line.removeLast() }
            if state == .data { dataLine(context, line) } else { command(context, line) }
        }
    }

    func dataLine(_ context: ChannelHandlerContext, _ line: [UInt8]) {
        if line == [0x2E] {
            finish(context)
            return
        }
        // Dot-stuffing (RFC 5321 §4.5.2).
        let content = line.first == 0x2E ? line.dropFirst() : line[...]
        guard message.count < LMTPListener.keptBytes else { return }
        message += content
        message += [0x0D, 0x0A]
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

    /// The message is complete: recorded off the event loop, then one reply a recipient.
    func finish(_ context: ChannelHandlerContext) {
        state = .busy
        let bytes = message
        let recipients = self.recipients
        let desk = self.desk
        let logger = self.logger
        let promise = context.eventLoop.makePromise(of: String.self)
        promise.completeWithTask {
            guard let desk = desk() else {
                return "451 4.3.5 email.bounce_address is not set: bounces cannot be matched"
            }
            do {
                let handling = try await desk.handle(bytes, envelopeRecipients: recipients)
                logger.notice(
                    "bounce read",
                    metadata: [
                        "kind": "\(handling.kind)", "job": "\(handling.jobID.map(String.init) ?? "-")",
                        "summary": "\(handling.summary)",
                    ])
                return "250 2.0.0 \(handling.kind)" + (handling.jobID.map { " job \($0)" } ?? "")
            } catch {
                logger.error("bounce not recorded; the MTA will retry", metadata: ["error": "\(error)"])
                return "451 4.3.0 not recorded now; try again later"
            }
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { reply in
            let (session, context) = bound.value
            for _ in recipients { session.write(context, reply) }
            session.reset()
            session.state = .command
            session.process(context)
        }
    }

    func reset() {
        sender = nil
        recipients.removeAll()
        message.removeAll()
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
