import RelanceCore
import Testing

@testable import RelanceTemplates

@Suite("payment_link: only an address a payer may safely click")
struct PaymentLinkTests {
    @Test(
        "refused",
        arguments: [
            "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "ftp://x", "/pay",
            "https://pay.example/a b", "https://pay.example/\"onmouseover=x", "https://pay.example/<x>", "https://x\n",
        ])
    func refused(link: String) {
        #expect(MessageContext.linkProblem(.string(link)) != nil)
        #expect(
            MessageContext.check(data: .object(["payment_link": .string(link)]), pointer: "/data").map(\.pointer)
                == ["/data/payment_link"])
    }

    @Test("accepted", arguments: ["https://paiement.example/r/C-1?k=3e7b&x=1", "http://pay.example/x"])
    func accepted(link: String) { #expect(MessageContext.linkProblem(.string(link)) == nil) }

    @Test("a number is refused, null and absent are fine")
    func kinds() {
        #expect(MessageContext.linkProblem(.number("1")) != nil)
        #expect(MessageContext.linkProblem(.null) == nil && MessageContext.linkProblem(nil) == nil)
    }
}
