import Foundation
import XCTest
import NowcastTestSupport

/// Real-world inputs as a user gives them to the commands: every file of the format corpus reads
/// with the flags its entry names, and each bad input or setting ends with one line, exit status 1
/// and nothing written.
final class BadInputCommandTests: XCTestCase {
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-badinput") }

    private func assertRefused(_ arguments: [String], mentions words: [String], leaves absent: [String] = [],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLIProcess.run(arguments)
        XCTAssertEqual(result.status, 1, "\(arguments): \(result.error)", file: file, line: line)
        let messages = result.error.split(separator: "\n").filter { $0.hasPrefix("nowcast:") }
        XCTAssertEqual(messages.count, 1, "one line: \(result.error)", file: file, line: line)
        for word in words { XCTAssertTrue(result.error.contains(word), "'\(result.error)' lacks '\(word)'", file: file, line: line) }
        for path in absent { XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(path) was written", file: file, line: line) }
    }

    func testEveryCorpusFileInspectsWithTheFlagsItsEntryNames() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixtures("formats") + "/expected.json"))
        let corpus = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        for (name, entry) in corpus.sorted(by: { $0.key < $1.key }) {
            var flags: [String] = []
            for (key, value) in (entry["options"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                flags += ["--" + key.replacingOccurrences(of: "_", with: "-"), "\(value)"]
            }
            let result = try CLIProcess.run(["inspect", "--json"] + flags + [TestPaths.fixtures("formats") + "/" + name])
            XCTAssertEqual(result.status, 0, "\(name) \(flags): \(result.error)")
            let reports = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
            let report = try XCTUnwrap(reports?.first, name)
            XCTAssertEqual(report["schema"] as? String, "nowcast.inspect/1")
            XCTAssertEqual((report["frames"] as? [[String: Any]])?.first?["validTime"] as? String, (entry["times"] as? [String])?.first, name)
            XCTAssertEqual(report["units"] as? String, entry["units"] as? String, name)
        }
    }

    func testInspectJSONWritesAttributesAsPlainJSON() throws {
        let path = TestPaths.fixtures("formats") + "/../synth-netcdf/synth_20240601_120000.nc"
        let result = try CLIProcess.run(["inspect", "--json", path])
        XCTAssertEqual(result.status, 0, result.error)
        let report = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])?.first)
        let mapping = try XCTUnwrap((report["grid"] as? [String: Any])?["gridMapping"] as? [String: Any])
        let attributes = try XCTUnwrap(mapping["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["latitude_of_projection_origin"] as? Double, 50.5)
        XCTAssertEqual(attributes["grid_mapping_name"] as? String, "lambert_azimuthal_equal_area")
        XCTAssertEqual((report["attributes"] as? [String: Any])?["Conventions"] as? String, "CF-1.8")
        XCTAssertFalse(result.output.contains("\"_0\""), "no Swift enum encoding")
        XCTAssertEqual(report["timeSource"] as? String, "variable 'time'")
    }

    func testBadConvertSettingsAndDataAreOneLineAndWriteNothing() throws {
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "16", "--size", "48,48"]).status, 0)
        let convert = ["convert", "--input", dir + "/archive", "-o", dir + "/store"]
        try assertRefused(convert + ["--transform", "log:0"], mentions: ["transforms", "'log:0'", "above 0"], leaves: [dir + "/store"])
        try assertRefused(convert + ["--transform", "dbr:0.1:-15:2"], mentions: ["'dbr:0.1:-15:2'", "at most 2 parameters"], leaves: [dir + "/store"])
        try assertRefused(convert + ["--transform", "clip:1:0:0.5"], mentions: ["'clip:1:0:0.5'", "above the threshold"], leaves: [dir + "/store"])
        try assertRefused(convert + ["--t-out", "0"], mentions: ["window.targets", "at least 1"], leaves: [dir + "/store"])
        try assertRefused(convert + ["--time-attribute", "timestamp"], mentions: ["--time-attribute", "OBJECT@NAME"], leaves: [dir + "/store"])
        try assertRefused(convert + ["--t-in", "2", "--t-out", "2", "--count-static-missing"],
                          mentions: ["all 13 samples were rejected", "for missing data", "max_missing_fraction"], leaves: [dir + "/store"])
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        try assertRefused(["convert", "--input", dir + "/archive", "-o", dir + "/file/store"], mentions: [dir + "/file is a file, not a folder"])
        // The same archive with the defaults: the never-observed corners no longer reject its samples.
        let converted = try CLIProcess.run(convert + ["--t-in", "2", "--t-out", "2"])
        XCTAssertEqual(converted.status, 0, converted.error)
        XCTAssertTrue(converted.output.contains("kept") && converted.output.contains("left out of the shares"), converted.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/store/manifest.json"))
    }

    func testAnHDF5LayoutReadsInConvertWithItsOptionsAndSaysWhenItIsRaw() throws {
        let dir = try folder()
        try FileManager.default.createDirectory(atPath: dir + "/archive", withIntermediateDirectories: true)
        for minute in ["00", "05", "10"] {
            try FileManager.default.copyItem(atPath: TestPaths.fixtures("formats") + "/generic-raw_202107141200.h5",
                                             toPath: dir + "/archive/generic-raw_2021071412\(minute).h5")
        }
        let raw = try CLIProcess.run(["convert", "--input", dir + "/archive", "--dataset", "/counts", "--time-from-filename", "%Y%m%d%H%M",
                                      "--t-in", "1", "--t-out", "1", "--validation", "0", "--test", "0", "-o", dir + "/raw"])
        XCTAssertEqual(raw.status, 0, raw.error)
        XCTAssertTrue(raw.output.contains("raw values, no calibration found"), raw.output)
        XCTAssertTrue(raw.error.contains("raw values, no calibration found") && raw.error.contains("(3 files"), raw.error)
        let calibrated = try CLIProcess.run(["convert", "--input", dir + "/archive", "--dataset", "/counts", "--gain", "0.5", "--nodata", "255",
                                             "--time-from-filename", "%Y%m%d%H%M", "--t-in", "1", "--t-out", "1", "--validation", "0",
                                             "--test", "0", "-o", dir + "/calibrated"])
        XCTAssertEqual(calibrated.status, 0, calibrated.error)
        XCTAssertTrue(calibrated.output.contains("gain 0.5, offset 0, nodata 255 -> NaN (given)"), calibrated.output)
        // --variable on an HDF5 file that is not NetCDF-4 names what to do instead of reading raw counts.
        try assertRefused(["convert", "--input", dir + "/archive", "--variable", "/counts", "-o", dir + "/wrong"],
                          mentions: ["--variable '/counts'", "--dataset"], leaves: [dir + "/wrong"])
    }

    func testResumeNeedsARunAndTimeAttributesWorkForNetCDF() throws {
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "12", "--size", "32,32", "--no-coverage-mask"]).status, 0)
        XCTAssertEqual(try CLIProcess.run(["convert", "--input", dir + "/archive", "--t-in", "2", "--t-out", "1", "--validation", "0", "--test", "0",
                                           "-o", dir + "/store"]).status, 0)
        try assertRefused(["train", "--store", dir + "/store", "-o", dir + "/run", "--resume"], mentions: ["nothing to resume"], leaves: [dir + "/run"])
        let inspect = try CLIProcess.run(["inspect", "--time-attribute", "@product_datetime_end", "--time-format", "%d-%b-%Y;%H:%M:%S",
                                          TestPaths.fixtures("formats") + "/time-month-name.nc"])
        XCTAssertEqual(inspect.status, 0, inspect.error)
        XCTAssertTrue(inspect.output.contains("from attribute @product_datetime_end") && inspect.output.contains("2021-07-14T12:00:00Z"),
                      inspect.output)
    }
}
