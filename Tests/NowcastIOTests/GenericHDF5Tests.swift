import Foundation
import NowcastIO
import XCTest
import NowcastTestSupport

final class GenericHDF5Tests: XCTestCase {
    private func writeLayout(_ path: String) throws {
        let writer = try HDF5Writer(path: path, stringStorage: .variableLength)
        try writer.createGroup("/precip")
        try writer.writeDataset("/precip/image", values: [UInt8(0), 1, 200, 255, 10, 20], shape: [2, 3], storedAs: .uint8,
                                chunks: [1, 3], deflateLevel: 3)
        try writer.setAttributes(Attributes([("timestamp", .text("202107041550")), ("epoch", .double(1_625_413_800))]), on: "/precip")
        try writer.finish()
    }

    func testADatasetByPathWithTheCallersCalibrationAndTimeAttribute() throws {
        let path = try temporaryFolder(self) + "/layout.h5"
        try writeLayout(path)
        let options = FieldReadOptions(hdf5Dataset: "/precip/image",
                                       calibration: Calibration(gain: 0.5, offset: -1, nodata: 255, undetect: 0, undetectValue: 0),
                                       timeAttribute: try AttributeReference("/precip@timestamp"), timeFormat: try TimePattern("%Y%m%d%H%M"), units: "mm h-1")
        let file = try openFieldFile(path, options: options)
        XCTAssertTrue(file is HDF5FieldFile)
        let frame = try file.readFrame(0)
        XCTAssertEqual(frame.values[0], 0)
        XCTAssertEqual(frame.values[1], -0.5)
        XCTAssertEqual(frame.values[2], 99)
        XCTAssertTrue(frame.values[3].isNaN)
        XCTAssertEqual(Array(frame.values[4...]), [4, 9])
        XCTAssertEqual(frame.units, "mm h-1")
        XCTAssertEqual(UTCTime.iso8601(frame.validTime), "2021-07-04T15:50:00Z")

        var numeric = options
        numeric.timeAttribute = try AttributeReference("/precip@epoch")
        XCTAssertEqual(UTCTime.iso8601(try openFieldFile(path, options: numeric).validTimes[0]), "2021-07-04T15:50:00Z")
    }

    func testTimeFromTheFileNameAndTheErrorsOfAGenericRead() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/qpe_20210704T1555.h5"
        try writeLayout(path)
        let byName = FieldReadOptions(hdf5Dataset: "/precip/image", timeFromFileName: try TimePattern("%Y%m%dT%H%M"))
        XCTAssertEqual(UTCTime.iso8601(try openFieldFile(path, options: byName).validTimes[0]), "2021-07-04T15:55:00Z")

        assertFails(try openFieldFile(path, options: FieldReadOptions(hdf5Dataset: "/precip/image")),
                      as: NowcastIOError.self, mentions: ["qpe_20210704T1555.h5", "--time-attribute"]) { if case .badTime = $0 { return true } else { return false } }
        assertFails(try openFieldFile(path, options: FieldReadOptions(hdf5Dataset: "/precip/nothing", timeFromFileName: byName.timeFromFileName)),
                      as: NowcastIOError.self, mentions: ["/precip/nothing", "/precip/image"]) { if case .variableNotFound = $0 { return true } else { return false } }
        assertFails(try openFieldFile(path, options: FieldReadOptions(hdf5Dataset: "/precip/image", timeAttribute: try AttributeReference("/precip@missing"))),
                      as: NowcastIOError.self, mentions: ["missing"]) { if case .badAttribute = $0 { return true } else { return false } }
        XCTAssertThrowsError(try AttributeReference("timestamp")) { XCTAssertTrue("\($0)".contains("OBJECT@NAME"), "\($0)") }
    }

    func testAPlainHDF5FileWithoutADatasetOptionSaysHowToReadIt() throws {
        let path = try temporaryFolder(self) + "/plain.h5"
        try writeLayout(path)
        assertFails(try openFieldFile(path), as: NowcastIOError.self, mentions: ["plain.h5", "--dataset", "/precip/image"]) {
            if case .invalidOption = $0 { return true } else { return false }
        }
    }
}
