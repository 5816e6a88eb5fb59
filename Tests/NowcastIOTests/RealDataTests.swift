import Foundation
import NowcastIO
import XCTest
import NowcastTestSupport

/// The three real radar sequences in `../shared/data` (see its README). Reference pixel values were
/// read with `ncdump -v precipitation` (BoM, stored shorts) and `h5dump -d /dataset1/data1/data -s ...`.
final class RealDataTests: XCTestCase {
    private func readSequence(_ folder: String, ext: String) throws -> [Frame] {
        try TestPaths.files(in: try TestPaths.sharedData(folder), extension: ext).map { try openFieldFile($0).readFrame(0) }
    }

    private func assertSteps(_ frames: [Frame], minutes: Double, file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in zip(frames, frames.dropFirst()) {
            XCTAssertEqual(b.validTime.timeIntervalSince(a.validTime), minutes * 60, "\(b.sourcePath)", file: file, line: line)
        }
    }

    func testBureauOfMeteorologyCFSequence() throws {
        let frames = try readSequence("bom_nc_prcp-c10_66_20201031", ext: ".nc")
        XCTAssertEqual(frames.count, 144)
        assertSteps(frames, minutes: 10)
        XCTAssertEqual(frames.first.map { UTCTime.iso8601($0.validTime) }, "2020-10-31T00:00:00Z")
        XCTAssertEqual(frames.last.map { UTCTime.iso8601($0.validTime) }, "2020-10-31T23:50:00Z")
        // The data README says the fill value never occurs; it does, in 65 isolated pixels over the
        // day (stored -1, counted independently with numpy). Outside the radar range is 0, not fill.
        var missing = 0
        for frame in frames {
            XCTAssertEqual(frame.ny, 512)
            XCTAssertEqual(frame.nx, 512)
            missing += frame.values.filter(\.isNaN).count
            XCTAssertLessThan(frame.statistics.missingFraction, 1e-4)
            XCTAssertEqual(frame.startTime.map { frame.validTime.timeIntervalSince($0) }, 600, "10-minute accumulation")
        }
        XCTAssertEqual(missing, 65)
        XCTAssertEqual(frames[72].statistics.missingFraction, 0)
        let noon = frames[72]
        XCTAssertEqual(UTCTime.iso8601(noon.validTime), "2020-10-31T12:00:00Z")
        XCTAssertEqual(noon[3, 440], Float(42 * 0.05))
        XCTAssertEqual(noon[3, 441], Float(43 * 0.05))
        XCTAssertEqual(noon[15, 448], Float(76 * 0.05))
        XCTAssertEqual(noon.statistics.max, Double(Float(76 * 0.05)))
        XCTAssertEqual(noon.units, "kg m-2")
        XCTAssertEqual(noon.quantity, "precipitation_amount")
        XCTAssertEqual(noon.grid.xyUnits, "km")
        XCTAssertEqual(noon.grid.dx, 0.5)
        XCTAssertEqual(noon.grid.gridMapping?.name, "albers_conical_equal_area")
        XCTAssertEqual(noon.grid.x.first, -127.75)
        XCTAssertEqual(noon.grid.y.first, 127.75, "row 0 is the north edge in this file")
    }

    func testOPERAComposite() throws {
        let frames = try readSequence("opera_odim_20180824", ext: ".hdf")
        XCTAssertEqual(frames.count, 24)
        assertSteps(frames, minutes: 15)
        XCTAssertEqual(frames.first.map { UTCTime.iso8601($0.validTime) }, "2018-08-24T18:00:00Z", "the nominal time, not 17:50")
        XCTAssertEqual(frames.first?.startTime.map(UTCTime.iso8601), "2018-08-24T17:50:00Z")
        XCTAssertEqual(frames.first?.endTime.map(UTCTime.iso8601), "2018-08-24T18:05:00Z")
        for frame in frames {
            XCTAssertEqual(frame.ny, 2200)
            XCTAssertEqual(frame.nx, 1900)
            XCTAssertEqual(frame.quantity, "RATE")
        }
        let eight = frames[8]
        XCTAssertEqual(UTCTime.iso8601(eight.validTime), "2018-08-24T20:00:00Z")
        XCTAssertEqual(eight[1086, 1356], 214.52)
        XCTAssertEqual(eight[231, 1311], 5.27)
        XCTAssertEqual(eight[18, 1312], 0, "h5dump shows -8.888e+06, the undetect value: no rain")
        XCTAssertTrue(eight[0, 0].isNaN, "nodata (-9999000) in the corner")
        let outliers = frames.compactMap { $0.statistics.max }.max() ?? 0
        XCTAssertGreaterThan(outliers, 1000, "OPERA's unfiltered outliers reach ~1200 mm/h and are kept")
    }

    func testOPERAGridMatchesItsOwnCornerCoordinates() throws {
        let path = try TestPaths.files(in: try TestPaths.sharedData("opera_odim_20180824"), extension: ".hdf")[0]
        let grid = try openFieldFile(path).grid
        let where_ = try HDF5File(path: path).attributes(of: "/where")
        let projection = try Projection(try XCTUnwrap(grid.projection))
        // The lower-right corner from the grid (last centre + half a cell) equals LR_lon/LR_lat projected.
        let lr = try projection.forward(longitude: try XCTUnwrap(where_["LR_lon"]?.doubleValue), latitude: try XCTUnwrap(where_["LR_lat"]?.doubleValue))
        XCTAssertEqual(try XCTUnwrap(grid.x.last) + 1000, lr.x, accuracy: 10)
        XCTAssertEqual(try XCTUnwrap(grid.y.last) - 1000, lr.y, accuracy: 10)
    }

    func testQualityFieldOfOPERAIsReadable() throws {
        let path = try TestPaths.files(in: try TestPaths.sharedData("opera_odim_20180824"), extension: ".hdf")[0]
        let quality = try openFieldFile(path, options: FieldReadOptions(quantity: "QIND")).readFrame(0)
        XCTAssertEqual(quality.sourceVariable, "/dataset2/data1/data")
        XCTAssertLessThanOrEqual(quality.statistics.max, 1)
        XCTAssertGreaterThanOrEqual(quality.statistics.min, 0)
    }

    func testRoyalMeteorologicalInstituteComposite() throws {
        let frames = try readSequence("rmi_odim_radqpe_20210704", ext: ".hdf")
        XCTAssertEqual(frames.count, 39)
        assertSteps(frames, minutes: 5)
        XCTAssertEqual(frames.first.map { UTCTime.iso8601($0.validTime) }, "2021-07-04T15:50:00Z")
        XCTAssertEqual(frames.last.map { UTCTime.iso8601($0.validTime) }, "2021-07-04T19:00:00Z")
        for frame in frames {
            XCTAssertEqual(frame.ny, 700)
            XCTAssertEqual(frame.nx, 700)
            XCTAssertEqual(frame.statistics.missingFraction, 1.0 / 3, accuracy: 0.02, "about a third of the grid is NaN")
        }
        let frame = frames[20]
        XCTAssertEqual(UTCTime.iso8601(frame.validTime), "2021-07-04T17:30:00Z")
        XCTAssertEqual(frame[522, 229], 47.162937)
        XCTAssertEqual(frame[105, 402], 2.424756)
        XCTAssertEqual(frame[105, 403], 3.4979424)
        XCTAssertTrue(frame[0, 0].isNaN)
        // The dataset-level corner (UL_x, UL_y) places the grid directly, in metres.
        XCTAssertEqual(frame.grid.x.first, 300_500)
        XCTAssertEqual(frame.grid.y.first, 999_500)
    }
}
