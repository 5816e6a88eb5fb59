import Foundation
import NowcastIO
import XCTest
import NowcastTestSupport

final class CFDecodingTests: XCTestCase {
    func testPackedInt16WithFillScaleAndOffset() throws {
        let path = try temporaryFolder(self) + "/packed.nc"
        try writeCFFile(path, dims: [("y", 2), ("x", 3)], values: [0, 1, 2, -1, 32767, -32768],
                        attributes: Attributes([("scale_factor", .double(0.05)), ("add_offset", .double(10)),
                                                ("_FillValue", .numbers(.int16, [-1])), ("units", .text("mm h-1"))]),
                        extra: { try addScalarTime($0) })
        let frame = try CFFieldFile(path: path).readFrame(0)
        XCTAssertEqual(frame.values[0], 10)
        XCTAssertEqual(frame.values[1], Float(1 * 0.05 + 10))
        XCTAssertEqual(frame.values[2], Float(2 * 0.05 + 10))
        XCTAssertTrue(frame.values[3].isNaN, "the fill value decodes to NaN")
        XCTAssertEqual(frame.values[4], Float(32767 * 0.05 + 10))
        XCTAssertEqual(frame.values[5], Float(-32768 * 0.05 + 10))
        XCTAssertEqual(frame.units, "mm h-1")
        XCTAssertEqual(frame.ny, 2)
        XCTAssertEqual(frame.nx, 3)
    }

    func testMissingValueAndValidRangeMaskStoredValues() throws {
        let path = try temporaryFolder(self) + "/masked.nc"
        try writeCFFile(path, dims: [("y", 1), ("x", 6)], values: [5, 9999, 100, 101, -3, -9],
                        attributes: Attributes([("missing_value", .numbers(.int16, [9999, -9])), ("valid_range", .numbers(.int16, [-5, 100])),
                                                ("scale_factor", .double(2))]),
                        extra: { try addScalarTime($0) })
        let values = try CFFieldFile(path: path).readFrame(0).values
        XCTAssertEqual(values[0], 10)
        XCTAssertTrue(values[1].isNaN)
        XCTAssertEqual(values[2], 200, "valid_range is inclusive and applies to stored values")
        XCTAssertTrue(values[3].isNaN)
        XCTAssertEqual(values[4], -6)
        XCTAssertTrue(values[5].isNaN)
    }

    func testValidMinAndMaxSeparately() throws {
        let path = try temporaryFolder(self) + "/minmax.nc"
        try writeCFFile(path, dims: [("y", 1), ("x", 4)], values: [-1, 0, 50, 51],
                        attributes: Attributes([("valid_min", .numbers(.int16, [0])), ("valid_max", .numbers(.int16, [50]))]),
                        extra: { try addScalarTime($0) })
        let values = try CFFieldFile(path: path).readFrame(0).values
        XCTAssertTrue(values[0].isNaN)
        XCTAssertEqual(Array(values[1...2]), [0, 50])
        XCTAssertTrue(values[3].isNaN)
    }

    func testUnsignedConventionForSignedStorage() throws {
        let path = try temporaryFolder(self) + "/unsigned.nc"
        try writeCFFile(path, dims: [("y", 1), ("x", 3)], values: [-1, -2, 5],
                        attributes: Attributes([("_Unsigned", .text("true")), ("_FillValue", .numbers(.int16, [-1])),
                                                ("scale_factor", .double(0.01))]),
                        extra: { try addScalarTime($0) })
        let values = try CFFieldFile(path: path).readFrame(0).values
        XCTAssertTrue(values[0].isNaN, "fill 65535 (stored as -1)")
        XCTAssertEqual(values[1], Float(65534 * 0.01))
        XCTAssertEqual(values[2], Float(0.05))
    }

    func testFloatDataWithoutFillValueMasksTheNetCDFDefaultFill() throws {
        let path = try temporaryFolder(self) + "/float.nc"
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("y", length: 1)
        try writer.addDimension("x", length: 3)
        try writer.addVariable("rain", type: .float32, dimensions: ["y", "x"])
        try addScalarTime(writer)
        try writer.write("rain", [Float(1.5), 9.969209968386869e36, .nan])
        try writer.finish()
        let values = try CFFieldFile(path: path).readFrame(0).values
        XCTAssertEqual(values[0], 1.5)
        XCTAssertTrue(values[1].isNaN)
        XCTAssertTrue(values[2].isNaN)
    }

    func testInt32AndDoubleStorageDecodeThroughDouble() throws {
        let path = try temporaryFolder(self) + "/wide.nc"
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("y", length: 1)
        try writer.addDimension("x", length: 3)
        try writer.addVariable("counts", type: .int32, dimensions: ["y", "x"], attributes: Attributes([
            ("scale_factor", .double(0.001)), ("_FillValue", .numbers(.int32, [-2_147_483_647])),
        ]))
        try addScalarTime(writer)
        try writer.write("counts", [Int32(16_777_217), -2_147_483_647, 3])
        try writer.finish()
        let values = try CFFieldFile(path: path).readFrame(0).values
        XCTAssertEqual(values[0], Float(16_777_217 * 0.001), "a value above 2^24 is decoded exactly before rounding to Float")
        XCTAssertTrue(values[1].isNaN)
        XCTAssertEqual(values[2], Float(0.003))
    }

    func testTimeDimensionGivesOneFramePerStepWithBounds() throws {
        let path = try temporaryFolder(self) + "/series.nc"
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("time", length: 3)
        try writer.addDimension("nv", length: 2)
        try writer.addDimension("y", length: 2)
        try writer.addDimension("x", length: 2)
        try writer.addVariable("time", type: .float32, dimensions: ["time"], attributes: Attributes([
            ("units", .text("hours since 2020-02-28 23:00:00")), ("calendar", .text("proleptic_gregorian")),
            ("bounds", .text("time_bnds")),
        ]))
        try writer.addVariable("time_bnds", type: .float32, dimensions: ["time", "nv"])
        try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([("units", .text("km"))]))
        try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([("units", .text("km"))]))
        try writer.addVariable("precip", type: .float32, dimensions: ["time", "y", "x"])
        try writer.write("time", [Float(0.5), 1, 25.25])
        try writer.write("time_bnds", [Float(0), 0.5, 0.5, 1, 25, 25.25])
        try writer.write("y", [10.0, 9.0])
        try writer.write("x", [-1.0, 0.0])
        try writer.write("precip", (0..<12).map(Float.init))
        try writer.finish()

        let file = try openFieldFile(path)
        XCTAssertEqual(file.frameCount, 3)
        XCTAssertEqual(file.validTimes.map(UTCTime.iso8601), ["2020-02-28T23:30:00Z", "2020-02-29T00:00:00Z", "2020-03-01T00:15:00Z"])
        let last = try file.readFrame(2)
        XCTAssertEqual(last.values, [8, 9, 10, 11])
        XCTAssertEqual(last.startTime.map(UTCTime.iso8601), "2020-03-01T00:00:00Z")
        XCTAssertEqual(last.grid.x, [-1, 0])
        XCTAssertEqual(last.grid.y, [10, 9])
        XCTAssertEqual(last.grid.xyUnits, "km")
        XCTAssertEqual(last.grid.dx, 1)
    }

    func testSingleLevelDimensionIsSqueezedButALongOneIsRejected() throws {
        let folder = try temporaryFolder(self)
        try writeCFFile(folder + "/level.nc", dims: [("level", 1), ("y", 2), ("x", 2)], values: [1, 2, 3, 4],
                        attributes: Attributes(), extra: { try addScalarTime($0) })
        XCTAssertEqual(try CFFieldFile(path: folder + "/level.nc").readFrame(0).values, [1, 2, 3, 4])
        try writeCFFile(folder + "/levels.nc", dims: [("level", 2), ("y", 2), ("x", 1)], values: [1, 2, 3, 4],
                        attributes: Attributes(), extra: { try addScalarTime($0) })
        assertFails(try CFFieldFile(path: folder + "/levels.nc"), as: NowcastIOError.self, mentions: ["levels.nc", "field", "level=2", "expected"]) {
            if case .unexpectedShape = $0 { return true } else { return false }
        }
    }

    func testGridMappingIsCarriedAndTranslatedToPROJ() throws {
        let path = try temporaryFolder(self) + "/mapped.nc"
        try writeCFFile(path, dims: [("y", 2), ("x", 2)], values: [0, 0, 0, 0],
                        attributes: Attributes([("grid_mapping", .text("proj"))]),
                        extra: { writer in
                            try addScalarTime(writer)
                            try writer.addVariable("proj", type: .int8, dimensions: [], attributes: Attributes([
                                ("grid_mapping_name", .text("albers_conical_equal_area")),
                                ("standard_parallel", .numbers(.float64, [-26.2, -29.3])),
                                ("longitude_of_central_meridian", .double(153.24)),
                                ("latitude_of_projection_origin", .double(-27.7178)),
                                ("semi_major_axis", .double(6_378_137)), ("semi_minor_axis", .double(6_356_752.31414)),
                            ]))
                            try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([("units", .text("km"))]))
                            try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([("units", .text("km"))]))
                            try writer.write("y", [0.25, -0.25])
                            try writer.write("x", [-0.25, 0.25])
                        })
        let grid = try CFFieldFile(path: path).grid
        XCTAssertEqual(grid.gridMapping?.variableName, "proj")
        XCTAssertEqual(grid.gridMapping?.name, "albers_conical_equal_area")
        XCTAssertEqual(grid.projection, "+proj=aea +lat_1=-26.2 +lat_2=-29.3 +lat_0=-27.7178 +lon_0=153.24 +x_0=0 +y_0=0 +a=6378137 +b=6356752.31414 +units=km")
        XCTAssertNoThrow(try Projection(grid.projection ?? ""), "PROJ accepts the translated definition")
    }

    func testTimeFromFileNameWhenTheFileHasNone() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/radar_20210704_155000.nc"
        try writeCFFile(path, dims: [("y", 2), ("x", 2)], values: [1, 2, 3, 4], attributes: Attributes())
        assertFails(try CFFieldFile(path: path), as: NowcastIOError.self, mentions: ["radar_20210704_155000.nc", "field", "no time coordinate"]) {
            if case .badTime = $0 { return true } else { return false }
        }
        let file = try CFFieldFile(path: path, options: FieldReadOptions(timeFromFileName: try TimePattern("%Y%m%d_%H%M%S")))
        XCTAssertEqual(UTCTime.iso8601(file.validTimes[0]), "2021-07-04T15:50:00Z")
    }
}
