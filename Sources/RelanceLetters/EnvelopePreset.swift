/// Where the address window of a windowed envelope falls on an A4 page folded into it: the zone
/// that must hold the recipient's address, and nothing else, measured in millimetres from the
/// top-left corner of the page.
public struct EnvelopePreset: Sendable, Equatable {
    public var name: String
    /// Horizontal extent of the window, in mm from the left edge of the page.
    public var x: ClosedRange<Double>
    /// Vertical extent of the window, in mm from the top edge of the page.
    public var y: ClosedRange<Double>
    /// Where in the window the recipient's address goes (vertically): the whole window,
    /// except where a norm keeps a part of it for other things (DIN 5008 form B: the
    /// notes zone, 45–62.7 mm, above the address zone, 62.7–90 mm).
    public var addressY: ClosedRange<Double>
    /// Where the page is folded to go into the envelope, in mm from the top: a QR code is
    /// kept off these lines (a crease through it can stop a phone reading it).
    public var folds: [Double]

    public init(
        name: String, x: ClosedRange<Double>, y: ClosedRange<Double>, addressY: ClosedRange<Double>? = nil,
        folds: [Double] = [99, 198]
    ) {
        self.folds = folds
        self.name = name
        self.x = x
        self.y = y
        self.addressY = addressY ?? y
    }

    /// French DL envelope, window on the right; A4 folded in three equal parts (99, 198 mm).
    public static let frDLRight = EnvelopePreset(name: "fr-dl-right", x: 110...195, y: 55...88)
    /// British DL envelope, window on the left.
    public static let ukDLLeft = EnvelopePreset(name: "uk-dl-left", x: 24.6...120, y: 39.5...66.3)
    /// DIN 5008 form B (German), window on the left.
    /// Folded at the DIN 5008 fold marks (105, 210 mm).
    public static let din5008B = EnvelopePreset(
        name: "din-5008-b", x: 20...105, y: 45...90, addressY: 62.7...90, folds: [105, 210])

    public static let all: [EnvelopePreset] = [.frDLRight, .ukDLLeft, .din5008B]

    public static func named(_ name: String) -> EnvelopePreset? {
        all.first { $0.name == name }
    }
}
