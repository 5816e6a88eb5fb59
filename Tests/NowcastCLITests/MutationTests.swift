import Foundation
import NowcastCore
import NowcastIO
import XCTest
import NowcastTestSupport

/// Damaged files, as a user meets them (a transfer cut short, a flipped bit): generated and real
/// files truncated at 20 offsets and with bytes flipped in their headers and in their data, read
/// by the CLI as a subprocess. Whatever the damage, the process ends by itself (status below 128,
/// one line when it fails), and a conversion that fails leaves no store behind.
final class MutationTests: XCTestCase {
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-mutation") }

    /// 20 truncations, 10 flips in the first 4 KiB (superblock, object headers, classic header)
    /// and 6 in the second half (chunks), at seeded positions.
    private func mutants(of data: Data, seed: UInt64) -> [(name: String, data: Data)] {
        var random = SeededGenerator(seed: seed)
        var result = (1...20).map { k in ("truncated to \(data.count * k / 21) bytes", data.prefix(data.count * k / 21)) }
        for (count, range) in [(10, 0..<min(data.count, 4096)), (6, (data.count / 2)..<data.count)] {
            for _ in 0..<count {
                let position = range.lowerBound + Int(random.next() % UInt64(range.count))
                var flipped = data
                flipped[position] ^= 0xA5
                result.append(("byte \(position) flipped", flipped))
            }
        }
        return result
    }

    private func assertEndsCleanly(_ result: (status: Int32, output: String, error: String), _ context: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThan(result.status, 128, "\(context): killed by a signal: \(result.error.suffix(300))", file: file, line: line)
        XCTAssertGreaterThanOrEqual(result.status, 0, context, file: file, line: line)
        if result.status != 0 {
            // One line of ours (glibc adds its own before it, when HDF5 has corrupted the heap).
            let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("nowcast:") }
            XCTAssertEqual(lines.count, 1, "\(context): one line: \(result.error.suffix(500))", file: file, line: line)
        }
    }

    func testDamagedFilesAreInspectedWithoutACrash() throws {
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/nc", "--frames", "1", "--size", "48,48"]).status, 0)
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/odim", "--frames", "1", "--size", "48,48", "--format", "odim"]).status, 0)
        var sources = [dir + "/nc/synth_20240601_000000.nc", dir + "/odim/synth_20240601_000000.h5",
                       TestPaths.fixtures("formats") + "/knmi-accumulation.h5", TestPaths.fixtures("formats") + "/strings-classic.nc",
                       TestPaths.fixtures("formats") + "/strings-h5netcdf.nc"]
        sources += TestPaths.firstRealFiles()
        for (number, source) in sources.enumerated() {
            let data = try Data(contentsOf: URL(fileURLWithPath: source))
            for mutant in mutants(of: data, seed: UInt64(number)) {
                let path = dir + "/damaged." + (source as NSString).pathExtension
                try mutant.data.write(to: URL(fileURLWithPath: path))
                assertEndsCleanly(try CLIProcess.run(["inspect", path]), "\((source as NSString).lastPathComponent) \(mutant.name)")
            }
        }
    }

    func testAConversionWithADamagedFileLeavesNoStoreWhenItFails() throws {
        let dir = try folder()
        for format in ["netcdf", "odim"] {
            let archive = dir + "/" + format
            XCTAssertEqual(try CLIProcess.run(["synth", "-o", archive, "--frames", "4", "--size", "32,32", "--format", format]).status, 0)
            let victim = try FileManager.default.contentsOfDirectory(atPath: archive).sorted()[1]
            let original = try Data(contentsOf: URL(fileURLWithPath: archive + "/" + victim))
            for (k, mutant) in mutants(of: original, seed: 99).enumerated() {
                try mutant.data.write(to: URL(fileURLWithPath: archive + "/" + victim))
                let store = dir + "/store-\(format)-\(k)"
                let strict = k % 2 == 1  // every other mutant with --strict
                let result = try CLIProcess.run(["convert", "--input", archive, "--t-in", "1", "--t-out", "1", "--max-missing-fraction", "1",
                                                 "-o", store] + (strict ? ["--strict"] : []))
                assertEndsCleanly(result, "\(format) \(mutant.name)\(strict ? " strict" : "")")
                if result.status != 0 {
                    XCTAssertFalse(FileManager.default.fileExists(atPath: store), "\(format) \(mutant.name): a failed conversion left \(store)")
                } else {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: store + "/manifest.json"), "\(format) \(mutant.name)")
                }
            }
        }
    }
}
