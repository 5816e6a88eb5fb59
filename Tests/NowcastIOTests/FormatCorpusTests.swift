import Foundation
import NowcastIO
import NowcastTestSupport
import XCTest

/// Every file of the format corpus (`fixtures/formats`, written by tools/make-format-fixtures the
/// way netCDF4-python, h5py and h5netcdf write files) reads as expected.json says it holds: string
/// attributes of every kind, times without a time coordinate, KNMI and other HDF5 layouts,
/// projections in global attributes, ODIM without a quantity, non-finite values.
final class FormatCorpusTests: XCTestCase {
    private struct Expected: Decodable {
        var units: String
        var times: [String]
        var ny: Int
        var nx: Int
        var values: [String: Float]
        var missing: Int
        var non_finite: Int
        var conventions: String?
        var format: String?
        var quantity: String?
        var start: String?
        var warning: String?
        var time_source: String?
        var projection: String?
        var projection_source: String?
        var xy_units: String?
        var decoding: String?
        var options: Options?
    }

    private struct Options: Decodable {
        var time_attribute: String?
        var time_format: String?
        var time_from_filename: String?
        var dataset: String?
        var gain: Double?
        var nodata: Double?
        var units: String?

        func readOptions() throws -> FieldReadOptions {
            FieldReadOptions(hdf5Dataset: dataset, calibration: Calibration(gain: gain ?? 1, nodata: nodata),
                             timeAttribute: try time_attribute.map(AttributeReference.init), timeFormat: try time_format.map(TimePattern.init),
                             timeFromFileName: try time_from_filename.map(TimePattern.init), units: units)
        }
    }

    static var folder: String { TestPaths.fixtures("formats") }

    private func corpus() throws -> [(name: String, expected: Expected)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/expected.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func testTheCorpusCoversEveryFileItHolds() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0 != "expected.json" }.sorted()
        XCTAssertEqual(files, try corpus().map(\.name))
        XCTAssertGreaterThanOrEqual(files.count, 30)
    }

    func testEveryFileReadsAsExpected() throws {
        for (name, expected) in try corpus() {
            let path = Self.folder + "/" + name
            let file: FieldFile
            do { file = try openFieldFile(path, options: try expected.options?.readOptions() ?? FieldReadOptions()) } catch {
                XCTFail("\(name): \(error)")
                continue
            }
            XCTAssertEqual(file.validTimes.map(UTCTime.iso8601), expected.times, name)
            XCTAssertEqual(file.grid.ny, expected.ny, name)
            XCTAssertEqual(file.grid.nx, expected.nx, name)
            let frame = try file.readFrame(0)
            XCTAssertEqual(frame.units, expected.units, name)
            XCTAssertEqual(frame.values.filter(\.isNaN).count, expected.missing, "\(name): missing values")
            XCTAssertEqual(frame.nonFiniteCount, expected.non_finite, "\(name): non-finite values")
            for (cell, value) in expected.values {
                let yx = cell.split(separator: ",").compactMap { Int($0) }
                XCTAssertEqual(frame[yx[0], yx[1]], value, accuracy: 1e-5, "\(name) at \(cell)")
            }
            if let conventions = expected.conventions {
                let value = file.globalAttributes["Conventions"]
                XCTAssertEqual(value?.stringValue, conventions, "\(name): \(String(describing: value))")
            }
            if let format = expected.format { XCTAssertTrue(file.formatName.hasPrefix(format), "\(name): \(file.formatName)") }
            if let quantity = expected.quantity { XCTAssertEqual(frame.quantity, quantity, name) }
            if let start = expected.start { XCTAssertEqual(frame.startTime.map(UTCTime.iso8601), start, name) }
            if let warning = expected.warning {
                XCTAssertTrue(file.warnings.contains { $0.contains(warning) }, "\(name): \(file.warnings)")
            } else {
                XCTAssertEqual(file.warnings, [], name)
            }
            if let source = expected.time_source { XCTAssertTrue(file.timeSource.contains(source), "\(name): \(file.timeSource)") }
            if let projection = expected.projection {
                XCTAssertTrue(file.grid.projection?.contains(projection) ?? false, "\(name): \(String(describing: file.grid.projection))")
            }
            if let source = expected.projection_source { XCTAssertEqual(file.grid.projectionSource, source, name) }
            if let units = expected.xy_units { XCTAssertEqual(file.grid.xyUnits, units, name) }
            if let decoding = expected.decoding { XCTAssertTrue(file.decoding.contains(decoding), "\(name): \(file.decoding)") }
        }
    }

    /// KNMI's grid: the upper-left corner projected, cells of the stated size in km.
    func testAKNMIGridIsPlacedByItsCorners() throws {
        let file = try openFieldFile(Self.folder + "/knmi-accumulation.h5")
        let projection = try Projection(try XCTUnwrap(file.grid.projection))
        let corner = try projection.forward(longitude: 0, latitude: 55.974)
        XCTAssertEqual(file.grid.x[0], corner.x + 0.5 * 1.0000035, accuracy: 1e-6)
        XCTAssertEqual(file.grid.y[0], corner.y - 0.5 * 1.0000048, accuracy: 1e-6)
        XCTAssertEqual(file.grid.dx, 1.0000035, accuracy: 1e-6)
    }

    func testAFormulaIsReadWithAnySpacing() {
        for (text, gain, offset) in [("GEO=0.010000*PV+0.000000", 0.01, 0.0), ("GEO= 0.5 * PV + -32", 0.5, -32.0), ("geo=2*pv-1", 2.0, -1.0),
                                     ("GEO=0.5*PV", 0.5, 0.0)] {
            let parsed = KNMILayout.parseFormula(text)
            XCTAssertEqual(parsed?.0, gain, text)
            XCTAssertEqual(parsed?.1, offset, text)
        }
        for bad in ["", "GEO=a*PV+1", "PV*0.5", "GEO=0.5*PV+inf"] { XCTAssertNil(KNMILayout.parseFormula(bad), bad) }
    }
}
