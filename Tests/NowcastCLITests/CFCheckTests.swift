import Foundation
import NowcastTestSupport
import XCTest

/// What we write as CF-1.8 passes the CF checker (offline, with the tables of `../shared/cf`):
/// synthetic archives with no error and no warning, training shards with no error and no warning,
/// forecast products with no error.
final class CFCheckTests: XCTestCase {
    static func cfchecks(_ path: String) throws -> (errors: Int, warnings: Int, report: String) {
        let tables = TestPaths.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/cf").path
        guard FileManager.default.fileExists(atPath: tables + "/cf-standard-name-table.xml") else {
            throw XCTSkip("the CF checker's tables are absent at \(tables)")
        }
        let (_, report) = try Python.tool(["cfchecks", "-s", tables + "/cf-standard-name-table.xml", "-a", tables + "/area-type-table.xml",
                                           "-r", tables + "/standardized-region-list.xml", path])
        func count(_ label: String) -> Int {
            report.split(separator: "\n").first { $0.hasPrefix(label) }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
        }
        return (count("ERRORS detected:"), count("WARNINGS given:"), report)
    }

    func testSyntheticArchivesAndShardsPassTheCFChecker() throws {
        try Python.require(["cfchecker.cfchecks"])
        let dir = try temporaryFolder(self, prefix: "nowcast-cf")
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "8", "--size", "32,32"]).status, 0)
        let converted = try CLIProcess.run(["convert", "--input", dir + "/archive", "--t-in", "2", "--t-out", "1", "--validation", "0",
                                            "--test", "0", "-o", dir + "/store"])
        XCTAssertEqual(converted.status, 0, converted.error)
        for path in [dir + "/archive/synth_20240601_000000.nc", dir + "/store/train/shard-00000.nc"] {
            let result = try Self.cfchecks(path)
            XCTAssertEqual(result.errors, 0, "\(path):\n\(result.report.suffix(2000))")
            XCTAssertEqual(result.warnings, 0, "\(path):\n\(result.report.suffix(2000))")
        }
    }
}
