import Foundation

/// Discrete colour levels: a value at or above `levels[k]` (and below the next) takes `colours[k]`;
/// values below the first level are left white, missing values grey.
public struct ColourScale: Sendable {
    public var levels: [Double]
    public var colours: [PlotColour]
    public var units: String

    public init(levels: [Double], colours: [PlotColour], units: String) { (self.levels, self.colours, self.units) = (levels, colours, units) }

    /// Rain rate in mm/h on pySTEPS's "intensity" levels (0.1 to 160 mm/h), blues to reds.
    public static func rainRate(units: String = "mm/h") -> ColourScale {
        let levels = [0.1, 0.25, 0.4, 0.63, 1, 1.6, 2.5, 4, 6.3, 10, 16, 25, 40, 63, 100, 160]
        let hex: [UInt32] = [0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x41ab5d, 0x78c679, 0xc2e699, 0xffffb2, 0xfecc5c,
                             0xfd8d3c, 0xf03b20, 0xbd0026, 0x980043, 0x7a0177, 0x49006a]
        return ColourScale(levels: levels, colours: hex.map { PlotColour(hex: $0) }, units: units)
    }

    /// Probability from 0 to 1 in tenths.
    public static let probability = ColourScale(
        levels: [0.001, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        colours: [0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b, 0x041a3a].map { PlotColour(hex: $0) },
        units: "probability")

    func colour(_ value: Float) -> PlotColour {
        if value.isNaN { return PlotColour(hex: 0xbdbdbd) }
        guard let k = levels.lastIndex(where: { Double(value) >= $0 }) else { return .white }
        return colours[min(k, colours.count - 1)]
    }
}

/// A quicklook map of one field: the raster on its coordinates (km), a colour bar and a title.
public struct FieldMap: Sendable {
    public var title: String
    public var values: [Float]
    public var ny: Int, nx: Int
    /// Cell-centre coordinates along x and y, in `axisUnits`, as the file holds them.
    public var x: [Double], y: [Double]
    public var axisUnits: String
    public var scale: ColourScale

    public init(title: String, values: [Float], ny: Int, nx: Int, x: [Double], y: [Double], axisUnits: String, scale: ColourScale) {
        (self.title, self.values, self.ny, self.nx, self.x, self.y, self.axisUnits, self.scale) = (title, values, ny, nx, x, y, axisUnits, scale)
    }

    public func render(_ format: PlotFormat, size: Int = 640) throws -> Data {
        guard ny > 0, nx > 0, values.count == ny * nx, x.count == nx, y.count == ny else {
            throw PlotError("a field of \(values.count) values does not fit \(ny) x \(nx) with \(x.count) x and \(y.count) y coordinates")
        }
        let (left, top, bottom, bar) = (70.0, 40.0, 50.0, 110.0)
        let side = Double(size)
        let aspect = Double(ny) / Double(nx)
        let (mapWidth, mapHeight) = aspect >= 1 ? (side / aspect, side) : (side, side * aspect)
        let canvas = try PlotCanvas(format: format, width: Int(left + mapWidth + bar), height: Int(top + mapHeight + bottom))
        canvas.text(title, x: left, y: 24, size: 14, bold: true)
        // Rows as stored; flip when y increases with the row so that north is up.
        let flip = ny > 1 && y[1] > y[0]
        var pixels = [PlotColour](repeating: .white, count: ny * nx)
        for row in 0..<ny {
            let source = flip ? ny - 1 - row : row
            for column in 0..<nx { pixels[row * nx + column] = scale.colour(values[source * nx + column]) }
        }
        let area = (x: left, y: top, width: mapWidth, height: mapHeight)
        canvas.image(pixels, ny: ny, nx: nx, in: area)
        canvas.stroke(rectangle: area, .grey)

        // Axes in the file's coordinates: x left to right, y bottom to top.
        let (xLow, xHigh) = (min(x[0], x[nx - 1]), max(x[0], x[nx - 1]))
        let (yLow, yHigh) = (min(y[0], y[ny - 1]), max(y[0], y[ny - 1]))
        let xAxis = AxisScale(values: [xLow, xHigh], logarithmic: false, fixed: xLow...max(xHigh, xLow + 1e-9), ticks: nil)
        let yAxis = AxisScale(values: [yLow, yHigh], logarithmic: false, fixed: yLow...max(yHigh, yLow + 1e-9), ticks: nil)
        let xReversed = nx > 1 && x[1] < x[0]
        for tick in AxisScale(values: [xLow, xHigh], logarithmic: false, fixed: nil, ticks: nil).ticks where tick >= xLow && tick <= xHigh {
            let f = xAxis.fraction(tick)
            let px = left + mapWidth * (xReversed ? 1 - f : f)
            canvas.polyline([(px, top + mapHeight), (px, top + mapHeight + 4)], .grey, width: 1)
            canvas.text(AxisScale.label(tick), x: px, y: top + mapHeight + 17, size: 11, anchor: .middle)
        }
        for tick in AxisScale(values: [yLow, yHigh], logarithmic: false, fixed: nil, ticks: nil).ticks where tick >= yLow && tick <= yHigh {
            let py = top + mapHeight * (1 - yAxis.fraction(tick))
            canvas.polyline([(left - 4, py), (left, py)], .grey, width: 1)
            canvas.text(AxisScale.label(tick), x: left - 6, y: py + 4, size: 11, anchor: .end)
        }
        canvas.text("x (\(axisUnits))", x: left + mapWidth / 2, y: top + mapHeight + 38, size: 12, anchor: .middle)
        canvas.text("y (\(axisUnits))", x: 18, y: top + mapHeight / 2, size: 12, anchor: .middle, vertical: true)

        // Colour bar: one box per level, labelled at its lower edge.
        let boxHeight = min(28, mapHeight / Double(scale.levels.count))
        let barX = left + mapWidth + 16
        for (k, level) in scale.levels.enumerated() {
            let by = top + mapHeight - Double(k + 1) * boxHeight
            canvas.fill(rectangle: (barX, by, 18, boxHeight), scale.colours[min(k, scale.colours.count - 1)])
            canvas.text(AxisScale.label(level), x: barX + 24, y: by + boxHeight + 4, size: 10)
        }
        canvas.stroke(rectangle: (barX, top + mapHeight - Double(scale.levels.count) * boxHeight, 18, Double(scale.levels.count) * boxHeight), .grey)
        canvas.text(scale.units, x: barX, y: top + mapHeight - Double(scale.levels.count) * boxHeight - 8, size: 11)
        return try canvas.finish()
    }

    /// Writes the map to `path` in the format its extension names (.png or .svg).
    public func write(to path: String) throws {
        guard let format = PlotFormat(path: path) else { throw PlotError("\(path): plots are .png or .svg") }
        try render(format).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
