import Foundation
import Logging
import RelanceCore
import Testing

@testable import RelanceDaemon

@Suite("Log lines of the daemon")
struct LogLineTests {
    static let event = DeliveryEvent(
        id: 9, jobID: 42, attempt: 2, at: "2026-12-04T10:00:00.000Z", kind: .transientError, caseRef: "C-1",
        channel: "email",
        detail: .object([
            "message": .string("451 try later\r\nX-Forged: yes"), "code": .number("451"),
            "channel": .string("detail wins"),
        ]))

    @Test("a trace event's fields: the fixed ones, then its detail, a detail key winning")
    func fields() {
        let fields = Dictionary(uniqueKeysWithValues: TraceLogger.fields(Self.event))
        #expect(
            fields == [
                "event": "transient_error", "job": "42", "attempt": "2", "case": "C-1", "channel": "detail wins",
                "message": "451 try later\r\nX-Forged: yes", "code": "451",
            ])
        #expect(TraceLogger.level(.transientError) == .notice)
        #expect(TraceLogger.level(.dead) == .warning)
        #expect(TraceLogger.level(.accepted) == .info)
    }

    @Test("logfmt: keys sorted after at, level and msg; a line break cannot start a second line")
    func logfmt() throws {
        var handler = LineLogHandler(label: "t", format: .logfmt, level: .info)
        handler.metadata = ["worker": "w0", "job": "from the handler"]
        let line = handler.line(level: .notice, message: "trace", TraceLogger.fields(Self.event))
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().split(separator: "\n").count == 1)
        let body = try #require(line.split(separator: " ", maxSplits: 1).last)
        #expect(line.hasPrefix("at=20"))
        #expect(
            body
                == "level=notice msg=trace attempt=2 case=C-1 channel=\"detail wins\" code=451 event=transient_error job=42 message=\"451 try later\\r\\nX-Forged: yes\" worker=w0\n"
        )
    }

    @Test("JSON: one object per line, every value a string")
    func json() throws {
        let handler = LineLogHandler(label: "t", format: .json, level: .info)
        let line = handler.line(level: .info, message: "trace", TraceLogger.fields(Self.event))
        #expect(line.hasSuffix("}\n"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "trace")
        #expect(object["level"] == "info")
        #expect(object["message"] == "451 try later\r\nX-Forged: yes")
        #expect(object["job"] == "42")
        #expect(object.keys.count == 10)
    }
}
