import Testing

@testable import RelanceCore

@Suite("VERP bounce addresses")
struct VERPAddressTests {
    static let verp = try! VERPAddress(
        base: try! EmailAddress("bounces@bounce.lumen.example"), secret: "0123456789abcdef")

    @Test("an address names its job and attempt, and reads back; case and brackets do not matter")
    func roundTrip() throws {
        let address = try #require(Self.verp.address(jobID: 1234, attempt: 2))
        #expect(address.value.hasPrefix("bounces+1234-2-") && address.value.hasSuffix("@bounce.lumen.example"))
        #expect(address.value.split(separator: "@")[0].utf8.count <= 64)
        #expect(Self.verp.decode(address.value)! == (1234, 2))
        #expect(Self.verp.decode(address.value.uppercased())! == (1234, 2))
        #expect(Self.verp.decode("<\(address.value)>")! == (1234, 2))
        let longest = try #require(Self.verp.address(jobID: Int64.max, attempt: 9999))
        #expect(longest.value.split(separator: "@")[0].utf8.count <= 64)
        #expect(Self.verp.decode(longest.value)! == (Int64.max, 9999))
    }

    @Test(
        "anything else names no job",
        arguments: [
            "bounces@bounce.lumen.example", "bounces+1234-2@bounce.lumen.example",
            "bounces+1234-2-00000000000000000000@bounce.lumen.example", "other+1234-2-{mac}@bounce.lumen.example",
            "bounces+1234-2-{mac}@lumen.example", "bounces+1234-3-{mac}@bounce.lumen.example",
            "bounces+1235-2-{mac}@bounce.lumen.example", "bounces+1234-2-{mac}x@bounce.lumen.example",
            "bounces+01234-2-{mac}@bounce.lumen.example", "bounces+-1234-2-{mac}@bounce.lumen.example",
            "bounces+1234-2-{mac}", "", "@", "+--@bounce.lumen.example",
        ])
    func rejected(_ template: String) {
        let mac = Self.verp.mac(jobID: 1234, attempt: 2)!
        #expect(Self.verp.decode(template.replacingOccurrences(of: "{mac}", with: mac)) == nil)
    }

    @Test("another secret, another MAC")
    func secret() throws {
        let other = try VERPAddress(base: try EmailAddress("bounces@bounce.lumen.example"), secret: "fedcba9876543210")
        let address = try #require(Self.verp.address(jobID: 7, attempt: 1))
        #expect(other.decode(address.value) == nil)
    }

    @Test(
        "bases that cannot carry the job's part are refused",
        arguments: ["a+b@x.example", String(repeating: "b", count: 19) + "@x.example", "bouncés@x.example"])
    func badBase(_ base: String) throws {
        #expect(throws: FieldError.self) { try VERPAddress(base: try EmailAddress(base), secret: "0123456789abcdef") }
    }
}
