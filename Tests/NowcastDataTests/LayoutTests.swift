import Foundation
import NowcastData
import NowcastIO
import XCTest
import NowcastTestSupport

/// Frames read by the archive's layout through HDF5 alone equal those read through netCDF.
final class LayoutTests: XCTestCase {
    private func assertSameAsNetCDF(_ series: FrameSeries, limit: Int = .max, file: StaticString = #filePath, line: UInt = #line) throws {
        for i in 0..<min(series.count, limit) {
            let entry = series.entries[i]
            let fast = try series.frame(i), reference = try CFFieldFile(path: entry.path, options: series.options).readFrame(entry.index)
            XCTAssertEqual(fast.values.map(\.bitPattern), reference.values.map(\.bitPattern), entry.path, file: file, line: line)
            XCTAssertEqual(fast.validTime, reference.validTime, file: file, line: line)
            XCTAssertEqual(fast.startTime, reference.startTime, file: file, line: line)
            XCTAssertEqual(fast.grid, reference.grid, file: file, line: line)
            XCTAssertEqual(fast.units, reference.units, file: file, line: line)
        }
    }

    func testASyntheticArchiveIsReadByItsLayout() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder, frames: 6, size: 32, mask: true)
        let series = try FrameSeries(files: try ArchiveListing.files([folder]))
        let layout = try XCTUnwrap(series.layout)
        XCTAssertEqual(layout.fieldName, "rainfall_rate")
        XCTAssertEqual(layout.timeVariable, "time")
        XCTAssertTrue(try CFLayoutFieldFile(path: series.entries[3].path, layout: layout).readFrame(0).values.contains { $0.isNaN })
        try assertSameAsNetCDF(series)
    }

    func testAFileThatDiffersIsRefusedAndReadThroughNetCDF() throws {
        let folder = try temporaryFolder(self)
        let paths = try SyntheticData.archive(folder, frames: 3, size: 16)
        let layout = try XCTUnwrap(try CFFieldFile(path: paths[0]).layout)
        // Rewrite the last frame with another scale factor.
        let frame = try openFieldFile(paths[2]).readFrame(0)
        let writer = try NetCDFWriter(path: paths[2])
        try writer.addDimension("time", length: 1)
        try writer.addDimension("y", length: 16)
        try writer.addDimension("x", length: 16)
        try writer.addVariable("time", type: .int64, dimensions: ["time"], attributes: Attributes([("units", .text("seconds since 1970-01-01 00:00:00"))]))
        try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([("units", .text("m"))]))
        try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([("units", .text("m"))]))
        let mapping = try XCTUnwrap(frame.grid.gridMapping)
        try writer.addVariable(mapping.variableName, type: .int32, dimensions: [], attributes: mapping.attributes)
        try writer.addVariable("rainfall_rate", type: .int16, dimensions: ["time", "y", "x"], storage: .init(chunks: [1, 16, 16], deflateLevel: 1),
                               attributes: Attributes([("units", .text("mm h-1")), ("scale_factor", .double(0.02)), ("_FillValue", .numbers(.int16, [-1])),
                                                       ("grid_mapping", .text(mapping.variableName))]))
        try writer.write("time", [Int64(frame.validTime.timeIntervalSince1970)])
        try writer.write("y", frame.grid.y)
        try writer.write("x", frame.grid.x)
        try writer.write("rainfall_rate", frame.values.map { Int16((Double($0) / 0.02).rounded()) })
        try writer.finish()
        XCTAssertThrowsError(try CFLayoutFieldFile(path: paths[2], layout: layout)) { XCTAssertTrue("\($0)".contains("packing")) }
        let series = try FrameSeries(files: paths)
        XCTAssertEqual(series.count, 3)
        try assertSameAsNetCDF(series)
    }

    func testTheBoMArchiveIsReadByItsLayout() throws {
        let series = try FrameSeries(files: try ArchiveListing.files([try TestPaths.sharedData("bom_nc_prcp-c10_66_20201031")]))
        let layout = try XCTUnwrap(series.layout, "BoM files are NetCDF-4, one frame per chunk, scalar valid_time")
        XCTAssertEqual(layout.timeVariable, "valid_time")
        XCTAssertEqual(layout.startVariable, "start_time")
        XCTAssertEqual(series.count, 144)
        try assertSameAsNetCDF(series, limit: 24)
    }
}
