import Foundation
import NowcastIO
import NowcastTestSupport
import XCTest

/// `CFForecastFile` on the layouts forecasts come in, written here with the toolkit's own writer:
/// NowcastKit's products, a deterministic `(time, y, x)` file with `forecast_period`, pySTEPS's
/// exporter (`ens_number`, "minutes since <reference>"), packed shorts; and the files it refuses.
final class ForecastFileTests: XCTestCase {
    private let reference = UTCTime.parse("2024-06-01T06:00:00Z") ?? Date()

    /// A 3 x 4 forecast of `members` (nil: no member axis) x 2 leads; value = 100 m + 10 lead + pixel / 100.
    private func write(_ path: String, members: Int?, memberName: String = "realization", timeUnits: String, times: [Double],
                       scalars: [(name: String, units: String, values: [Double])] = [], packed: Bool = false) throws {
        let w = try NetCDFWriter(path: path)
        let m = members ?? 1
        if members != nil { try w.addDimension(memberName, length: m) }
        try w.addDimension("time", length: times.count)
        try w.addDimension("y", length: 3)
        try w.addDimension("x", length: 4)
        try w.addVariable("time", type: .float64, dimensions: ["time"], attributes: Attributes([("units", .text(timeUnits)), ("standard_name", .text("time"))]))
        try w.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([("units", .text("m"))]))
        try w.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([("units", .text("m"))]))
        var attributes = Attributes([("units", .text("mm/h")), ("long_name", .text("rain rate"))])
        if packed { attributes["scale_factor"] = .numbers(.float32, [0.01]); attributes["_FillValue"] = .numbers(.int16, [-1]) }
        let dims = (members != nil ? [memberName] : []) + ["time", "y", "x"]
        try w.addVariable("precip_intensity", type: packed ? .int16 : .float32, dimensions: dims, attributes: attributes)
        for v in scalars {
            let standard = v.name == "forecast_period" ? "forecast_period" : "forecast_reference_time"
            try w.addVariable(v.name, type: .float64, dimensions: v.values.count > 1 ? ["time"] : [],
                              attributes: Attributes([("units", .text(v.units)), ("standard_name", .text(standard))]))
        }
        try w.write("time", times)
        try w.write("x", [0, 1000, 2000, 3000])
        try w.write("y", [2000, 1000, 0])
        let values = (0..<(m * times.count * 12)).map { k -> Float in
            let (member, lead, pixel) = (k / (times.count * 12), (k / 12) % times.count, k % 12)
            return Float(100 * member + 10 * lead) + Float(pixel) / 100
        }
        for v in scalars { try w.write(v.name, v.values) }
        if packed { try w.write("precip_intensity", values.map { Int16(($0 * 100).rounded()) }) } else { try w.write("precip_intensity", values) }
        try w.finish()
    }

    func testTheLayoutsForecastsComeIn() throws {
        let dir = try temporaryFolder(self, prefix: "forecast-file")
        let epoch = reference.timeIntervalSince1970
        // pySTEPS's exporter: ens_number, minutes since the reference time.
        try write(dir + "/pysteps.nc", members: 3, memberName: "ens_number", timeUnits: "minutes since 2024-06-01 06:00:00", times: [5, 10])
        // A deterministic forecast: valid time and forecast_period.
        try write(dir + "/deterministic.nc", members: nil, timeUnits: "seconds since 1970-01-01", times: [epoch + 600, epoch + 1200],
                  scalars: [("forecast_period", "seconds", [600, 1200])])
        // An ensemble with forecast_reference_time, packed into shorts.
        try write(dir + "/packed.nc", members: 2, timeUnits: "hours since 2024-06-01 00:00:00", times: [6.25, 6.5],
                  scalars: [("forecast_reference_time", "hours since 2024-06-01 00:00:00", [6])], packed: true)

        for (name, members, step) in [("pysteps", 3, 300.0), ("deterministic", 1, 600.0), ("packed", 2, 900.0)] {
            let file = try CFForecastFile(path: dir + "/\(name).nc")
            XCTAssertEqual(file.referenceTime, reference, "\(name): reference from \(file.referenceSource)")
            XCTAssertEqual(file.leadSeconds, [step, 2 * step], name)
            XCTAssertEqual(file.members, members, name)
            XCTAssertEqual([file.grid.ny, file.grid.nx], [3, 4])
            XCTAssertEqual(file.units, "mm/h")
            let last = try file.ensemble(lead: 1)[members - 1]
            XCTAssertEqual(last[5], Float(100 * (members - 1) + 10) + 0.05, accuracy: 1e-4, name)
        }
        let ours = try CFForecastFile(path: dir + "/pysteps.nc")
        XCTAssertTrue(ours.referenceSource.contains("epoch"), ours.referenceSource)
        assertFails(try ours.ensemble(lead: 2), mentions: ["lead 2", "3 x 2"])
    }

    func testForecastsWithoutTimesAreRefusedByName() throws {
        let dir = try temporaryFolder(self, prefix: "forecast-file-bad")
        // Valid times that do not count from their epoch in steps, and nothing else to tell the reference.
        try write(dir + "/no-reference.nc", members: 2, timeUnits: "minutes since 2024-06-01 00:00:00", times: [365, 370])
        assertFails(try CFForecastFile(path: dir + "/no-reference.nc"), mentions: ["no-reference.nc", "no forecast reference time"])
        // A (y, x) field alone is an observation, not a forecast.
        let w = try NetCDFWriter(path: dir + "/field.nc")
        try w.addDimension("y", length: 3)
        try w.addDimension("x", length: 4)
        try w.addVariable("rain", type: .float32, dimensions: ["y", "x"], attributes: Attributes([("units", .text("mm/h"))]))
        try w.write("rain", [Float](repeating: 1, count: 12))
        try w.finish()
        assertFails(try CFForecastFile(path: dir + "/field.nc"), mentions: ["field.nc"])
        // Lead times at or before the reference time.
        try write(dir + "/backwards.nc", members: nil, timeUnits: "seconds since 2024-06-01 06:00:00", times: [0, 300],
                  scalars: [("forecast_reference_time", "seconds since 2024-06-01 06:00:00", [0])])
        assertFails(try CFForecastFile(path: dir + "/backwards.nc"), mentions: ["backwards.nc", "lead 1", "not after the reference time"])
    }

    func testChunksDecodedInSwiftEqualTheLibrarysReading() throws {
        let dir = try temporaryFolder(self, prefix: "forecast-file-direct")
        let grid = Grid(x: (0..<20).map { Double($0) * 1000 }, y: (0..<16).map { Double($0) * -1000 }, xyUnits: "m")
        let layout = ForecastProductLayout(grid: grid, quantity: CFQuantity.forField(units: "mm h-1", quantity: "rainfall_rate"), referenceTime: reference,
                                           stepSeconds: 300, leadTimes: 3, realizations: [0, 1], thresholds: [1], inputTimes: [], motion: false,
                                           globals: Attributes())
        let path = dir + "/product.nc"
        let writer = try CFProductWriter(path: path, layout: layout)
        for member in 0..<2 {
            for lead in 0..<3 {
                try writer.write(member: member, lead: lead, field: (0..<320).map { i in i % 17 == 0 ? .nan : Float((i * 31 + member * 7 + lead) % 50) / 7 })
            }
        }
        try writer.finish()
        let file = try CFForecastFile(path: path)
        XCTAssertTrue(file.supportsDirectChunkReads, "a product as CFProductWriter writes it")
        let direct = try (0..<3).map { try file.ensemble(lead: $0) }
        file.directChunkReads = false
        let library = try (0..<3).map { try file.ensemble(lead: $0) }
        XCTAssertEqual(direct.flatMap { $0.flatMap { $0.map(\.bitPattern) } }, library.flatMap { $0.flatMap { $0.map(\.bitPattern) } })
        XCTAssertEqual(direct[2][1][5], Float((5 * 31 + 7 + 2) % 50) / 7)
        XCTAssertTrue(direct[0][0][0].isNaN)
    }
}
