import Foundation
import NowcastTestSupport
import XCTest

/// `nowcast equation` as a user runs it: PDE-NetGen's closure experiment on a small data set (2
/// trajectories of 400 members), and one line with exit status 1 for what cannot be fitted.
final class EquationCommandTests: XCTestCase {
    static let pkf = """
        dt(u) = kappa*dxx(u) - u*dx(u) - dx(V)/2
        dt(V) = -kappa*V/nu + kappa*dxx(V) - kappa*dx(V)^2/(2*V) - u*dx(V) - 2*V*dx(u)
        dt(nu) = 4*kappa*nu^2*(a*dxx(nu)/nu^2 + b/nu^2 + c*dx(nu)^2/nu^3) - 3*kappa*dxx(nu) - kappa + 6*kappa*dx(nu)^2/nu - 2*kappa*nu*dxx(V)/V + kappa*dx(V)*dx(nu)/V + 2*kappa*nu*dx(V)^2/V^2 - u*dx(nu) + 2*nu*dx(u)
        """

    /// Theory says (1, 3/4, -2); PDE-NetGen learned (0.933, 0.752, -1.804) from 400 trajectories.
    /// From 2, a and b are within 10 % of theory and all three within 0.05 of PDE-NetGen's.
    func testTheClosureOfThePKFBurgersSystemIsLearned() throws {
        let dir = try temporaryFolder(self, prefix: "nowcast-equation")
        let make = try CLIProcess.run(["equation", "burgers-ensemble", "-o", dir + "/pkf.nc", "--trajectories", "2", "--members", "400"])
        XCTAssertEqual(make.status, 0, make.error)
        XCTAssertTrue(make.output.contains("wrote 2 trajectories of 101 times x 241 points (400 members each)"), make.output)
        try Self.pkf.write(toFile: dir + "/pkf.eq", atomically: true, encoding: .utf8)
        let fit = try CLIProcess.run(["equation", "fit", "--data", dir + "/pkf.nc", "--equation", "@" + dir + "/pkf.eq", "--coefficient", "kappa=0.0025",
                                      "--train", "a=0", "--train", "b=0", "--train", "c=0", "--epochs", "10", "-o", dir + "/fit.json"])
        XCTAssertEqual(fit.status, 0, fit.error)
        XCTAssertTrue(fit.output.contains("fitting a, b, c on 200 pairs from 2 trajectories of 101 times, 1 x 241 points, dt 0.002"), fit.output)
        let report = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/fit.json"))) as? [String: Any]
        let fitted = report?["fitted"] as? [String: Double] ?? [:]
        XCTAssertEqual((report?["epochLosses"] as? [Double])?.count, 30)
        XCTAssertEqual(fitted["a"] ?? .nan, 1, accuracy: 0.1)
        XCTAssertEqual(fitted["b"] ?? .nan, 0.75, accuracy: 0.075)
        for (name, theirs) in ["a": 0.933, "b": 0.752, "c": -1.804] {
            XCTAssertEqual(fitted[name] ?? .nan, theirs, accuracy: 0.05, "\(name): \(fit.output)")
        }
    }

    func testWhatCannotBeFittedIsOneLine() throws {
        let dir = try temporaryFolder(self, prefix: "nowcast-equation-bad")
        let make = try CLIProcess.run(["equation", "burgers-ensemble", "-o", dir + "/pkf.nc", "--trajectories", "1", "--members", "4",
                                       "--points", "32", "--steps", "4", "--kept-from", "2"])
        XCTAssertEqual(make.status, 0, make.error)
        let data = ["equation", "fit", "--data", dir + "/pkf.nc"]
        for (arguments, words) in [
            (data + ["--equation", "dt(q) = k*dxx(q)", "--train", "k=0"], ["pkf.nc", "'q'"]),
            (data + ["--equation", "dt(u) = k*dxx(u)"], ["--train"]),
            (data + ["--equation", "dt(u) = k*dxx(u) + m", "--train", "k=0"], ["line 1, column 20", "'m'"]),
            (data + ["--equation", "dt(u) = k*dxx(u)", "--train", "k=zero"], ["--train 'k=zero'", "NAME=VALUE"]),
            (data + ["--equation", "dt(u) = k*dxx(u)", "--train", "k=0", "--boundary", "open"], ["--boundary 'open'"]),
            (data + ["--equation", "@" + dir + "/none.eq", "--train", "k=0"], ["none.eq", "cannot read"]),
            (["equation", "fit", "--data", dir + "/missing.nc", "--equation", "dt(u) = k*dxx(u)", "--train", "k=0"], ["missing.nc"]),
            (["equation", "burgers-ensemble", "-o", dir + "/x.nc", "--dt", "0.05"], ["dt", "Courant"]),
        ] {
            let run = try CLIProcess.run(arguments)
            XCTAssertEqual(run.status, 1, "\(arguments): \(run.output)")
            let lines = run.error.split(separator: "\n").filter { !$0.hasPrefix("Usage") && !$0.hasPrefix("  See") && !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(arguments): \(run.error)")
            for word in words { XCTAssertTrue(run.error.contains(word), "\(arguments): '\(run.error)' lacks '\(word)'") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.nc"))
    }
}
