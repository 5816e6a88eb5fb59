import Foundation
import NowcastTestSupport
import XCTest

/// `nowcast forecast` as a user runs it: a product that the CF checker, ncdump and xarray take, and
/// one line with exit status 1 for what it cannot do.
final class ForecastCommandTests: XCTestCase {
    private func archive() throws -> String {
        let dir = try temporaryFolder(self, prefix: "nowcast-forecast")
        let synth = try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "8", "--size", "64,64", "--seed", "4"])
        XCTAssertEqual(synth.status, 0, synth.error)
        return dir
    }

    func testAnExtrapolationEnsembleIsACFProductThatToolsRead() throws {
        let dir = try archive()
        let product = dir + "/nowcast.nc"
        let run = try CLIProcess.run(["forecast", "--model", "extrapolation", "--input", dir + "/archive", "--members", "3", "--leadtimes", "6",
                                      "--thresholds", "0.5,2", "--institution", "NowcastKit tests", "-o", product])
        XCTAssertEqual(run.status, 0, run.error)
        XCTAssertTrue(run.output.contains("product    \(product)"), run.output)
        XCTAssertTrue(run.output.contains("start      2024-06-01T00:35:00Z from 3 frames"), run.output)

        let header = try CLIProcess.run(["-h", product], program: "/usr/bin/ncdump")
        for line in ["rainfall_rate(realization, time, y, x)", "realization:standard_name = \"realization\"", "forecast_reference_time",
                     "forecast_period:standard_name = \"forecast_period\"", "cell_methods = \"realization: mean\"",
                     "cell_methods = \"realization: standard_deviation\"", "probability_of_rainfall_rate_above_threshold(threshold, time, y, x)",
                     "spp__relative_to_threshold = \"greater_than\"", "grid_mapping_name", ":Conventions = \"CF-1.8\"",
                     ":institution = \"NowcastKit tests\"", ":source = \"NowcastKit", "motion_x:units = \"m s-1\""] {
            XCTAssertTrue(header.output.contains(line), "ncdump -h lacks \(line)")
        }

        if (try? Python.require(["cfchecker.cfchecks"])) != nil {
            let result = try CFCheckTests.cfchecks(product)
            XCTAssertEqual(result.errors, 0, result.report.suffix(3000).description)
        }
        try Python.require(["xarray", "netCDF4"])
        let (status, output) = try Python.run("""
        import xarray as xr
        ds = xr.open_dataset("\(product)")
        p = ds["probability_of_rainfall_rate_above_threshold"]
        print(dict(ds["rainfall_rate"].sizes), str(ds.time.dtype), float(p.min()), float(p.max()), float(ds.forecast_period[0]))
        """)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.hasPrefix("{'realization': 3, 'time': 6, 'y': 64, 'x': 64} datetime64"), output)
        XCTAssertTrue(output.contains(" 0.0 1.0 "), "probabilities span 0 to 1: \(output)")
    }

    func testVariationalMotionDrivesTheExtrapolationAndIsNamedInTheProduct() throws {
        let dir = try archive()
        let product = dir + "/variational.nc"
        let run = try CLIProcess.run(["forecast", "--model", "extrapolation", "--motion", "variational", "--input", dir + "/archive",
                                      "--leadtimes", "3", "-o", product])
        XCTAssertEqual(run.status, 0, run.error)
        let header = try CLIProcess.run(["-h", product], program: "/usr/bin/ncdump")
        XCTAssertTrue(header.output.contains("variational motion"), header.output)
        XCTAssertFalse(header.output.contains("Lucas-Kanade"), header.output)
    }

    func testWhatCannotBeForecastIsOneLineAndExitOne() throws {
        let dir = try archive()
        let product = dir + "/nowcast.nc"
        for (arguments, words) in [
            (["--time", "2030-01-01T00:00:00Z"], ["no frame valid at 2030-01-01T00:00:00Z"]),
            (["--members", "0"], ["'members'"]),
            (["--model", "persistence", "--members", "2"], ["at most 1"]),
            (["--model", dir], ["not a trained model"]),
            (["--outside", "somewhere"], ["--outside"]),
            (["--thresholds", "1,x"], ["--thresholds"]),
            (["--model", "steps", "--mask-method", "dilated"], ["--mask-method 'dilated'", "incremental, sprog, obs, none"]),
            (["--noise-method", "parametric"], ["noise_method", "steps or sprog"]),
            (["--motion", "vet"], ["--motion 'vet'", "lucas-kanade, variational"]),
            (["--model", "persistence", "--motion", "variational"], ["motion_method", "extrapolation, steps or sprog"]),
        ] {
            var command = ["forecast", "--input", dir + "/archive", "-o", product]
            if !arguments.contains("--model") { command += ["--model", "extrapolation"] }
            let run = try CLIProcess.run(command + arguments)
            XCTAssertEqual(run.status, 1, "\(arguments): \(run.error)")
            let lines = run.error.split(separator: "\n").filter { !$0.contains("Usage:") && !$0.contains("See 'nowcast") && !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(arguments): \(run.error)")
            for word in words { XCTAssertTrue(run.error.contains(word), "\(arguments): \(run.error)") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: product))
        }
    }
}
