import Foundation
import NowcastTestSupport
import XCTest

/// `nowcast verify` and `nowcast plot` as a user runs them: a report folder with the scores, the
/// table and the plots; reports that merge; and one line with exit status 1 for what cannot be
/// verified, with no report left.
final class VerifyCommandTests: XCTestCase {
    /// An archive of 16 frames of 64 x 64 every 5 minutes from 00:00 and 3-member extrapolation
    /// products of 4 lead times from 00:30 and 00:45.
    private func setUp() throws -> (dir: String, products: [String]) {
        let dir = try temporaryFolder(self, prefix: "nowcast-verify")
        let synth = try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "16", "--size", "64,64", "--step", "5", "--seed", "6"])
        XCTAssertEqual(synth.status, 0, synth.error)
        var products: [String] = []
        for time in ["00:30", "00:45"] {
            let product = dir + "/products/x-\(time.replacingOccurrences(of: ":", with: "")).nc"
            try FileManager.default.createDirectory(atPath: dir + "/products", withIntermediateDirectories: true)
            let run = try CLIProcess.run(["forecast", "--model", "extrapolation", "--input", dir + "/archive", "--time", "2024-06-01T\(time):00Z",
                                          "--members", "3", "--leadtimes", "4", "-o", product])
            XCTAssertEqual(run.status, 0, run.error)
            products.append(product)
        }
        return (dir, products)
    }

    private func pngSize(_ path: String) -> [Int] {
        let bytes = [UInt8]((FileManager.default.contents(atPath: path) ?? Data()).prefix(24))
        guard bytes.count == 24, bytes[1..<4] == [0x50, 0x4e, 0x47] else { return [] }
        return [16, 20].map { k in bytes[k..<(k + 4)].reduce(0) { $0 << 8 | Int($1) } }
    }

    func testAReportHasScoresTablePlotsAndMerges() throws {
        let (dir, products) = try setUp()
        let report = dir + "/report"
        let run = try CLIProcess.run(["verify", "--forecast", dir + "/products", "--label", "ensemble", "--obs", dir + "/archive", "-o", report])
        XCTAssertEqual(run.status, 0, run.error)
        for word in ["CSI > 1", "  ensemble", "  persistence", "  extrapolation", "CRPS", "FSS > 1, scale", "verified   2 products from 2 reference times",
                     "observations on the products' grid (64 x 64)"] {
            XCTAssertTrue(run.output.contains(word), "the output lacks '\(word)': \(run.output)")
        }
        XCTAssertTrue(run.error.contains("verify: 2/2 products"), "progress on stderr: \(run.error)")
        let csv = try String(contentsOfFile: report + "/scores.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 3 * 4 * 3 * 3, "header + 3 labels x 4 leads x 3 thresholds x 3 scales")
        XCTAssertTrue(csv[1].hasPrefix("ensemble,3,2,1,5,0.5,1,"), String(csv[1]))
        for name in ["lead-time", "fss", "rank-histogram", "reliability"] {
            XCTAssertEqual(pngSize(report + "/\(name).png").first, 800, name)
            let svg = try String(contentsOfFile: report + "/\(name).svg", encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<?xml") && svg.contains("<svg") && svg.hasSuffix("</svg>\n"), name)
        }

        // Each product alone, then merged: the report of both.
        for (k, product) in products.enumerated() {
            let part = try CLIProcess.run(["verify", "--forecast", product, "--label", "ensemble", "--obs", dir + "/archive", "--plots", "none",
                                           "-o", dir + "/part\(k)"])
            XCTAssertEqual(part.status, 0, part.error)
        }
        let merged = try CLIProcess.run(["verify", "--merge", dir + "/part0/scores.json", dir + "/part1/scores.json", "--plots", "png", "-o", dir + "/merged"])
        XCTAssertEqual(merged.status, 0, merged.error)
        let mergedRows = try String(contentsOfFile: dir + "/merged/scores.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(mergedRows.count, csv.count)
        // Counts are integers: equal; MAE to the printed digits.
        let header = csv[0].split(separator: ",").map(String.init)
        let hits = try XCTUnwrap(header.firstIndex(of: "hits")), mae = try XCTUnwrap(header.firstIndex(of: "MAE"))
        for (a, b) in zip(csv.dropFirst(), mergedRows.dropFirst()) {
            let (x, y) = (a.split(separator: ",", omittingEmptySubsequences: false), b.split(separator: ",", omittingEmptySubsequences: false))
            XCTAssertEqual(x[hits], y[hits])
            XCTAssertEqual(Double(x[mae]) ?? -1, Double(y[mae]) ?? -2, accuracy: 1e-5)
        }
        XCTAssertTrue(merged.output.contains("merged     2 reports"), merged.output)

        let map = dir + "/p.png"
        let plot = try CLIProcess.run(["plot", products[0], "--kind", "probability", "--threshold", "1", "--lead", "4", "-o", map])
        XCTAssertEqual(plot.status, 0, plot.error)
        XCTAssertTrue(plot.output.contains("+20 min, valid 2024-06-01T00:50:00Z"), plot.output)
        XCTAssertEqual(pngSize(map), [70 + 640 + 110, 40 + 640 + 50])
        let observation = try CLIProcess.run(["plot", dir + "/archive/synth_20240601_003000.nc", "-o", dir + "/o.svg"])
        XCTAssertEqual(observation.status, 0, observation.error)
        XCTAssertTrue(observation.output.contains("valid 2024-06-01T00:30:00Z"), observation.output)
    }

    func testWhatCannotBeVerifiedIsOneLineAndNoReport() throws {
        let (dir, products) = try setUp()
        let report = dir + "/report"
        let base = ["verify", "--forecast", products[0], "--obs", dir + "/archive", "-o", report]
        // A report from other thresholds, to merge with.
        let other = try CLIProcess.run(["verify", "--forecast", products[1], "--obs", dir + "/archive", "--thresholds", "2", "--plots", "none", "-o", dir + "/other"])
        XCTAssertEqual(other.status, 0, other.error)
        let first = try CLIProcess.run(base + ["--plots", "none", "-o", dir + "/first"])
        XCTAssertEqual(first.status, 0, first.error)
        for (arguments, words) in [
            (["--thresholds", "1,x"], ["--thresholds", "1,x"]),
            (["--scales", "1,2.5"], ["--scales"]),
            (["--scales", "0"], ["scales", "from 1"]),
            (["--baselines", "climatology"], ["--baselines"]),
            (["--obs", dir + "/archive/synth_20240601_00[0-3]*.nc"], ["no observation valid at 2024-06-01T00:40:00Z", "lead 2"]),
            (["--forecast", dir + "/archive/synth_20240601_003000.nc"], ["synth_20240601_003000.nc", "no forecast reference time"]),
        ] {
            var command = base
            for flag in ["--forecast", "--obs"] where arguments.contains(flag) {
                let k = try XCTUnwrap(command.firstIndex(of: flag))
                command.removeSubrange(k...(k + 1))
            }
            let run = try CLIProcess.run(command + arguments)
            XCTAssertEqual(run.status, 1, "\(arguments): \(run.error)")
            let lines = run.error.split(separator: "\n").filter { !$0.contains("Usage:") && !$0.contains("See 'nowcast") && !$0.hasPrefix("verify: ") && !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(arguments): \(run.error)")
            for word in words { XCTAssertTrue(run.error.contains(word), "\(arguments): \(run.error)") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: report), "\(arguments) left a report")
        }
        let merge = try CLIProcess.run(["verify", "--merge", dir + "/first/scores.json", dir + "/other/scores.json", "-o", report])
        XCTAssertEqual(merge.status, 1, merge.error)
        for word in ["other/scores.json", "does not merge", "thresholds 0.5,1,5"] { XCTAssertTrue(merge.error.contains(word), merge.error) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: report))
        let notScores = try CLIProcess.run(["verify", "--merge", products[0], "-o", report])
        XCTAssertEqual(notScores.status, 1)
        XCTAssertTrue(notScores.error.contains("not a scores.json"), notScores.error)
    }
}
