import Foundation
import NowcastCore

/// What a forecast product holds; fixed before the first field is written.
public struct ForecastProductLayout: Sendable {
    /// The grid of the forecast fields (the source grid, or its coarsened version).
    public var grid: Grid
    /// The forecast variable: its name, CF standard name (nil when none fits), long name and units.
    public var quantity: CFQuantity
    /// The time of the latest observation the forecast starts from.
    public var referenceTime: Date
    /// Seconds between lead times.
    public var stepSeconds: Double
    public var leadTimes: Int
    /// The members' numbers (`realization` values): 0..<M, or the one member computed alone.
    public var realizations: [Int]
    /// Exceedance thresholds, in the field's units.
    public var thresholds: [Float]
    /// Valid times of the observations the forecast was made from.
    public var inputTimes: [Date]
    /// True when the product carries the motion field the forecast advected with.
    public var motion: Bool
    /// Global attributes (`title`, `institution`, `source`, `history`, ...); `Conventions` is set here.
    public var globals: Attributes
    /// Deflate level of the fields (1-9).
    public var deflateLevel: Int

    public init(grid: Grid, quantity: CFQuantity, referenceTime: Date, stepSeconds: Double, leadTimes: Int, realizations: [Int],
                thresholds: [Float], inputTimes: [Date], motion: Bool, globals: Attributes, deflateLevel: Int = 4) {
        (self.grid, self.quantity, self.referenceTime, self.stepSeconds) = (grid, quantity, referenceTime, stepSeconds)
        (self.leadTimes, self.realizations, self.thresholds, self.inputTimes) = (leadTimes, realizations, thresholds, inputTimes)
        (self.motion, self.globals, self.deflateLevel) = (motion, globals, deflateLevel)
    }
}

/// Writes an ensemble forecast as a CF-1.8 NetCDF-4 file: the members over
/// `(realization, time, y, x)`, then the ensemble mean and standard deviation (`cell_methods`
/// `realization: mean` / `realization: standard_deviation`) and exceedance probabilities over a
/// `threshold` coordinate as IMPROVER writes them; `time`, `forecast_reference_time`,
/// `forecast_period`, the grid's coordinates and mapping, and the input observations' times.
/// Fields arrive one (member, lead) at a time and are written at once, so memory holds one field
/// plus the running statistics per lead, whatever the number of members. Missing pixels (NaN, e.g.
/// advected in from outside the grid) stay NaN and are left out of the statistics. Written under a
/// temporary name and renamed by `finish()`, which first checks that every field was written.
public final class CFProductWriter {
    public let layout: ForecastProductLayout
    private let writer: NetCDFWriter
    private let plane: Int
    private var written: [Bool]
    // Per lead and pixel: valid members, running mean and sum of squared deviations, exceedances.
    private var counts: [[UInt16]]
    private var means: [[Float]]
    private var squares: [[Float]]
    private var exceedances: [[[UInt16]]]

    /// Defines the file at `path` (written as a temporary file beside it).
    public init(path: String, layout: ForecastProductLayout) throws {
        guard !layout.realizations.isEmpty, layout.realizations.count < Int(UInt16.max), layout.leadTimes >= 1 else {
            throw NowcastIOError.invalidOption(path: path, detail: "a product needs 1 to 65534 members and at least one lead time, got \(layout.realizations.count) and \(layout.leadTimes)")
        }
        self.layout = layout
        let grid = layout.grid
        plane = grid.ny * grid.nx
        written = [Bool](repeating: false, count: layout.realizations.count * layout.leadTimes)
        counts = [[UInt16]](repeating: [UInt16](repeating: 0, count: plane), count: layout.leadTimes)
        means = [[Float]](repeating: [Float](repeating: 0, count: plane), count: layout.leadTimes)
        squares = means
        exceedances = [[[UInt16]]](repeating: [[UInt16]](repeating: [UInt16](repeating: 0, count: plane), count: layout.thresholds.count),
                                   count: layout.leadTimes)
        writer = try NetCDFWriter(path: path)
        do { try define() } catch {
            writer.cancel()
            throw error
        }
    }

    private func define() throws {
        let (grid, q) = (layout.grid, layout.quantity)
        let timeUnits = "seconds since 1970-01-01 00:00:00"
        for (name, length) in [("realization", layout.realizations.count), ("time", layout.leadTimes), ("y", grid.ny), ("x", grid.nx),
                               ("threshold", layout.thresholds.count), ("input_time", layout.inputTimes.count)] where length > 0 {
            try writer.addDimension(name, length: length)
        }
        try writer.addVariable("realization", type: .int32, dimensions: ["realization"], attributes: Attributes([
            ("standard_name", .text("realization")), ("units", .text("1")), ("long_name", .text("ensemble member")),
        ]))
        try writer.addVariable("time", type: .int64, dimensions: ["time"], attributes: Attributes([
            ("standard_name", .text("time")), ("long_name", .text("valid time")), ("units", .text(timeUnits)),
            ("calendar", .text("standard")), ("axis", .text("T")),
        ]))
        try writer.addVariable("forecast_reference_time", type: .int64, dimensions: [], attributes: Attributes([
            ("standard_name", .text("forecast_reference_time")), ("units", .text(timeUnits)), ("calendar", .text("standard")),
        ]))
        try writer.addVariable("forecast_period", type: .int32, dimensions: ["time"], attributes: Attributes([
            ("standard_name", .text("forecast_period")), ("units", .text("seconds")),
        ]))
        if !layout.inputTimes.isEmpty {
            try writer.addVariable("input_time", type: .int64, dimensions: ["input_time"], attributes: Attributes([
                ("long_name", .text("valid times of the observations the forecast starts from")), ("units", .text(timeUnits)),
                ("calendar", .text("standard")),
            ]))
        }
        let mapping = grid.gridMapping ?? grid.projection.flatMap { CFGridMapping.mapping(fromProj: $0) }
        let geographic = mapping?.name == "latitude_longitude"
        for (axis, name) in [("Y", "y"), ("X", "x")] {
            var attributes = Attributes([("axis", .text(axis))])
            if geographic {
                attributes["standard_name"] = .text(axis == "Y" ? "latitude" : "longitude")
                attributes["units"] = .text(axis == "Y" ? "degrees_north" : "degrees_east")
            } else if grid.isGeoreferenced {
                attributes["standard_name"] = .text(axis == "Y" ? "projection_y_coordinate" : "projection_x_coordinate")
                attributes["units"] = .text(grid.xyUnits)
            } else {
                attributes["long_name"] = .text(axis == "Y" ? "row index" : "column index")
                attributes["units"] = .text("1")
            }
            try writer.addVariable(name, type: .float64, dimensions: [name], attributes: attributes)
        }
        var field = Attributes([("long_name", .text(q.longName)), ("units", .text(q.units)), ("_FillValue", .numbers(.float32, [.nan]))])
        if let standard = q.standardName { field["standard_name"] = .text(standard) }
        field["coordinates"] = .text("forecast_reference_time forecast_period")
        if let mapping {
            try writer.addVariable(mapping.variableName, type: .int32, dimensions: [], attributes: mapping.attributes)
            field["grid_mapping"] = .text(mapping.variableName)
        }
        let level = max(1, min(9, layout.deflateLevel))
        let planeChunks = [grid.ny, grid.nx]
        try writer.addVariable(q.variable, type: .float32, dimensions: ["realization", "time", "y", "x"],
                               storage: .init(chunks: [1, 1] + planeChunks, deflateLevel: level), attributes: field)
        for (suffix, method) in [("mean", "realization: mean"), ("standard_deviation", "realization: standard_deviation")] {
            var statistic = field
            statistic["long_name"] = .text("\(q.longName), ensemble \(suffix.replacingOccurrences(of: "_", with: " "))")
            statistic["cell_methods"] = .text(method)
            try writer.addVariable("\(q.variable)_\(suffix)", type: .float32, dimensions: ["time", "y", "x"],
                                   storage: .init(chunks: [1] + planeChunks, deflateLevel: level), attributes: statistic)
        }
        if !layout.thresholds.isEmpty {
            var threshold = Attributes([("units", .text(q.units)), ("long_name", .text("threshold of \(q.longName)")),
                                        ("spp__relative_to_threshold", .text("greater_than"))])
            if let standard = q.standardName { threshold["standard_name"] = .text(standard) }
            try writer.addVariable("threshold", type: .float32, dimensions: ["threshold"], attributes: threshold)
            let name = "probability_of_\(q.standardName ?? q.variable)_above_threshold"
            var probability = Attributes([("long_name", .text(name)), ("units", .text("1")), ("_FillValue", .numbers(.float32, [.nan])),
                                          ("coordinates", .text("forecast_reference_time forecast_period"))])
            if let mapping { probability["grid_mapping"] = .text(mapping.variableName) }
            try writer.addVariable(name, type: .float32, dimensions: ["threshold", "time", "y", "x"],
                                   storage: .init(chunks: [1, 1] + planeChunks, deflateLevel: level), attributes: probability)
        }
        if layout.motion {
            for (name, component) in [("motion_x", "x"), ("motion_y", "y")] {
                var motion = Attributes([("long_name", .text("\(component) component of the rain motion the forecast extrapolates")),
                                         ("units", .text("m s-1"))])
                if let mapping { motion["grid_mapping"] = .text(mapping.variableName) }
                try writer.addVariable(name, type: .float32, dimensions: ["y", "x"], storage: .init(chunks: planeChunks, deflateLevel: level),
                                       attributes: motion)
            }
        }
        var globals = Attributes([("Conventions", .text("CF-1.8"))])
        for entry in layout.globals.entries where entry.name != "Conventions" { globals[entry.name] = entry.value }
        try writer.setGlobalAttributes(globals)

        try writer.write("realization", layout.realizations.map { Int32(clamping: $0) })
        let reference = Int64(layout.referenceTime.timeIntervalSince1970.rounded())
        let leads = (1...layout.leadTimes).map { Int64((Double($0) * layout.stepSeconds).rounded()) }
        try writer.write("time", leads.map { reference + $0 })
        try writer.write("forecast_reference_time", [reference])
        try writer.write("forecast_period", leads.map { Int32(clamping: $0) })
        if !layout.inputTimes.isEmpty { try writer.write("input_time", layout.inputTimes.map { Int64($0.timeIntervalSince1970.rounded()) }) }
        try writer.write("y", grid.y)
        try writer.write("x", grid.x)
        if !layout.thresholds.isEmpty { try writer.write("threshold", layout.thresholds) }
    }

    /// The path the product will have.
    public var path: String { writer.path }

    /// Writes the field of the `member`-th realization of the layout at lead `lead` (0-based: lead 0 is one step after the
    /// reference time), `ny * nx` values; infinite values or a field without any valid value are
    /// refused.
    public func write(member: Int, lead: Int, field: [Float]) throws {
        guard member >= 0, member < layout.realizations.count, lead >= 0, lead < layout.leadTimes, field.count == plane else {
            throw NowcastIOError.invalidOption(path: path, detail: "member \(member), lead \(lead) with \(field.count) values does not fit "
                + "\(layout.realizations.count) members x \(layout.leadTimes) leads of \(layout.grid.ny) x \(layout.grid.nx)")
        }
        if let bad = field.firstIndex(where: { $0.isInfinite }) {
            throw NowcastIOError.invalidOption(path: path, detail: "member \(member), lead \(lead + 1): infinite value \(field[bad]) at row \(bad / layout.grid.nx), column \(bad % layout.grid.nx)")
        }
        guard field.contains(where: { !$0.isNaN }) else {
            throw NowcastIOError.invalidOption(path: path, detail: "member \(member), lead \(lead + 1): the forecast has no valid value")
        }
        try writer.write(layout.quantity.variable, field, start: [member, lead, 0, 0], count: [1, 1, layout.grid.ny, layout.grid.nx])
        written[member * layout.leadTimes + lead] = true
        // Welford's update per pixel over the members seen so far (on buffers: element by element
        // through the class's nested arrays, the exclusivity checks cost more than the arithmetic).
        field.withUnsafeBufferPointer { x in
            counts[lead].withUnsafeMutableBufferPointer { n in
                means[lead].withUnsafeMutableBufferPointer { m in
                    squares[lead].withUnsafeMutableBufferPointer { q in
                        for i in 0..<plane where !x[i].isNaN {
                            n[i] += 1
                            let delta = x[i] - m[i]
                            m[i] += delta / Float(n[i])
                            q[i] += delta * (x[i] - m[i])
                        }
                    }
                }
            }
            for (k, threshold) in layout.thresholds.enumerated() {
                exceedances[lead][k].withUnsafeMutableBufferPointer { e in
                    for i in 0..<plane where x[i] > threshold { e[i] += 1 }
                }
            }
        }
    }

    /// Writes the motion field (`u` along x, `v` along y, in m/s); needs `layout.motion`.
    public func writeMotion(u: [Float], v: [Float]) throws {
        guard layout.motion, u.count == plane, v.count == plane else {
            throw NowcastIOError.invalidOption(path: path, detail: "the motion field does not fit the product's layout")
        }
        try writer.write("motion_x", u)
        try writer.write("motion_y", v)
    }

    /// Writes the ensemble statistics, closes the file and moves it into place; throws (and leaves
    /// nothing) if a member's lead time was not written.
    public func finish() throws {
        if let missing = written.firstIndex(of: false) {
            cancel()
            throw NowcastIOError.invalidOption(path: path, detail: "member \(missing / layout.leadTimes), lead \(missing % layout.leadTimes + 1) was never written")
        }
        do {
            let (ny, nx) = (layout.grid.ny, layout.grid.nx)
            let q = layout.quantity
            for lead in 0..<layout.leadTimes {
                let n = counts[lead]
                let mean = (0..<plane).map { n[$0] > 0 ? means[lead][$0] : .nan }
                let spread = (0..<plane).map { n[$0] > 0 ? (max(0, squares[lead][$0]) / Float(n[$0])).squareRoot() : .nan }
                try writer.write("\(q.variable)_mean", mean, start: [lead, 0, 0], count: [1, ny, nx])
                try writer.write("\(q.variable)_standard_deviation", spread, start: [lead, 0, 0], count: [1, ny, nx])
                for k in layout.thresholds.indices {
                    let probability = (0..<plane).map { n[$0] > 0 ? Float(exceedances[lead][k][$0]) / Float(n[$0]) : .nan }
                    try writer.write("probability_of_\(q.standardName ?? q.variable)_above_threshold", probability,
                                     start: [k, lead, 0, 0], count: [1, 1, ny, nx])
                }
            }
            try writer.finish()
        } catch {
            cancel()
            throw error
        }
    }

    /// Abandons the product: nothing is left at `path`.
    public func cancel() { writer.cancel() }
}
