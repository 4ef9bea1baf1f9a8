import Foundation

/// Horizontal bar charts drawn on the server as SVG: no script, no inline style (the
/// console's CSP forbids both), a title and a text alternative for screen readers, and
/// every label escaped. Pure.
public struct SVGChart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        /// What is written at the end of the bar (the value formatted).
        public var text: String
        public init(label: String, value: Double, text: String) {
            self.label = label
            self.value = value
            self.text = text
        }
    }

    public var title: String
    public var bars: [Bar]

    public init(title: String, bars: [Bar]) {
        self.title = title
        self.bars = bars
    }

    public var svg: String {
        let rowHeight = 26
        let labelWidth = 170
        let barWidth = 330
        let width = labelWidth + barWidth + 130
        let height = max(1, bars.count) * rowHeight + 8
        let largest = bars.map(\.value).max() ?? 0
        let summary = bars.map { "\($0.label): \($0.text)" }.joined(separator: "; ")
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" aria-label=\"\(Self.escape(title + ". " + summary))\">"
        out += "<title>\(Self.escape(title))</title>"
        for (index, bar) in bars.enumerated() {
            let y = 4 + index * rowHeight
            let length = largest > 0 && bar.value > 0 ? max(2, Int((bar.value / largest) * Double(barWidth))) : 0
            out += "<text x=\"0\" y=\"\(y + 17)\" font-size=\"13\" fill=\"#1d2733\">\(Self.escape(bar.label))</text>"
            out +=
                "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(length)\" height=\"18\" fill=\"#2f5f8a\"></rect>"
            out +=
                "<text x=\"\(labelWidth + length + 6)\" y=\"\(y + 17)\" font-size=\"13\" fill=\"#1d2733\">\(Self.escape(bar.text))</text>"
        }
        return out + "</svg>"
    }

    /// Text for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // XML 1.0 forbids most control characters, even escaped.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
