import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify protocol without libsystemd: datagrams of `KEY=value` lines to the
/// unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract
/// namespace). Without the variable every call is a no-op, so the daemon runs the
/// same under systemd, in a terminal and in tests.
public final class SystemdNotifier: Sendable {
    private let socketPath: String?
    /// Half of `$WATCHDOG_USEC`, when systemd asks this process for keep-alives.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Duration?
        if path != nil, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            // WATCHDOG_PID, when set, names the process the watchdog is for.
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { interval = .microseconds(Int64(usec / 2)) }
        }
        watchdogInterval = interval
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends `state` (e.g. `READY=1`, `STATUS=…`). Returns false when it could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        // "@name": Linux abstract namespace, a leading NUL byte.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { addressPointer in
                message.withUnsafeBytes { body in
                    // Never blocks: a receiver that stopped reading (its buffer full) must not
                    // hang the daemon, here with the shutdown manager's lock held. The
                    // message is dropped then, as when the socket is gone.
                    sendto(
                        fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), addressPointer,
                        length)
                }
            }
        }
        return sent == message.count
    }
}

/// Tells systemd the daemon's life: `READY=1` once migrations ran and templates loaded
/// (the service group starts after both), `STATUS=` with queue figures, `WATCHDOG=1`
/// while the dispatcher's workers are alive, `STOPPING=1` on SIGTERM. Reloads report
/// `RELOADING=1` then `READY=1` themselves (see `Reloader`).
final class NotifyService: Service {
    let notifier: SystemdNotifier
    let dispatcher: Dispatcher
    let status: @Sendable () async -> String?
    let logger: Logger

    init(
        notifier: SystemdNotifier, dispatcher: Dispatcher, logger: Logger,
        status: @escaping @Sendable () async -> String?
    ) {
        self.notifier = notifier
        self.dispatcher = dispatcher
        self.logger = logger
        self.status = status
    }

    func run() async throws {
        guard notifier.isEnabled else {
            // Nothing to tell; still wait for the end so that the group treats us like the others.
            await waitForShutdown()
            return
        }
        notifier.notify("READY=1\nSTATUS=\(await status() ?? "started")")
        logger.info(
            "notified systemd: ready",
            metadata: ["watchdog": "\(notifier.watchdogInterval.map { "\($0)" } ?? "off")"])
        let tick = notifier.watchdogInterval.map { min($0, .seconds(5)) } ?? .seconds(5)
        var lastStatus = ContinuousClock.now
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if notifier.watchdogInterval != nil {
                    if let stalled = dispatcher.stalledWorker() {
                        // No keep-alive: systemd restarts the service after WatchdogSec.
                        logger.error(
                            "dispatcher worker stalled; withholding the watchdog keep-alive",
                            metadata: ["worker": "\(stalled)"])
                    } else {
                        notifier.notify("WATCHDOG=1")
                    }
                }
                if ContinuousClock.now - lastStatus >= .seconds(5) {
                    lastStatus = .now
                    if let text = await status() { notifier.notify("STATUS=\(text)") }
                }
                try? await Task.sleep(for: tick)
            }
        } onGracefulShutdown: {
            self.notifier.notify("STOPPING=1\nSTATUS=draining")
        }
    }

    private func waitForShutdown() async {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(200))
            }
        } onGracefulShutdown: {
        }
    }
}
