import RelanceCore

/// What a DKIM signature's names may be: a selector that is a DNS name, and a signing
/// domain that DMARC counts as aligned with the `From:` domain.
public enum DKIMAlignment {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Why `selector` cannot be one (nil when it can): labels of letters, digits and
    /// hyphens, separated by dots.
    public static func selectorProblem(_ selector: String) -> String? {
        let labels = selector.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                return "is not a DNS name (empty label, or one longer than 63 characters)"
            }
            guard label.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }),
                label.first != "-", label.last != "-"
            else { return "is not a DNS name (letters, digits and inner hyphens, labels separated by dots)" }
        }
        return selector.utf8.count <= 200 ? nil : "is longer than 200 characters"
    }

    /// The `d=` domain for `text` (A-labels, lower case), when it is aligned with the
    /// domain of `from` in DMARC's relaxed mode as far as it can be told without the
    /// public suffix list: the same domain, a parent of it, or a subdomain of it, of at
    /// least two labels. Otherwise receivers applying DMARC would not count the signature
    /// and would treat the message as unauthenticated.
    public static func signingDomain(_ text: String, from: EmailAddress) throws -> String {
        // `example.com.` (fully qualified, as zone files write it) is `example.com`.
        let text = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard let domain = Punycode.asciiDomain(text)?.lowercased(),
            let fromDomain = Punycode.asciiDomain(String(from.domain))?.lowercased()
        else { throw Problem(description: "'\(text)' is not a domain name") }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ selectorProblem(String($0)) == nil }) else {
            throw Problem(description: "'\(text)' is not a domain of at least two labels")
        }
        guard domain == fromDomain || fromDomain.hasSuffix("." + domain) || domain.hasSuffix("." + fromDomain) else {
            throw Problem(
                description:
                    "'\(domain)' is not aligned with the From domain '\(fromDomain)': DMARC counts a DKIM signature only when its d= is that domain, a parent or a subdomain of it; sign as \(fromDomain) (or change email.from)"
            )
        }
        return domain
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
