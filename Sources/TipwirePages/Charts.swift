import Foundation

/// Charts drawn on the server as inline SVG, readable without JavaScript. Each is a `<figure>`: the
/// SVG names itself (`role="img"`, a title and a description that states every value), and a data
/// table follows it as the text alternative for every reader.
public enum Charts {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        /// How the value reads in the table and the description ("12", "93,5%").
        public var text: String
        /// A second value drawn as a line on a 0–100% scale (the on-time share), if any.
        public var share: Double?
        public var shareText: String?
        /// The axis label under the bar, when shorter than `label` ("Th3"), and a second line under it,
        /// if any ("2026", at the first month and each January).
        public var tick: String?
        public var tickSecondLine: String?

        public init(
            label: String, value: Double, text: String, share: Double? = nil, shareText: String? = nil, tick: String? = nil,
            tickSecondLine: String? = nil
        ) {
            self.label = label
            self.value = value
            self.text = text
            self.share = share
            self.shareText = shareText
            self.tick = tick
            self.tickSecondLine = tickSecondLine
        }
    }

    /// The width the axis font (11px sans) takes for `text`, generously: a label is drawn only where it
    /// cannot run into its neighbour's.
    public static func estimatedTickWidth(_ text: String) -> Double {
        Double(text.count) * 6.6
    }

    /// Every how many bars an axis label is drawn, so that no two labels overlap: 1 when each fits
    /// within its bar's slot of `step` pixels.
    static func labelStride(_ bars: [Bar], step: Double) -> Int {
        guard step > 0 else { return 1 }
        let widest =
            bars.map { bar in
                max(estimatedTickWidth(bar.tick ?? bar.label), estimatedTickWidth(bar.tickSecondLine ?? ""))
            }.max() ?? 0
        return max(1, Int(((widest + 6) / step).rounded(.up)))
    }

    /// A bar chart (with a line for `share` where bars carry one). `id` must be unique on the page.
    public static func bars(
        id: String, title: String, caption: String, bars: [Bar], valueHeading: String, labelHeading: String, shareHeading: String? = nil
    ) -> String {
        let width = 640.0
        let height = 240.0
        let left = 40.0
        let bottom = 40.0
        let top = 16.0
        let plotHeight = height - bottom - top
        let maximum = max(bars.map(\.value).max() ?? 0, 1)
        let step = bars.isEmpty ? 0 : (width - left - 8) / Double(bars.count)
        var svg =
            #"<svg role="img" aria-labelledby="\#(id)-title \#(id)-desc" viewBox="0 0 \#(Int(width)) \#(Int(height))" class="chart" focusable="false">"#
        svg += #"<title id="\#(id)-title">\#(escape(title))</title>"#
        let description = bars.map { bar in
            "\(bar.label): \(bar.text)" + (bar.shareText.map { ", \($0)" } ?? "")
        }.joined(separator: "; ")
        svg += #"<desc id="\#(id)-desc">\#(escape(description.isEmpty ? caption : description))</desc>"#
        svg += #"<line x1="\#(left)" y1="\#(top + plotHeight)" x2="\#(width - 4)" y2="\#(top + plotHeight)" class="axis"/>"#
        svg += #"<text x="\#(left - 6)" y="\#(top + 4)" text-anchor="end" class="tick">\#(escape(number(maximum)))</text>"#
        svg += #"<text x="\#(left - 6)" y="\#(top + plotHeight)" text-anchor="end" class="tick">0</text>"#
        var points: [String] = []
        let stride = labelStride(bars, step: step)
        var pendingSecondLine: String?
        for (index, bar) in bars.enumerated() {
            let barHeight = plotHeight * bar.value / maximum
            let x = left + Double(index) * step + step * 0.15
            let barWidth = max(step * 0.7, 1)
            svg +=
                #"<rect x="\#(fixed(x))" y="\#(fixed(top + plotHeight - barHeight))" width="\#(fixed(barWidth))" height="\#(fixed(barHeight))" class="bar"/>"#
            // A second line (the year) of a bar left unlabelled goes under the next labelled one.
            if let second = bar.tickSecondLine { pendingSecondLine = second }
            if index % stride == 0 {
                let middle = fixed(x + barWidth / 2)
                svg +=
                    #"<text x="\#(middle)" y="\#(fixed(top + plotHeight + 16))" text-anchor="middle" class="tick">\#(escape(bar.tick ?? bar.label))</text>"#
                if let second = pendingSecondLine {
                    svg += #"<text x="\#(middle)" y="\#(fixed(top + plotHeight + 30))" text-anchor="middle" class="tick">\#(escape(second))</text>"#
                }
                pendingSecondLine = nil
            }
            if let share = bar.share {
                points.append("\(fixed(x + barWidth / 2)),\(fixed(top + plotHeight * (1 - min(max(share, 0), 1))))")
            }
        }
        if points.count > 1 { svg += #"<polyline points="\#(points.joined(separator: " "))" class="line"/>"# }
        for point in points { svg += #"<circle cx="\#(point.split(separator: ",")[0])" cy="\#(point.split(separator: ",")[1])" r="3" class="dot"/>"# }
        svg += "</svg>"
        var table = "<table class=\"chart-data\"><caption>\(escape(caption))</caption><thead><tr><th scope=\"col\">\(escape(labelHeading))</th>"
        table += "<th scope=\"col\">\(escape(valueHeading))</th>"
        if let shareHeading { table += "<th scope=\"col\">\(escape(shareHeading))</th>" }
        table += "</tr></thead><tbody>"
        for bar in bars {
            table += "<tr><th scope=\"row\">\(escape(bar.label))</th><td>\(escape(bar.text))</td>"
            if shareHeading != nil { table += "<td>\(escape(bar.shareText ?? "–"))</td>" }
            table += "</tr>"
        }
        table += "</tbody></table>"
        return "<figure class=\"chart-figure\">\(svg)\(table)</figure>"
    }

    /// HTML text escaping, for the pieces the charts write themselves.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func fixed(_ value: Double) -> String { String(format: "%.1f", value) }

    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value) }
}
