import Foundation

/// One set of axes: lines and bars over a linear or logarithmic x axis, with a legend of the
/// named series. Non-finite points leave gaps.
public struct Panel: Sendable {
    public struct Line: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var colour: PlotColour
        public var dashed: Bool
        public var markers: Bool
        public init(name: String, points: [(x: Double, y: Double)], colour: PlotColour, dashed: Bool = false, markers: Bool = true) {
            (self.name, self.points, self.colour, self.dashed, self.markers) = (name, points, colour, dashed, markers)
        }
    }

    /// Bars centred on `x`, `width` wide in x units.
    public struct Bars: Sendable {
        public var name: String
        public var bars: [(x: Double, height: Double)]
        public var width: Double
        public var colour: PlotColour
        public init(name: String, bars: [(x: Double, height: Double)], width: Double, colour: PlotColour) {
            (self.name, self.bars, self.width, self.colour) = (name, bars, width, colour)
        }
    }

    public var title: String
    public var xLabel: String, yLabel: String
    public var lines: [Line] = []
    public var bars: [Bars] = []
    public var logarithmicX = false
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Tick positions on x (nil: round numbers).
    public var xTicks: [Double]?
    /// The legend in the top-left corner instead of the top-right (where the lines leave room).
    public var legendAtLeft = false

    public init(title: String, xLabel: String, yLabel: String) { (self.title, self.xLabel, self.yLabel) = (title, xLabel, yLabel) }
}

/// A figure of panels stacked top to bottom under one title, written as PNG or SVG through cairo.
public struct Figure: Sendable {
    public var title: String
    public var panels: [Panel]
    public var width: Int
    /// Height of each panel in points; a panel's share can be changed with `panelWeights`.
    public var panelHeight: Int
    public var panelWeights: [Double]?

    public init(title: String, panels: [Panel], width: Int = 800, panelHeight: Int = 340, panelWeights: [Double]? = nil) {
        (self.title, self.panels, self.width, self.panelHeight, self.panelWeights) = (title, panels, width, panelHeight, panelWeights)
    }

    /// The figure's file in `format`.
    public func render(_ format: PlotFormat) throws -> Data {
        let top = 36.0
        let weights = panelWeights ?? panels.map { _ in 1.0 }
        let total = Double(panelHeight * panels.count)
        let height = Int(top + total)
        let canvas = try PlotCanvas(format: format, width: width, height: height)
        canvas.text(title, x: Double(width) / 2, y: 24, size: 15, anchor: .middle, bold: true)
        var y = top
        let sum = weights.reduce(0, +)
        for (panel, weight) in zip(panels, weights) {
            let h = total * weight / sum
            draw(panel, on: canvas, in: (0, y, Double(width), h))
            y += h
        }
        return try canvas.finish()
    }

    /// Writes the figure to `path` in the format its extension names (.png or .svg).
    public func write(to path: String) throws {
        guard let format = PlotFormat(path: path) else { throw PlotError("\(path): plots are .png or .svg") }
        try render(format).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func draw(_ panel: Panel, on canvas: PlotCanvas, in frame: (x: Double, y: Double, width: Double, height: Double)) {
        let (left, right, top, bottom) = (72.0, 24.0, 26.0, 46.0)
        let plot = (x: frame.x + left, y: frame.y + top, width: frame.width - left - right, height: frame.height - top - bottom)
        let lineXs: [Double] = panel.lines.flatMap { $0.points.map(\.x) }
        let barXs: [Double] = panel.bars.flatMap { b in b.bars.flatMap { [$0.x - b.width / 2, $0.x + b.width / 2] } }
        let xs = lineXs + barXs
        let lineValues: [Double] = panel.lines.flatMap { $0.points.map(\.y) }
        let barValues: [Double] = panel.bars.flatMap { $0.bars.map(\.height) } + (panel.bars.isEmpty ? [] : [0.0])
        let ys = lineValues + barValues
        let xAxis = AxisScale(values: xs, logarithmic: panel.logarithmicX, fixed: panel.xRange, ticks: panel.xTicks)
        let yAxis = AxisScale(values: ys, logarithmic: false, fixed: panel.yRange, ticks: nil)
        func px(_ v: Double) -> Double { plot.x + plot.width * xAxis.fraction(v) }
        func py(_ v: Double) -> Double { plot.y + plot.height * (1 - yAxis.fraction(v)) }

        canvas.text(panel.title, x: plot.x, y: frame.y + 18, size: 13)
        for tick in yAxis.ticks {
            canvas.polyline([(plot.x, py(tick)), (plot.x + plot.width, py(tick))], PlotColour(hex: 0xe5e5e5), width: 1)
            canvas.text(AxisScale.label(tick), x: plot.x - 6, y: py(tick) + 4, size: 11, anchor: .end)
        }
        for tick in xAxis.ticks where tick >= xAxis.low - 1e-9 && tick <= xAxis.high + 1e-9 {
            canvas.polyline([(px(tick), plot.y + plot.height), (px(tick), plot.y + plot.height + 4)], .grey, width: 1)
            canvas.text(AxisScale.label(tick), x: px(tick), y: plot.y + plot.height + 17, size: 11, anchor: .middle)
        }
        canvas.text(panel.xLabel, x: plot.x + plot.width / 2, y: frame.y + frame.height - 10, size: 12, anchor: .middle)
        canvas.text(panel.yLabel, x: frame.x + 18, y: plot.y + plot.height / 2, size: 12, anchor: .middle, vertical: true)

        for series in panel.bars {
            for bar in series.bars where bar.height.isFinite {
                let (x0, x1) = (px(bar.x - series.width / 2), px(bar.x + series.width / 2))
                let y0: Double = py(max(0, yAxis.low)), y1: Double = py(bar.height)
                canvas.fill(rectangle: (x0, min(y0, y1), x1 - x0, abs(y1 - y0)), series.colour)
            }
        }
        for line in panel.lines {
            let points = line.points.map { (px($0.x), py($0.y)) }
            canvas.polyline(points, line.colour, width: 2, dashed: line.dashed)
            if line.markers { for (x, y) in points { canvas.circle(x, y, radius: 3, line.colour) } }
        }
        canvas.stroke(rectangle: plot, .grey)

        // Legend, top right inside the axes.
        let named = panel.lines.filter { !$0.name.isEmpty }.map { ($0.name, $0.colour, $0.dashed, false) }
            + panel.bars.filter { !$0.name.isEmpty }.map { ($0.name, $0.colour, false, true) }
        guard !named.isEmpty else { return }
        let textWidth = named.map { canvas.textWidth($0.0, size: 11) }.max() ?? 0
        let boxWidth = textWidth + 44, boxX = panel.legendAtLeft ? plot.x + 8 : plot.x + plot.width - boxWidth - 8
        canvas.fill(rectangle: (boxX, plot.y + 8, boxWidth, Double(named.count) * 16 + 8), PlotColour(1, 1, 1, alpha: 0.85))
        for (k, entry) in named.enumerated() {
            let ly = plot.y + 22 + Double(k) * 16
            if entry.3 {
                canvas.fill(rectangle: (boxX + 6, ly - 9, 24, 9), entry.1)
            } else {
                canvas.polyline([(boxX + 6, ly - 4), (boxX + 30, ly - 4)], entry.1, width: 2, dashed: entry.2)
            }
            canvas.text(entry.0, x: boxX + 36, y: ly, size: 11)
        }
    }
}
