import Foundation

/// What the law of the creditor's jurisdiction grants a creditor paid late by a business:
/// statutory interest (a margin over a reference rate) and a fixed compensation for
/// recovery costs per invoice. All transpose Directive 2011/7/EU (art. 3 and 6: at least
/// 8 points over the reference rate, at least EUR 40 a debt). This table is the only place
/// the figures are written; templates cite the articles (docs/LATE-PAYMENT.md) and take
/// the amounts from here as `late_payment.*`.
public struct LatePaymentLaw: Sendable, Equatable {
    /// ISO 3166-1 alpha-2 code of the jurisdiction (`GB` for the United Kingdom).
    public let code: String
    /// Percentage points over the reference rate.
    public let marginPoints: Int
    /// Currency of the fixed compensation.
    public let currency: String
    /// The compensation for a debt: the first band whose `below` exceeds the debt, the
    /// last band (`below` nil) otherwise. One band for a fixed sum.
    public let bands: [(below: Decimal?, sum: Decimal)]
    /// Where the figures come from, for docs and `config keys`.
    public let source: String

    public static func == (lhs: LatePaymentLaw, rhs: LatePaymentLaw) -> Bool { lhs.code == rhs.code }

    /// The jurisdictions Relance has the law of, by code.
    public static let all: [String: LatePaymentLaw] = Dictionary(
        uniqueKeysWithValues: [
            // Code de commerce L441-10 II (ECB rate + 10 points when the terms state no rate)
            // and D441-5 (EUR 40).
            LatePaymentLaw(code: "FR", margin: 10, fixed: 40, source: "Code de commerce L441-10, D441-5"),
            // BGB § 288 (2) (9 points over the base rate) and (5) (EUR 40).
            LatePaymentLaw(code: "DE", margin: 9, fixed: 40, source: "BGB § 288 (2), (5)"),
            // Ley 3/2004 art. 7 (ECB + 8 points) and 8 (EUR 40).
            LatePaymentLaw(code: "ES", margin: 8, fixed: 40, source: "Ley 3/2004 arts. 7, 8"),
            // D.Lgs. 231/2002 art. 5 (ECB + 8 points) and 6 (EUR 40).
            LatePaymentLaw(code: "IT", margin: 8, fixed: 40, source: "D.Lgs. 231/2002 artt. 5, 6"),
            // BW 6:119a with 6:120 (2) (ECB + 8 points) and 6:96 (4) (EUR 40).
            LatePaymentLaw(code: "NL", margin: 8, fixed: 40, source: "BW 6:119a, 6:120 (2), 6:96 (4)"),
            // Loi du 2 août 2002 art. 5 (reference rate + 8 points) and 6 (EUR 40).
            LatePaymentLaw(code: "BE", margin: 8, fixed: 40, source: "loi du 2 août 2002 arts. 5, 6"),
            // Late Payment of Commercial Debts (Interest) Act 1998 s. 5A; the rate is 8 % over
            // the Bank of England base rate (SI 2002/1675).
            LatePaymentLaw(
                code: "GB", marginPoints: 8, currency: "GBP",
                bands: [(below: 1000, sum: 40), (below: 10000, sum: 70), (below: nil, sum: 100)],
                source: "Late Payment of Commercial Debts (Interest) Act 1998 s. 5A"),
        ].map { ($0.code, $0) })

    public static let defaultCode = "FR"

    init(code: String, marginPoints: Int, currency: String, bands: [(below: Decimal?, sum: Decimal)], source: String) {
        self.code = code
        self.marginPoints = marginPoints
        self.currency = currency
        self.bands = bands
        self.source = source
    }

    init(code: String, margin: Int, fixed: Decimal, source: String) {
        self.init(code: code, marginPoints: margin, currency: "EUR", bands: [(nil, fixed)], source: source)
    }

    /// The law of `code` (any case), or why there is none.
    public static func named(_ code: String) -> Result<LatePaymentLaw, FieldError> {
        let upper = code.uppercased()
        if let law = all[upper] { return .success(law) }
        let known = all.keys.sorted().joined(separator: ", ")
        let hint = upper == "UK" ? ": the United Kingdom is GB" : ""
        return .failure(FieldError("creditor.jurisdiction", "unknown jurisdiction '\(code)' (known: \(known))\(hint)"))
    }

    /// The sum per invoice when it does not depend on the debt.
    public var fixedSum: Decimal? { bands.count == 1 ? bands[0].sum : nil }

    /// The compensation for one debt, or nil when the bands are in another currency than
    /// the debt's (the thresholds cannot be compared without an exchange rate).
    public func compensation(forDebt amount: Decimal, currency debtCurrency: String) -> Decimal? {
        if let fixedSum { return fixedSum }
        guard debtCurrency == currency else { return nil }
        return bands.first { band in band.below.map { amount < $0 } ?? true }?.sum
    }
}
