import Foundation
import NowcastIO
import XCTest
import NowcastTestSupport

final class ODIMTests: XCTestCase {
    /// Writes an ODIM composite with the given attribute placement; values are stored as float64.
    private func writeODIM(_ path: String, strings: HDF5Writer.StringStorage = .fixedLength,
                           datasetWhat: Attributes, dataWhat: Attributes, values: [Double], ny: Int = 2, nx: Int = 3,
                           quality: [Double]? = nil) throws {
        let writer = try HDF5Writer(path: path, stringStorage: strings)
        try writer.setAttributes(Attributes([("Conventions", .text("ODIM_H5/V2_0"))]), on: "/")
        for group in ["/what", "/where", "/dataset1", "/dataset1/what", "/dataset1/data1", "/dataset1/data1/what"] {
            try writer.createGroup(group)
        }
        try writer.setAttributes(Attributes([("object", .text("COMP")), ("date", .text("20180824")), ("time", .text("180000"))]), on: "/what")
        try writer.setAttributes(Attributes([
            ("projdef", .text("+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84")),
            ("xsize", .numbers(.uint64, [Double(nx)])), ("ysize", .numbers(.uint64, [Double(ny)])),
            ("xscale", .double(2000)), ("yscale", .double(2000)),
            ("UL_lon", .double(-39.5357864125034)), ("UL_lat", .double(67.02283275830867)),
        ]), on: "/where")
        try writer.setAttributes(datasetWhat, on: "/dataset1/what")
        try writer.setAttributes(dataWhat, on: "/dataset1/data1/what")
        try writer.writeDataset("/dataset1/data1/data", values: values, shape: [ny, nx], storedAs: .float64, chunks: [ny, nx], deflateLevel: 6)
        if let quality {
            try writer.createGroup("/dataset1/data1/quality1")
            try writer.createGroup("/dataset1/data1/quality1/what")
            try writer.setAttributes(Attributes([("quantity", .text("QIND")), ("gain", .double(0.5)), ("offset", .double(0))]),
                                     on: "/dataset1/data1/quality1/what")
            try writer.writeDataset("/dataset1/data1/quality1/data", values: quality.map { UInt8($0) }, shape: [ny, nx], storedAs: .uint8)
        }
        try writer.finish()
    }

    func testOPERAStyleCalibrationInheritedFromTheDatasetLevel() throws {
        let path = try temporaryFolder(self) + "/opera.h5"
        try writeODIM(path, datasetWhat: Attributes([
            ("quantity", .text("RATE")), ("gain", .double(1)), ("offset", .double(0)),
            ("nodata", .double(-9_999_000)), ("undetect", .double(-8_888_000)),
            ("startdate", .text("20180824")), ("starttime", .text("175000")), ("enddate", .text("20180824")), ("endtime", .text("180500")),
        ]), dataWhat: Attributes(), values: [-9_999_000, -8_888_000, 0.27, 5.41, 1205.22, 0])
        let file = try openFieldFile(path)
        XCTAssertTrue(file is ODIMFieldFile)
        XCTAssertEqual(file.formatName, "ODIM_H5/V2_0")
        let frame = try file.readFrame(0)
        XCTAssertTrue(frame.values[0].isNaN, "nodata is missing")
        XCTAssertEqual(frame.values[1], 0, "undetect is 'no rain' for RATE")
        XCTAssertEqual(Array(frame.values[2...]), [0.27, 5.41, 1205.22, 0])
        XCTAssertEqual(frame.quantity, "RATE")
        XCTAssertEqual(frame.units, "mm h-1")
        XCTAssertEqual(UTCTime.iso8601(frame.validTime), "2018-08-24T18:00:00Z", "the nominal time, not start or end")
        XCTAssertEqual(frame.startTime.map(UTCTime.iso8601), "2018-08-24T17:50:00Z")
        XCTAssertEqual(frame.endTime.map(UTCTime.iso8601), "2018-08-24T18:05:00Z")
    }

    func testDataLevelOverridesDatasetLevelAndUndetectIsConfigurable() throws {
        let path = try temporaryFolder(self) + "/override.h5"
        try writeODIM(path, datasetWhat: Attributes([("quantity", .text("DBZH")), ("gain", .double(1)), ("offset", .double(0)),
                                                     ("nodata", .double(255)), ("undetect", .double(0))]),
                      dataWhat: Attributes([("gain", .double(0.5)), ("offset", .double(-32))]),
                      values: [0, 255, 64, 100, 1, 2])
        let frame = try ODIMFieldFile(path: path).readFrame(0)
        XCTAssertEqual(frame.values[0], -32, "undetect of reflectivity defaults to -32 dBZ")
        XCTAssertTrue(frame.values[1].isNaN)
        XCTAssertEqual(Array(frame.values[2...]), [0, 18, -31.5, -31])
        XCTAssertEqual(frame.units, "dBZ")
        let custom = try ODIMFieldFile(path: path, options: FieldReadOptions(undetectValue: -10)).readFrame(0)
        XCTAssertEqual(custom.values[0], -10)
    }

    func testFloatDataWithoutCalibrationKeepsNaNAsMissing() throws {
        let path = try temporaryFolder(self) + "/rmi.h5"
        try writeODIM(path, strings: .variableLength, datasetWhat: Attributes(), dataWhat: Attributes([("quantity", .text("RATE"))]),
                      values: [.nan, 0, 2.424756, 3.4979424, .nan, 47.162937])
        let frame = try ODIMFieldFile(path: path).readFrame(0)
        XCTAssertTrue(frame.values[0].isNaN)
        XCTAssertTrue(frame.values[4].isNaN)
        XCTAssertEqual(frame.values[2], 2.424756)
        XCTAssertEqual(frame.values[5], 47.162937)
        XCTAssertEqual(frame.statistics.missingFraction, 2.0 / 6.0)
    }

    func testVariableAndFixedLengthStringAttributesReadTheSame() throws {
        let folder = try temporaryFolder(self)
        for storage in [HDF5Writer.StringStorage.fixedLength, .variableLength] {
            let path = folder + "/strings-\(storage).h5"
            try writeODIM(path, strings: storage, datasetWhat: Attributes([("quantity", .text("RATE"))]), dataWhat: Attributes(),
                          values: [1, 2, 3, 4, 5, 6])
            let attributes = try HDF5File(path: path).attributes(of: "/what")
            XCTAssertEqual(attributes["date"], .text("20180824"))
            XCTAssertEqual(attributes["object"], .text("COMP"))
            XCTAssertEqual(UTCTime.iso8601(try ODIMFieldFile(path: path).validTimes[0]), "2018-08-24T18:00:00Z")
        }
    }

    func testQuantitySelectionAndQualityFields() throws {
        let path = try temporaryFolder(self) + "/quality.h5"
        try writeODIM(path, datasetWhat: Attributes([("quantity", .text("RATE"))]), dataWhat: Attributes(),
                      values: [1, 2, 3, 4, 5, 6], quality: [0, 1, 2, 2, 1, 0])
        let rate = try ODIMFieldFile(path: path)
        XCTAssertEqual(rate.fields.map(\.quantity), ["RATE", "QIND"])
        XCTAssertEqual(rate.quantity, "RATE")
        let quality = try ODIMFieldFile(path: path, options: FieldReadOptions(quantity: "qind"))
        XCTAssertEqual(try quality.readFrame(0).values, [0, 0.5, 1, 1, 0.5, 0])
        assertFails(try ODIMFieldFile(path: path, options: FieldReadOptions(quantity: "DBZH")),
                      as: NowcastIOError.self, mentions: ["quality.h5", "DBZH", "RATE", "QIND"]) {
            if case .variableNotFound = $0 { return true } else { return false }
        }
    }

    func testGridFromProjdefAndTheUpperLeftCorner() throws {
        let path = try temporaryFolder(self) + "/grid.h5"
        try writeODIM(path, datasetWhat: Attributes([("quantity", .text("RATE"))]), dataWhat: Attributes(), values: [1, 2, 3, 4, 5, 6])
        let grid = try ODIMFieldFile(path: path).grid
        // OPERA's upper-left corner lies at the projection's (0, 0) by its false easting and northing.
        XCTAssertEqual(grid.x[0], 1000, accuracy: 1)
        XCTAssertEqual(grid.y[0], -1000, accuracy: 1)
        XCTAssertEqual(grid.x[2] - grid.x[1], 2000)
        XCTAssertEqual(grid.y[0] - grid.y[1], 2000, "row 0 is the north edge")
        XCTAssertEqual(grid.xyUnits, "m")
        XCTAssertTrue(grid.projection?.hasPrefix("+proj=laea") ?? false)
    }

    func testSizeAttributesThatDisagreeWithTheDataAreAnError() throws {
        let path = try temporaryFolder(self) + "/badsize.h5"
        let writer = try HDF5Writer(path: path)
        try writer.setAttributes(Attributes([("Conventions", .text("ODIM_H5/V2_2"))]), on: "/")
        for group in ["/what", "/where", "/dataset1", "/dataset1/data1", "/dataset1/data1/what"] { try writer.createGroup(group) }
        try writer.setAttributes(Attributes([("date", .text("20210704")), ("time", .text("155000"))]), on: "/what")
        try writer.setAttributes(Attributes([("xsize", .int(5)), ("ysize", .int(2))]), on: "/where")
        try writer.setAttributes(Attributes([("quantity", .text("RATE"))]), on: "/dataset1/data1/what")
        try writer.writeDataset("/dataset1/data1/data", values: [Float](repeating: 0, count: 6), shape: [2, 3], storedAs: .float32)
        try writer.finish()
        assertFails(try ODIMFieldFile(path: path), as: NowcastIOError.self, mentions: ["badsize.h5", "/dataset1/data1/data", "2 x 5"]) {
            if case .unexpectedShape = $0 { return true } else { return false }
        }
    }

    func testBadDateAttributesAreNamed() throws {
        let path = try temporaryFolder(self) + "/baddate.h5"
        let writer = try HDF5Writer(path: path)
        try writer.setAttributes(Attributes([("Conventions", .text("ODIM_H5/V2_2"))]), on: "/")
        for group in ["/what", "/dataset1", "/dataset1/data1", "/dataset1/data1/what"] { try writer.createGroup(group) }
        try writer.setAttributes(Attributes([("date", .text("2021-07-04")), ("time", .text("1550"))]), on: "/what")
        try writer.setAttributes(Attributes([("quantity", .text("RATE"))]), on: "/dataset1/data1/what")
        try writer.writeDataset("/dataset1/data1/data", values: [Float](repeating: 0, count: 4), shape: [2, 2], storedAs: .float32)
        try writer.finish()
        assertFails(try ODIMFieldFile(path: path), as: NowcastIOError.self, mentions: ["baddate.h5", "date", "YYYYMMDD"]) {
            if case .badTime = $0 { return true } else { return false }
        }
    }
}
