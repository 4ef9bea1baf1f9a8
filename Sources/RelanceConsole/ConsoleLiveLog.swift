import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RelanceCore
import RelanceStore
import ServiceLifecycle
import Synchronization

/// The live delivery log: the trace as it is recorded, through Server-Sent Events, with
/// the filters of `relance tail`. The store is read only while someone watches.
extension Console {
    /// How long one stream lasts; the browser's EventSource reconnects from the last id.
    static let streamSeconds: Double = 600

    func logFilter(_ request: Request) throws -> EventFilter {
        let channel = try query(request, "channel", max: 10)
        if let channel, RelanceCore.Channel(rawValue: channel) == nil {
            throw ConsoleStop.badInput("channel: unknown channel")
        }
        return EventFilter(caseRef: try query(request, "case"), channel: channel)
    }

    func liveLog(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let visitor = try gate(request, .personalData)
        let filter = try logFilter(request)
        let events = try await store.recentEvents(filter: filter, limit: 50)
        var stream: [(String, String)] = [("after", String(events.last?.id ?? 0))]
        if let c = filter.caseRef { stream.append(("case", c)) }
        if let c = filter.channel { stream.append(("channel", c)) }
        return page(
            request, visitor, title: visitor.language.text("live_log"), template: "log",
            context: [
                "case_ref": filter.caseRef ?? "",
                "channels": RelanceCore.Channel.allCases.map {
                    ["value": $0.rawValue, "selected": $0.rawValue == filter.channel]
                },
                "stream_href": "/log/events?" + FormEncoding.encode(stream),
                "events": events.map {
                    [
                        "at": $0.at, "job_id": $0.jobID, "href": "/jobs/\($0.jobID)", "event": $0.kind.rawValue,
                        "channel": $0.channel, "case_ref": $0.caseRef ?? "—", "detail": $0.detail.jsonText,
                    ]
                },
            ], script: "log.js")
    }

    func liveEvents(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        // A stream is not activity: an unattended tab does not keep its session alive.
        let visitor = try gate(request, .personalData, renew: false)
        let filter = try logFilter(request)
        var start: Int64
        if let last = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap({ Int64($0) }) {
            start = last
        } else if let given = try query(request, "after", max: 20) {
            guard let id = Int64(given), id >= 0 else { throw ConsoleStop.badInput("after: must be an event id") }
            start = id
        } else {
            start = try await store.recentEvents(filter: filter, limit: 1).last?.id ?? 0
        }
        // A reconnection replays what it missed, at most the last 1,000 events: an old or
        // forged id does not replay the whole trace.
        let floor = try await store.recentEvents(filter: filter, limit: 1000).first.map { $0.id - 1 } ?? 0
        start = max(start, floor)
        guard streams.open(session: visitor.token) else {
            throw ConsoleStop.tooMany(
                "too many live logs open: close one (at most \(StreamCount.perSession) a session, \(StreamCount.total) in all)"
            )
        }
        let counter = streams
        let token = visitor.token
        let user = visitor.session.user
        let role = visitor.session.role
        let hash = visitor.session.hash
        let sessions = self.sessions
        let users = self.users
        let store = self.store
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let first = start
        let body = ResponseBody { writer in
            defer { counter.close(session: token) }
            var after = first
            let started = Date()
            var quietSince = Date()
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            // Ends with the daemon too: a graceful shutdown does not wait for an open log.
            while Date().timeIntervalSince(started) < Self.streamSeconds, !Task.isCancelled,
                !Task.isShuttingDownGracefully
            {
                // Signed out, expired, removed or given another role: the stream ends.
                guard sessions.isLive(token), let current = users.current().user(named: user), current.role == role,
                    current.hash == hash
                else { break }
                let batch = try await store.events(after: after, filter: filter, limit: 500)
                if batch.isEmpty {
                    if Date().timeIntervalSince(quietSince) > 15 {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        quietSince = Date()
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    continue
                }
                var text = ""
                for event in batch {
                    let data = JSONValue.object([
                        "id": .number(String(event.id)), "at": .string(event.at),
                        "job_id": .number(String(event.jobID)),
                        "attempt": .number(String(event.attempt)), "event": .string(event.kind.rawValue),
                        "channel": .string(event.channel), "case_ref": event.caseRef.map(JSONValue.string) ?? .null,
                        "detail": .string(event.detail.jsonText),
                    ]).jsonText
                    // jsonText escapes line breaks: one `data:` line per event.
                    text += "id: \(event.id)\nevent: trace\ndata: \(data)\n\n"
                }
                try await writer.write(ByteBuffer(string: text))
                after = batch.last!.id
                quietSince = Date()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// Live logs open now, per session and in all: each reads the store every 300 ms.
final class StreamCount: Sendable {
    static let perSession = 3
    static let total = 50
    private let counts = Mutex<[String: Int]>([:])

    func open(session: String) -> Bool {
        counts.withLock { counts in
            guard counts[session, default: 0] < Self.perSession, counts.values.reduce(0, +) < Self.total else {
                return false
            }
            counts[session, default: 0] += 1
            return true
        }
    }

    func close(session: String) {
        counts.withLock { counts in
            let left = counts[session, default: 1] - 1
            counts[session] = left > 0 ? left : nil
        }
    }
}
