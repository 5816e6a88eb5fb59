import CNetCDF
import Foundation
import NowcastIO
import XCTest
import NowcastTestSupport

final class NetCDFRoundTripTests: XCTestCase {
    func testEveryTypeAndAttributeKindRoundTripsExactly() throws {
        let path = try temporaryFolder(self) + "/types.nc"
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("n", length: 3)
        let attributes = Attributes([
            ("text", .text("hello world")), ("list", .texts(["a", "bc"])),
            ("i8", .numbers(.int8, [-3, 4])), ("u8", .numbers(.uint8, [250])), ("i16", .numbers(.int16, [-32000])),
            ("u16", .numbers(.uint16, [65000])), ("i32", .numbers(.int32, [-2_000_000_000])), ("u32", .numbers(.uint32, [4_000_000_000])),
            ("i64", .numbers(.int64, [-9_000_000_000])), ("u64", .numbers(.uint64, [9_000_000_000])),
            ("f32", .numbers(.float32, [0.5, -1.25])), ("f64", .numbers(.float64, [0.1])),
        ])
        try writer.addVariable("f", type: .float32, dimensions: ["n"], attributes: attributes)
        try writer.addVariable("d", type: .float64, dimensions: ["n"])
        try writer.addVariable("s", type: .int16, dimensions: ["n"], storage: .init(chunks: [3], deflateLevel: 5))
        try writer.addVariable("b", type: .uint8, dimensions: ["n"])
        try writer.addVariable("l", type: .int64, dimensions: ["n"])
        try writer.setGlobalAttributes(Attributes([("Conventions", .text("CF-1.8"))]))
        try writer.write("f", [Float(1.5), -2.25, .greatestFiniteMagnitude])
        try writer.write("d", [0.1, 1e300, -5])
        try writer.write("s", [Int16(-32768), 0, 32767])
        try writer.write("b", [UInt8(0), 128, 255])
        try writer.write("l", [Int64(-1), 1 << 40, 7])
        try writer.finish()

        let file = try NetCDFFile(path: path)
        XCTAssertEqual(try file.formatName(), "NetCDF-4")
        XCTAssertEqual(try file.root.attributes()["Conventions"], .text("CF-1.8"))
        let f = try file.variable("f")
        XCTAssertEqual(f.attributes, attributes)
        XCTAssertEqual(f.shape, [3])
        XCTAssertEqual(try file.variable("d").readAllDoubles(), [0.1, 1e300, -5])
        XCTAssertEqual(try file.variable("s").readAllDoubles(), [-32768, 0, 32767])
        XCTAssertEqual(try file.variable("s").chunkSizes(), [3])
        XCTAssertEqual(try file.variable("s").deflateLevel(), 5)
        XCTAssertEqual(try file.variable("b").readAllDoubles(), [0, 128, 255])
        XCTAssertEqual(try file.variable("l").readAllDoubles(), [-1, Double(1 << 40), 7])
        var floats = [Float](repeating: 0, count: 3)
        try floats.withUnsafeMutableBufferPointer { try f.read(into: $0, start: [0], count: [3]) }
        XCTAssertEqual(floats, [1.5, -2.25, .greatestFiniteMagnitude])
        XCTAssertEqual(try file.allVariableNames(), ["f", "d", "s", "b", "l"])
    }

    func testHyperslabReadsOfA3DVariable() throws {
        let path = try temporaryFolder(self) + "/cube.nc"
        let values = (0..<(2 * 3 * 4)).map { Float($0) }
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("t", length: nil)
        try writer.addDimension("y", length: 3)
        try writer.addDimension("x", length: 4)
        try writer.addVariable("v", type: .float32, dimensions: ["t", "y", "x"], storage: .init(chunks: [1, 3, 4], deflateLevel: 1))
        try writer.write("v", Array(values[0..<12]), start: [0, 0, 0], count: [1, 3, 4])
        try writer.write("v", Array(values[12..<24]), start: [1, 0, 0], count: [1, 3, 4])
        try writer.finish()
        let v = try NetCDFFile(path: path).variable("v")
        XCTAssertEqual(v.dimensions.map(\.isUnlimited), [true, false, false])
        var slab = [Float](repeating: 0, count: 4)
        try slab.withUnsafeMutableBufferPointer { try v.read(into: $0, start: [1, 2, 0], count: [1, 1, 4]) }
        XCTAssertEqual(slab, [20, 21, 22, 23])
        // A slab outside the variable is an error, not a crash.
        XCTAssertThrowsError(try slab.withUnsafeMutableBufferPointer { try v.read(into: $0, start: [2, 0, 0], count: [1, 1, 4]) })
    }

    func testClassicFormatsRoundTrip() throws {
        for format in [NetCDFWriter.Format.classic, .offset64] {
            let path = try temporaryFolder(self) + "/classic.nc"
            try writeCFFile(path, dims: [("y", 2), ("x", 3)], values: [1, 2, 3, 4, 5, -1],
                            attributes: Attributes([("scale_factor", .double(0.5)), ("_FillValue", .numbers(.int16, [-1]))]),
                            extra: { try addScalarTime($0) }, format: format)
            let file = try CFFieldFile(path: path)
            XCTAssertTrue(file.formatName.hasPrefix(format == .classic ? "NetCDF classic" : "NetCDF 64-bit offset"))
            let frame = try file.readFrame(0)
            XCTAssertEqual(Array(frame.values.prefix(5)), [0.5, 1, 1.5, 2, 2.5])
            XCTAssertTrue(frame.values[5].isNaN)
            XCTAssertEqual(frame.validTime, Date(timeIntervalSince1970: 1_600_000_000))
        }
    }

    func testChunkingInAClassicFileIsAClearError() throws {
        let writer = try NetCDFWriter(path: try temporaryFolder(self) + "/c.nc", format: .classic)
        try writer.addDimension("x", length: 2)
        XCTAssertThrowsError(try writer.addVariable("v", type: .float32, dimensions: ["x"], storage: .init(chunks: [2]))) {
            XCTAssertTrue("\($0)".contains("NetCDF-4"))
        }
    }

    func testFieldInANestedGroupIsFoundAndRead() throws {
        let path = try temporaryFolder(self) + "/groups.nc"
        var ncid: Int32 = 0, group: Int32 = 0, sub: Int32 = 0, ydim: Int32 = 0, xdim: Int32 = 0, varid: Int32 = 0, tvar: Int32 = 0
        XCTAssertEqual(nc_create(path, NC_NETCDF4 | NC_CLOBBER, &ncid), NC_NOERR)
        XCTAssertEqual(nc_def_grp(ncid, "radar", &group), NC_NOERR)
        XCTAssertEqual(nc_def_grp(group, "composite", &sub), NC_NOERR)
        XCTAssertEqual(nc_def_dim(ncid, "y", 2, &ydim), NC_NOERR)
        XCTAssertEqual(nc_def_dim(ncid, "x", 2, &xdim), NC_NOERR)
        XCTAssertEqual(nc_def_var(sub, "rain", NC_FLOAT, 2, [ydim, xdim], &varid), NC_NOERR)
        XCTAssertEqual(nc_def_var(sub, "time", NC_INT, 0, nil, &tvar), NC_NOERR)
        let units = "minutes since 2020-01-01"
        XCTAssertEqual(nc_put_att_text(sub, tvar, "units", units.utf8.count, units), NC_NOERR)
        XCTAssertEqual(nc_put_var_float(sub, varid, [1, 2, 3, 4]), NC_NOERR)
        XCTAssertEqual(nc_put_var_int(sub, tvar, [90]), NC_NOERR)
        XCTAssertEqual(nc_close(ncid), NC_NOERR)

        let byPath = try CFFieldFile(path: path, options: FieldReadOptions(variable: "radar/composite/rain"))
        XCTAssertEqual(byPath.fieldName, "radar/composite/rain")
        let chosen = try CFFieldFile(path: path)
        XCTAssertEqual(chosen.fieldName, "radar/composite/rain")
        let frame = try chosen.readFrame(0)
        XCTAssertEqual(frame.values, [1, 2, 3, 4])
        XCTAssertEqual(UTCTime.iso8601(frame.validTime), "2020-01-01T01:30:00Z")
        XCTAssertFalse(frame.grid.isGeoreferenced)
    }

    func testAnAbandonedWriterLeavesNothingAndKeepsTheOldFile() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/out.nc"
        try writeCFFile(path, dims: [("y", 1), ("x", 2)], values: [7, 8], attributes: Attributes(), extra: { try addScalarTime($0) })
        do {
            let writer = try NetCDFWriter(path: path)
            try writer.addDimension("x", length: 2)
            try writer.addVariable("field", type: .int16, dimensions: ["x"])
            XCTAssertThrowsError(try writer.write("field", [Int16(1)]))  // wrong count: the job fails midway
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.nc"])
        XCTAssertEqual(try CFFieldFile(path: path).readFrame(0).values, [7, 8])
    }
}
