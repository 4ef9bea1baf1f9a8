import RelanceCore
import RelanceEmail
import Testing

@testable import RelanceDunning

@Suite("BounceDesk's rules")
struct BounceDeskTests {
    @Test(
        "addresses compare in lower case with the domain as A-labels",
        arguments: [
            ("Compta@Café.FR", "compta@xn--caf-dma.fr"), ("compta@xn--caf-dma.fr", "compta@xn--caf-dma.fr"),
            ("<Gone@Martin.Example.FR>", "gone@martin.example.fr"), (" a@b.example ", "a@b.example"),
            ("Name <a@B.example>", "a@b.example"),
        ])
    func comparable(_ text: String, _ expected: String) {
        #expect(BounceDesk.comparable(text) == expected)
    }

    @Test(
        "only a bad address is a hard bounce (as for a synchronous refusal)",
        arguments: [
            ("5.1.1", true), ("5.1.10", true), ("5.7.1", false), ("5.2.2", false), ("4.4.7", false), (nil, false),
        ]
            as [(String?, Bool)])
    func hard(_ status: String?, _ expected: Bool) {
        let recipient = BounceReport.Recipient(address: "a@b.example", action: "failed", status: status)
        #expect(BounceDesk.isHardBounce(recipient) == expected)
    }

    @Test("a recipient's action, or its status class's")
    func action() {
        #expect(BounceDesk.action(BounceReport.Recipient(address: "a@b.example", status: "5.1.1")) == "failed")
        #expect(BounceDesk.action(BounceReport.Recipient(address: "a@b.example", status: "4.2.2")) == "delayed")
        #expect(BounceDesk.action(BounceReport.Recipient(address: "a@b.example", action: "delivered")) == "delivered")
        #expect(BounceDesk.action(BounceReport.Recipient(address: "a@b.example")) == nil)
    }
}
