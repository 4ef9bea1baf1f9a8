import Foundation
import Logging
import RelanceCore
import Synchronization

/// The console's audit trail: every sign-in (and failed one), sign-out and action, with
/// the user's name, appended to `console.audit_file` as one JSON object a line, and told
/// to the daemon's log. Actions on jobs are in the jobs' trace as well (their note names
/// the user). Each node writes its own file.
final class ConsoleAudit: Sendable {
    let path: String
    let logger: Logger
    private let lock = Mutex(())

    struct Entry {
        var at: String
        var user: String
        var action: String
        var target: String
        var outcome: String
    }

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    func record(user: String, action: String, target: String, outcome: String, client: String) {
        let at = Timestamp.string(from: Date())
        let line =
            JSONValue.object([
                "at": .string(at), "user": .string(user), "action": .string(action), "target": .string(target),
                "outcome": .string(outcome), "client": .string(client),
            ]).jsonText + "\n"
        logger.notice(
            "console audit",
            metadata: [
                "user": "\(user)", "action": "\(action)", "target": "\(target)", "outcome": "\(outcome)",
                "client": "\(client)",
            ])
        lock.withLock { _ in
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                logger.error(
                    "console audit file cannot be written", metadata: ["file": "\(path)", "errno": "\(errno)"])
                return
            }
            defer { close(fd) }
            let bytes = Array(line.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            // No fsync per line: sign-in attempts must not make the daemon wait on the disk.
            if written != bytes.count {
                logger.error("console audit line not written whole", metadata: ["file": "\(path)"])
            }
        }
    }

    /// The last `limit` entries, newest first (read from the file's last 512 KiB).
    func recent(limit: Int) -> [Entry] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > 512 << 10 ? size - (512 << 10) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        if start > 0, !lines.isEmpty { lines.removeFirst() }  // cut in the middle
        var entries: [Entry] = []
        for line in lines.reversed() {
            guard entries.count < limit else { break }
            guard case .object(let fields)? = try? JSONValue.parse(String(line)) else { continue }
            func text(_ key: String) -> String { fields[key]?.stringValue ?? "" }
            entries.append(
                Entry(
                    at: text("at"), user: text("user"), action: text("action"), target: text("target"),
                    outcome: text("outcome")))
        }
        return entries
    }
}

/// Throttled sign-ins are told to the audit trail once a minute per user name at most:
/// an attacker's flood must not fill the disk.
final class AuditThrottle: Sendable {
    private let last = Mutex<[String: Date]>([:])

    func shouldRecord(_ user: String, now: Date = Date()) -> Bool {
        last.withLock { last in
            if last.count > 10_000 { last = last.filter { now.timeIntervalSince($0.value) < 60 } }
            if let previous = last[user.lowercased()], now.timeIntervalSince(previous) < 60 { return false }
            last[user.lowercased()] = now
            return true
        }
    }
}
