import Foundation
import Testing

@testable import RelanceCore

@Suite("Evidence: trace chain and ZIP")
struct EvidenceTests {
    static func event(_ id: Int64, _ detail: JSONValue = [:]) -> DeliveryEvent {
        DeliveryEvent(
            id: id, jobID: 7, attempt: 1, at: "2026-12-07T10:00:00.000Z", kind: .rendered, caseRef: "F-1",
            channel: "email", detail: detail)
    }

    @Test("the canonical text does not depend on the detail's key order")
    func canonical() throws {
        let a = Self.event(1, try JSONValue.parse(#"{"b":1,"a":"é\n"}"#))
        let b = Self.event(1, try JSONValue.parse(#"{"a":"é\n","b":1}"#))
        #expect(TraceChain.canonical(a) == TraceChain.canonical(b))
        #expect(
            TraceChain.canonical(a)
                == #"{"at":"2026-12-07T10:00:00.000Z","attempt":1,"case_ref":"F-1","channel":"email","detail":{"a":"é\n","b":1},"event":"rendered","id":1,"job_id":7}"#
        )
    }

    @Test("a chain built link by link checks out; each kind of damage is named")
    func chain() {
        var sealed: [TraceChain.Sealed] = []
        var previous = ""
        for id in 1...4 {
            let event = Self.event(Int64(id), ["n": .number(String(id))])
            let hash = TraceChain.link(previous: previous, event)
            sealed.append(.init(event: event, previous: previous, hash: hash))
            previous = hash
        }
        #expect(TraceChain.problems(sealed).isEmpty)
        #expect(TraceChain.problems(Array(sealed.dropFirst())).isEmpty, "a pruned beginning is an anchor, not damage")
        var altered = sealed
        altered[1].event.attempt = 2
        #expect(TraceChain.problems(altered) == ["event 2 (rendered) was altered: its hash does not match it"])
        var removed = sealed
        removed.remove(at: 2)
        #expect(
            TraceChain.problems(removed) == ["before event 4 an event is missing: its link does not point at event 2"])
        var swapped = sealed
        swapped.swapAt(1, 2)
        #expect(TraceChain.problems(swapped).count == 3)
    }

    @Test("CRC-32 of known inputs")
    func crc() {
        #expect(ZipWriter.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipWriter.crc32([]) == 0)
    }

    @Test("the ZIP is read back whole by unzip, names in UTF-8; unsafe names are refused")
    func zip() throws {
        var zip = ZipWriter(date: Date(timeIntervalSince1970: 1_796_000_000))
        try zip.add("README.txt", Array("Dossier F-1\n".utf8))
        try zip.add("messages/job-1-attempt-1.eml", Array("From: a\r\n\r\nbody\r\n".utf8))
        try zip.add("pièces/é.txt", [0, 1, 2, 255])
        for bad in ["/etc/passwd", "../x", "a/../../x", "", "README.txt"] {
            #expect(throws: ZipError.self) { try zip.add(bad, []) }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("relance-\(UUID()).zip").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(zip.finish()).write(to: URL(fileURLWithPath: path))
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        unzip.arguments = ["-t", path]
        let pipe = Pipe()
        unzip.standardOutput = pipe
        try unzip.run()
        unzip.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(unzip.terminationStatus == 0, "\(output)")
        #expect(output.contains("No errors detected"))
        #expect(output.contains("messages/job-1-attempt-1.eml"))
    }
}
