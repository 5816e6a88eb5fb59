import Foundation
import NowcastIO
import XCTest

/// Runs the built `nowcast` executable as a user would.
final class CommandLineTests: XCTestCase {
    private struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    private var executable: URL {
        // XCTest on Linux runs from the build folder, which also holds the `nowcast` executable.
        Bundle.main.bundleURL.appendingPathComponent("nowcast")
    }

    private func run(_ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("the nowcast executable is not built at \(executable.path)")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                      error: String(decoding: err, as: UTF8.self))
    }

    private func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nowcast-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func assertOneLineFailure(_ result: Result, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, "exit status", file: file, line: line)
        let lines = result.error.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line on stderr: \(result.error)", file: file, line: line)
        for word in mentions { XCTAssertTrue(result.error.contains(word), "'\(result.error)' lacks '\(word)'", file: file, line: line) }
        XCTAssertEqual(result.output, "", "nothing on stdout", file: file, line: line)
    }

    func testSynthThenInspectAsJSON() throws {
        let dir = try folder()
        let synth = try run(["synth", "-o", dir, "--frames", "3", "--size", "40,56", "--step", "10", "--seed", "4", "--format", "odim",
                             "--start", "2023-01-31T23:50:00Z"])
        XCTAssertEqual(synth.status, 0, synth.error)
        XCTAssertTrue(synth.output.contains("wrote 3 odim files of 40 x 56"))
        XCTAssertTrue(synth.error.contains("synth: 3/3 frames"), "progress lines on a non-terminal: \(synth.error)")
        let paths = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        XCTAssertEqual(paths.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["synth_20230131_235000.h5", "synth_20230201_000000.h5", "synth_20230201_001000.h5"])
        let inspect = try run(["inspect", "--json"] + paths)
        XCTAssertEqual(inspect.status, 0, inspect.error)
        let reports = try JSONSerialization.jsonObject(with: Data(inspect.output.utf8)) as? [[String: Any]]
        XCTAssertEqual(reports?.count, 3)
        let last = try XCTUnwrap(reports?.last)
        XCTAssertEqual(last["format"] as? String, "ODIM_H5/V2_4")
        XCTAssertEqual(last["units"] as? String, "mm h-1")
        let frames = try XCTUnwrap(last["frames"] as? [[String: Any]])
        XCTAssertEqual(frames.first?["validTime"] as? String, "2023-02-01T00:10:00Z")
        let missing = try XCTUnwrap(frames.first?["missingFraction"] as? Double)
        XCTAssertGreaterThan(missing, 0.1, "the circular coverage leaves the corners missing")
        let grid = try XCTUnwrap(last["grid"] as? [String: Any])
        XCTAssertEqual(grid["ny"] as? Int, 40)
        XCTAssertEqual(grid["nx"] as? Int, 56)
    }

    func testInspectTextNamesWhatItRead() throws {
        let dir = try folder()
        XCTAssertEqual(try run(["synth", "-o", dir, "--frames", "1", "--size", "32,32"]).status, 0)
        let result = try run(["inspect", dir + "/synth_20240601_000000.nc"])
        XCTAssertEqual(result.status, 0, result.error)
        for expected in ["NetCDF-4 (CF)", "rainfall_rate: rainfall_rate [mm h-1]", "scale 0.01", "32 x 32", "+proj=laea",
                         "2024-06-01T00:00:00Z"] {
            XCTAssertTrue(result.output.contains(expected), "missing '\(expected)' in:\n\(result.output)")
        }
    }

    func testBadInputGivesOneLineAndExitStatusOne() throws {
        let dir = try folder()
        assertOneLineFailure(try run(["inspect", dir + "/absent.nc"]), mentions: ["absent.nc", "no such file"])
        try Data("not a radar file".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        assertOneLineFailure(try run(["inspect", dir + "/notes.txt"]), mentions: ["notes.txt", "not a NetCDF or HDF5 file"])
        XCTAssertEqual(try run(["synth", "-o", dir, "--frames", "1", "--size", "32,32"]).status, 0)
        let good = dir + "/synth_20240601_000000.nc"
        assertOneLineFailure(try run(["inspect", "--variable", "dbz", good]), mentions: ["synth_20240601_000000.nc", "'dbz'", "rainfall_rate"])
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dir + "/half.nc"))
        assertOneLineFailure(try run(["inspect", dir + "/half.nc"]), mentions: ["half.nc"])
    }

    func testInvalidArgumentsAreRejectedBeforeAnyWork() throws {
        let dir = try folder()
        let size = try run(["synth", "-o", dir + "/x", "--size", "big"])
        XCTAssertNotEqual(size.status, 0)
        XCTAssertTrue(size.error.contains("--size"), size.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x"), "nothing written")
        let format = try run(["synth", "-o", dir + "/y", "--format", "grib"])
        XCTAssertNotEqual(format.status, 0)
        XCTAssertTrue(format.error.contains("grib"), format.error)
        let pattern = try run(["inspect", "--time-from-filename", "%H%M", dir])
        XCTAssertEqual(pattern.status, 1)
        XCTAssertTrue(pattern.error.contains("no year"), pattern.error)
    }

    func testBenchReadPrintsThroughput() throws {
        let dir = try folder()
        XCTAssertEqual(try run(["synth", "-o", dir, "--frames", "1", "--size", "64,64"]).status, 0)
        let result = try run(["bench", "read", "--runs", "2", "--json", dir + "/synth_20240601_000000.nc"])
        XCTAssertEqual(result.status, 0, result.error)
        let lines = try result.output.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(lines.compactMap { $0["method"] as? String }, ["library_step", "direct_step", "direct_parallel"])
        for line in lines {
            XCTAssertEqual(line["bytes"] as? Int, 64 * 64 * 4)
            XCTAssertEqual(line["checksum_ok"] as? Bool, true, "every path decodes the same values")
            XCTAssertGreaterThan(try XCTUnwrap(line["MBps_uncompressed"] as? Double), 0)
        }
    }
}
