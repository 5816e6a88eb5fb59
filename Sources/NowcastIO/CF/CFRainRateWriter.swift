import Foundation
import NowcastCore

/// Writes one rain-rate field as the CF-1.8 NetCDF-4 file radar composites are distributed as:
/// `rainfall_rate(time, y, x)` stored as int16 with `scale_factor` `step` and `_FillValue` -1,
/// deflated with shuffle, over x/y coordinates in metres and the grid's mapping (`crs`). Written
/// atomically; the CF reader decodes it back to the values rounded to `step`.
public enum CFRainRateWriter {
    /// Writes `values` (`grid.ny * grid.nx` rates in mm/h, NaN missing) valid at `time` to `path`;
    /// `longName` describes the field and `globals` are the file's global attributes.
    public static func write(_ values: [Float], grid: Grid, time: Date, to path: String, step: Double, deflateLevel: Int,
                             longName: String, globals: Attributes) throws {
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("time", length: 1)
        try writer.addDimension("y", length: grid.ny)
        try writer.addDimension("x", length: grid.nx)
        try writer.addVariable("time", type: .int64, dimensions: ["time"], attributes: Attributes([
            ("standard_name", .text("time")), ("long_name", .text("valid time")),
            ("units", .text("seconds since 1970-01-01 00:00:00")), ("calendar", .text("standard")), ("axis", .text("T")),
        ]))
        try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([
            ("standard_name", .text("projection_y_coordinate")), ("units", .text("m")), ("axis", .text("Y")),
        ]))
        try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([
            ("standard_name", .text("projection_x_coordinate")), ("units", .text("m")), ("axis", .text("X")),
        ]))
        var field = Attributes([
            ("standard_name", .text("rainfall_rate")), ("long_name", .text(longName)),
            ("units", .text("mm h-1")), ("scale_factor", .double(step)),
            ("add_offset", .double(0)), ("_FillValue", .numbers(.int16, [-1])),
        ])
        if let mapping = grid.gridMapping {
            try writer.addVariable(mapping.variableName, type: .int32, dimensions: [], attributes: mapping.attributes)
            field["grid_mapping"] = .text(mapping.variableName)
        }
        try writer.addVariable("rainfall_rate", type: .int16, dimensions: ["time", "y", "x"],
                               storage: .init(chunks: [1, grid.ny, grid.nx], deflateLevel: deflateLevel, shuffle: true), attributes: field)
        try writer.setGlobalAttributes(globals)
        try writer.write("time", [Int64(time.timeIntervalSince1970.rounded())])
        try writer.write("y", grid.y)
        try writer.write("x", grid.x)
        try writer.write("rainfall_rate", values.map { Int16(packedRate($0, step: step, missing: -1)) })
        try writer.finish()
    }
}

/// The stored value of a rain rate packed by `step`: NaN -> `missing`, else rate / step rounded,
/// kept inside the stored type's range (`limit`).
func packedRate(_ value: Float, step: Double, missing: Int, limit: Int = Int(Int16.max)) -> Int {
    value.isNaN ? missing : min(limit, Int((Double(value) / step).rounded()))
}
