import Foundation
import NowcastIO
import XCTest

/// Writes a small CF NetCDF file with one variable `field(dims)` of int16 values and the given attributes.
func writeCFFile(_ path: String, dims: [(String, Int)], values: [Int16], attributes: Attributes,
                 extra: (NetCDFWriter) throws -> Void = { _ in }, format: NetCDFWriter.Format = .netcdf4) throws {
    let writer = try NetCDFWriter(path: path, format: format)
    for (name, length) in dims { try writer.addDimension(name, length: length) }
    try writer.addVariable("field", type: .int16, dimensions: dims.map(\.0), attributes: attributes)
    try extra(writer)
    try writer.write("field", values)
    try writer.finish()
}

/// Adds a scalar `time` variable with CF units holding `value`.
func addScalarTime(_ writer: NetCDFWriter, units: String = "seconds since 1970-01-01 00:00:00", value: Double = 1_600_000_000,
                   calendar: String? = nil) throws {
    var attributes = Attributes([("standard_name", .text("time")), ("units", .text(units))])
    if let calendar { attributes["calendar"] = .text(calendar) }
    try writer.addVariable("time", type: .float64, dimensions: [], attributes: attributes)
    try writer.write("time", [value])
}
