import Foundation

/// A plot of a run as SVG: training loss, and validation loss of the model and of persistence,
/// against the step. Plain SVG 1.1 that browsers and image viewers show.
enum ProgressPlot {
    static func svg(title: String, training: [(step: Int, loss: Double)], validation: [(step: Int, model: Double, persistence: Double)]) -> String {
        let (width, height) = (720.0, 420.0)
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
        let values = training.map(\.loss) + validation.flatMap { [$0.model, $0.persistence] }
        let finite = values.filter(\.isFinite)
        let steps = training.map(\.step) + validation.map(\.step)
        let lowY = finite.min() ?? 0, highY = max(finite.max() ?? 1, lowY + 1e-9)
        let (y0, y1) = (lowY - 0.05 * (highY - lowY), highY + 0.05 * (highY - lowY))
        let maxStep = Double(max(steps.max() ?? 1, 1))
        func x(_ step: Int) -> Double { left + (width - left - right) * Double(step) / maxStep }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - y0) / (y1 - y0)) }
        func polyline(_ points: [(Int, Double)], color: String, dashed: Bool = false) -> String {
            let path = points.filter { $0.1.isFinite }.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>"
        }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="22" font-size="14">\(escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(width - left - right)" height="\(height - top - bottom)" fill="none" stroke="#888"/>

        """
        for k in 0...4 {
            let value = y0 + (y1 - y0) * Double(k) / 4
            svg += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", left - 6, y(value) + 4, value)
            let step = Int(maxStep * Double(k) / 4)
            svg += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n", x(step), height - bottom + 18, step)
        }
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">step</text>\n"
        svg += polyline(training.map { ($0.step, $0.loss) }, color: "#1f77b4") + "\n"
        svg += polyline(validation.map { ($0.step, $0.model) }, color: "#d62728") + "\n"
        svg += polyline(validation.map { ($0.step, $0.persistence) }, color: "#555", dashed: true) + "\n"
        for (k, (label, color)) in [("training loss", "#1f77b4"), ("validation loss", "#d62728"), ("persistence (validation)", "#555")].enumerated() {
            let ly = top + 16 + Double(k) * 16
            svg += "<line x1=\"\(width - right - 190)\" y1=\"\(ly - 4)\" x2=\"\(width - right - 165)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(width - right - 160)\" y=\"\(ly)\">\(label)</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
