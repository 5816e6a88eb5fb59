import Foundation
import NowcastIO
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import NowcastTestSupport

/// Runs the built `nowcast` executable as a user would.
final class CommandLineTests: XCTestCase {
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        try CLIProcess.run(arguments, environment: environment)
    }

    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-cli") }

    private func assertOneLineFailure(_ result: (status: Int32, output: String, error: String), mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
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

    func testBenchTrainAndInferPrintThroughputAndRejectBadSizes() throws {
        for mode in ["train", "infer"] {
            let result = try run(["bench", mode, "--model", "unet", "--size", "16", "--batch", "2", "--iters", "1", "--json"])
            XCTAssertEqual(result.status, 0, result.error)
            let line = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            XCTAssertEqual(line["mode"] as? String, mode)
            XCTAssertGreaterThan(try XCTUnwrap(line["samples_per_s"] as? Double), 0)
            XCTAssertFalse(try XCTUnwrap(line["kernels"] as? String).isEmpty)
        }
        let bad = try run(["bench", "train", "--model", "convlstm", "--size", "4"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.error.contains("--size"), bad.error)
        let conv = try run(["bench", "conv", "--shape", "2,4,4,8", "--iters", "1"])
        XCTAssertEqual(conv.status, 0, conv.error)
        XCTAssertTrue(conv.output.contains("im2col + sgemm, forward"), conv.output)
        let empty = try run(["bench", "conv", "--shape=0,4,4,8", "--iters", "1"])
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.error.contains("positive sizes"), empty.error)
        // Engine settings it does not understand: named on stderr, the default used, the work done.
        let settings = try run(["bench", "infer", "--model", "unet", "--size", "16", "--batch", "1", "--iters", "1"],
                               environment: ["NOWCAST_CONV": "fast", "NOWCAST_TENSOR_CACHE_MB": "lots"])
        XCTAssertEqual(settings.status, 0, settings.error)
        XCTAssertTrue(settings.error.contains("NOWCAST_CONV=fast not understood; expected auto or gemm"), settings.error)
        XCTAssertTrue(settings.error.contains("NOWCAST_TENSOR_CACHE_MB=lots not understood"), settings.error)
        XCTAssertTrue(settings.output.contains("oneDNN"), settings.output)
    }
}

/// `nowcast convert` and `nowcast stats` as a user runs them, including a SIGKILL in the middle.
final class ConvertCommandTests: XCTestCase {
    private func start(_ arguments: [String]) throws -> (Process, Pipe, Pipe) { try CLIProcess.start(arguments) }
    private func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) { try CLIProcess.run(arguments) }
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-convert") }

    private func shardBytes(_ store: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: store) where path.hasSuffix(".nc") {
            // Compare the decoded variables, not the files: HDF5 metadata may be laid out differently.
            let file = try NetCDFFile(path: store + "/" + path)
            let values = try ["data", "valid_time", "patch_y", "patch_x"].flatMap { try file.variable($0).readAllDoubles() }
            result[path] = values.withUnsafeBytes { Data($0) }
        }
        return result
    }

    func testKilledConvertResumesToTheSameStore() throws {
        let dir = try folder()
        XCTAssertEqual(try run(["synth", "-o", dir + "/archive", "--frames", "120", "--size", "96,96", "--step", "5", "--no-coverage-mask"]).status, 0)
        let common = ["convert", "--input", dir + "/archive", "--transform", "dbr:0.1:-15", "--transform", "zscore", "--t-in", "4", "--t-out", "4",
                      "--patch-size", "32", "--block-hours", "2", "--validation", "0.2", "--test", "0.2", "--shard-size", "8", "--split-seed", "3"]
        let whole = try run(common + ["-o", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.error)
        XCTAssertFalse(whole.error.contains("HDF5-DIAG"), "the libraries print nothing of their own: \(whole.error.prefix(400))")
        XCTAssertTrue(whole.output.contains("kept       train"), whole.output)

        let (process, _, _) = try start(common + ["-o", dir + "/killed"])
        let state = dir + "/killed/convert-state.json"
        let deadline = Date().addingTimeInterval(60)
        // Kill once at least two shard ranges are done.
        while Date() < deadline, process.isRunning {
            if let data = FileManager.default.contents(atPath: state),
               let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], (json["ranges"] as? Int ?? 0) >= 2 { break }
            usleep(2000)
        }
        guard process.isRunning else { throw XCTSkip("the conversion finished before it could be killed") }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/killed/manifest.json"))
        let resumed = try run(common + ["-o", dir + "/killed"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.error.contains("resuming"), resumed.error)
        XCTAssertEqual(try shardBytes(dir + "/killed"), try shardBytes(dir + "/whole"))
        let a = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/whole/manifest.json"))) as? [String: Any]
        let b = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/killed/manifest.json"))) as? [String: Any]
        XCTAssertEqual(a?["counts"] as? NSDictionary, b?["counts"] as? NSDictionary)
        XCTAssertEqual(a?["shards"] as? NSDictionary, b?["shards"] as? NSDictionary)
    }

    func testConvertErrorsAreOneLineAndStatsPrintsStatistics() throws {
        let dir = try folder()
        XCTAssertEqual(try run(["synth", "-o", dir + "/archive", "--frames", "12", "--size", "32,32"]).status, 0)
        try "inputs: [\(dir)/archive]\nwindow: {inputs: 2, targets: 1, horizon: 3}\noutput: \(dir)/s\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        for (arguments, words) in [
            (["convert", "--config", dir + "/bad.yaml"], ["bad.yaml", "window.horizon"]),
            (["convert", "--input", dir + "/nothing", "-o", dir + "/s"], ["nothing", "no such file"]),
            (["convert", "--input", dir + "/archive", "-o", dir + "/s", "--t-in", "10", "--t-out", "5"], ["15 frames", "longer than the series of 12"]),
            (["convert", "--input", dir + "/archive", "-o", dir + "/s", "--transform", "cube"], ["transforms", "known transform", "'cube'"]),
            (["convert", "--config", dir + "/absent.yaml"], ["absent.yaml", "no such config file"]),
            (["convert", "--input", dir + "/empty", "-o", dir + "/s"], ["inputs", "no field files"]),
        ] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("nowcast:") }
            XCTAssertEqual(lines.count, 1, result.error)
            for word in words { XCTAssertTrue(result.error.contains(word), "'\(result.error)' lacks '\(word)'") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s/manifest.json"))
        let stats = try run(["stats", "--input", dir + "/archive", "--transform", "dbr:0.1:-15", "--transform", "zscore", "--t-in", "2", "--t-out", "1",
                             "--validation", "0", "--test", "0", "--json"])
        XCTAssertEqual(stats.status, 0, stats.error)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any])
        XCTAssertEqual(json["frames"] as? Int, 12)
        XCTAssertLessThan(try XCTUnwrap(json["mean"] as? Double), 0, "mean dBR of a mostly dry field is below 0")
    }

    func testStreamingFromAStoreIsQuietAndFast() throws {
        let dir = try folder()
        XCTAssertEqual(try run(["synth", "-o", dir + "/archive", "--frames", "24", "--size", "64,64", "--no-coverage-mask"]).status, 0)
        XCTAssertEqual(try run(["convert", "--input", dir + "/archive", "--transform", "dbr:0.1:-15", "--t-in", "2", "--t-out", "2",
                                "--validation", "0", "--test", "0", "--shard-size", "5", "-o", dir + "/store"]).status, 0)
        let stream = try run(["bench", "stream", dir + "/store", "--batch", "4", "--epochs", "2", "--json"])
        XCTAssertEqual(stream.status, 0)
        XCTAssertEqual(stream.error, "", "nothing on stderr: HDF5 is silenced on the background thread too")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stream.output.utf8)) as? [String: Any])
        XCTAssertEqual(json["samples"] as? Int, 21)
    }
}
