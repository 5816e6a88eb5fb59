import Foundation
import NowcastIO
import NowcastSynthetic
import XCTest
import NowcastTestSupport

/// Every kind of bad input gives a `NowcastIOError` whose one line names the file (and the variable
/// where one is involved) and says what was expected; nothing traps.
final class BadInputTests: XCTestCase {
    private func readEverything(_ path: String, _ options: FieldReadOptions = FieldReadOptions()) throws -> [Frame] {
        try openFieldFile(path, options: options).readAllFrames()
    }

    private func validNetCDF4(_ folder: String, frames: Int = 4) throws -> String {
        var settings = SyntheticRain.Settings(ny: 64, nx: 64, stepMinutes: 5, seed: 3)
        settings.coverageMask = false
        let paths = try SyntheticArchive(rain: settings, frames: 1, start: Date(timeIntervalSince1970: 0), format: .netcdf)
            .write(to: folder)
        return paths[0]
    }

    private func truncate(_ source: String, to destination: String, fraction: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: destination))
    }

    func testMissingFile() {
        assertFails(try readEverything("/no/such/dir/radar.nc"), as: NowcastIOError.self, mentions: ["/no/such/dir/radar.nc", "no such file"]) {
            if case .fileNotFound = $0 { return true } else { return false }
        }
    }

    func testFilesThatAreNotNetCDFOrHDF5() throws {
        let folder = try temporaryFolder(self)
        try Data("temperature,rain\n1,2\n".utf8).write(to: URL(fileURLWithPath: folder + "/table.csv"))
        try Data().write(to: URL(fileURLWithPath: folder + "/empty.nc"))
        for name in ["table.csv", "empty.nc"] {
            assertFails(try readEverything(folder + "/" + name), as: NowcastIOError.self, mentions: [name, "not a NetCDF or HDF5 file"]) {
                if case .unrecognisedFormat = $0 { return true } else { return false }
            }
        }
        assertFails(try readEverything(folder), as: NowcastIOError.self, mentions: [folder, "a folder"]) {
            if case .unrecognisedFormat = $0 { return true } else { return false }
        }
    }

    func testTruncatedFilesOfEachFormat() throws {
        let folder = try temporaryFolder(self)
        let netcdf4 = try validNetCDF4(folder)
        let classic = folder + "/classic.nc"
        try writeCFFile(classic, dims: [("y", 64), ("x", 64)], values: [Int16](repeating: 3, count: 4096), attributes: Attributes(),
                        extra: { try addScalarTime($0) }, format: .classic)
        var settings = SyntheticRain.Settings(ny: 64, nx: 64, stepMinutes: 5, seed: 3)
        settings.coverageMask = false
        let odim = try SyntheticArchive(rain: settings, frames: 1, start: Date(timeIntervalSince1970: 0), format: .odim)
            .write(to: folder + "/odim")[0]
        for (source, fractions) in [(netcdf4, [0.3, 0.6, 0.9]), (classic, [0.5, 0.9]), (odim, [0.3, 0.6, 0.9])] {
            for fraction in fractions {
                let cut = folder + "/cut-\(Int(fraction * 100))-" + URL(fileURLWithPath: source).lastPathComponent
                try truncate(source, to: cut, fraction: fraction)
                assertFails(try readEverything(cut), as: NowcastIOError.self, mentions: [URL(fileURLWithPath: cut).lastPathComponent]) { _ in true }
            }
        }
    }

    func testClassicFilesWithRecordVariablesAreCheckedExactly() throws {
        let folder = try temporaryFolder(self)
        for format in [NetCDFWriter.Format.classic, .offset64] {
            let path = folder + "/records.nc"
            let writer = try NetCDFWriter(path: path, format: format)
            try writer.addDimension("time", length: nil)
            try writer.addDimension("y", length: 3)
            try writer.addDimension("x", length: 3)
            try writer.addVariable("time", type: .int32, dimensions: ["time"], attributes: Attributes([("units", .text("minutes since 2020-01-01"))]))
            try writer.addVariable("rain", type: .int16, dimensions: ["time", "y", "x"])
            try writer.addVariable("flag", type: .int8, dimensions: ["y", "x"])
            try writer.write("time", [Int32(0), 5, 10], start: [0], count: [3])
            try writer.write("rain", (0..<27).map { Int16($0) }, start: [0, 0, 0], count: [3, 3, 3])
            try writer.write("flag", [Int8](repeating: 1, count: 9))
            try writer.finish()
            let frames = try readEverything(path, FieldReadOptions(variable: "rain"))
            XCTAssertEqual(frames.count, 3)
            XCTAssertEqual(try NetCDFFile(path: path).variable("flag").readAllDoubles(), [Double](repeating: 1, count: 9))
            XCTAssertEqual(frames[2].values.last, 26)
            let cut = folder + "/records-cut.nc"
            try truncate(path, to: cut, fraction: 0.97)
            assertFails(try readEverything(cut, FieldReadOptions(variable: "rain")), as: NowcastIOError.self, mentions: ["records-cut.nc", "bytes"]) {
                if case .unreadable = $0 { return true } else { return false }
            }
        }
    }

    func testMissingVariableListsWhatIsThere() throws {
        let path = try validNetCDF4(try temporaryFolder(self))
        assertFails(try readEverything(path, FieldReadOptions(variable: "reflectivity")),
                      as: NowcastIOError.self, mentions: [path, "reflectivity", "rainfall_rate", "time"]) {
            if case .variableNotFound = $0 { return true } else { return false }
        }
    }

    func testAVariableWithUnexpectedDimensions() throws {
        let folder = try temporaryFolder(self)
        try writeCFFile(folder + "/line.nc", dims: [("x", 5)], values: [1, 2, 3, 4, 5], attributes: Attributes())
        assertFails(try readEverything(folder + "/line.nc", FieldReadOptions(variable: "field")),
                      as: NowcastIOError.self, mentions: ["line.nc", "'field'", "x=5", "expected dimensions (y, x) or (time, y, x)"]) {
            if case .unexpectedShape = $0 { return true } else { return false }
        }
        assertFails(try readEverything(folder + "/line.nc"), as: NowcastIOError.self, mentions: ["line.nc", "field variable", "field"]) {
            if case .noFieldVariable = $0 { return true } else { return false }
        }
        try writeCFFile(folder + "/ensemble.nc", dims: [("member", 2), ("level", 2), ("y", 2), ("x", 2)],
                        values: [Int16](repeating: 1, count: 16), attributes: Attributes(), extra: { try addScalarTime($0) })
        assertFails(try readEverything(folder + "/ensemble.nc"), as: NowcastIOError.self, mentions: ["ensemble.nc", "member=2"]) {
            if case .unexpectedShape = $0 { return true } else { return false }
        }
    }

    func testUndecodableTimeUnitsAndCalendars() throws {
        let folder = try temporaryFolder(self)
        let cases: [(String, String?, String)] = [
            ("seconds since yesterday", nil, "yesterday"),
            ("fortnights since 2020-01-01", nil, "fortnights"),
            ("days since 2020-01-01", "noleap", "noleap"),
        ]
        for (index, (units, calendar, word)) in cases.enumerated() {
            let path = folder + "/time\(index).nc"
            try writeCFFile(path, dims: [("y", 2), ("x", 2)], values: [1, 2, 3, 4], attributes: Attributes(),
                            extra: { try addScalarTime($0, units: units, value: 3, calendar: calendar) })
            assertFails(try readEverything(path), as: NowcastIOError.self, mentions: ["time\(index).nc", "'time'", word]) {
                if case .badTime = $0 { return true } else { return false }
            }
        }
    }

    func testAttributesOfTheWrongKind() throws {
        let path = try temporaryFolder(self) + "/attr.nc"
        try writeCFFile(path, dims: [("y", 2), ("x", 2)], values: [1, 2, 3, 4],
                        attributes: Attributes([("scale_factor", .text("0.1"))]), extra: { try addScalarTime($0) })
        assertFails(try readEverything(path), as: NowcastIOError.self, mentions: ["attr.nc", "field", "scale_factor", "a number"]) {
            if case .badAttribute = $0 { return true } else { return false }
        }
    }

    func testAnInvalidFrameIndexIsAnErrorNotATrap() throws {
        let file = try openFieldFile(try validNetCDF4(try temporaryFolder(self)))
        assertFails(try file.readFrame(1), as: NowcastIOError.self, mentions: ["frame 1", "has 1"]) { if case .invalidOption = $0 { return true } else { return false } }
        assertFails(try file.readFrame(-1), as: NowcastIOError.self, mentions: ["frame -1"]) { if case .invalidOption = $0 { return true } else { return false } }
    }
}
