import Foundation
import NowcastSynthetic
import XCTest

/// The Burgers ensembles behind the PKF closure experiment: initial errors of the intended
/// variance and correlation, the mean conserved as the equation conserves it, and everything
/// fixed by the seed.
final class BurgersEnsembleTests: XCTestCase {
    private func settings(points: Int = 64, members: Int = 8, steps: Int = 50, keptFrom: Int = 0) -> BurgersEnsemble.Settings {
        var s = BurgersEnsemble.Settings()
        (s.points, s.members, s.steps, s.keptFrom) = (points, members, steps, keptFrom)
        return s
    }

    /// At the start the diagnosed variance is (0.01 max u0)^2 and the diffusion what centred
    /// differences of a Gaussian correlation of length lh give, h^2 / (1 - rho(2h)) (lh^2 / 2 = 2e-4
    /// in the continuum).
    func testInitialErrorsHaveTheIntendedVarianceAndLengthScale() throws {
        let ensemble = try BurgersEnsemble(settings(points: 241, members: 2000, steps: 1))
        let start = ensemble.trajectory(0)
        let n = 241, h = 1.0 / 241
        let sigma = 0.01 * (ensemble.initialState.max() ?? 0)
        let variance = start.variance.prefix(n).reduce(0.0) { $0 + Double($1) } / Double(n)
        let diffusion = start.diffusion.prefix(n).reduce(0.0) { $0 + Double($1) } / Double(n)
        let rho = exp(-0.5 * pow(2 * h / 0.02, 2))
        XCTAssertEqual(variance, sigma * sigma, accuracy: 0.03 * sigma * sigma)
        XCTAssertEqual(diffusion, h * h / (1 - rho), accuracy: 0.03 * h * h / (1 - rho))
        XCTAssertEqual(diffusion, 2e-4, accuracy: 0.1 * 2e-4)
    }

    /// Centred differences on a periodic grid conserve the sum of u, so the ensemble mean's
    /// spatial mean stays where it started.
    func testTheMeanOfUIsConserved() throws {
        let ensemble = try BurgersEnsemble(settings())
        let run = ensemble.trajectory(3)
        let n = 64
        let means = stride(from: 0, to: run.mean.count, by: n).map { run.mean[$0..<($0 + n)].reduce(0.0) { $0 + Double($1) } / Double(n) }
        XCTAssertEqual(means.count, 51)
        for m in means { XCTAssertEqual(m, means[0], accuracy: 1e-6) }
        XCTAssertTrue((run.mean + run.variance + run.diffusion).allSatisfy(\.isFinite))
        XCTAssertTrue(run.variance.allSatisfy { $0 > 0 } && run.diffusion.allSatisfy { $0 > 0 })
    }

    func testTheSeedFixesEveryTrajectory() throws {
        let ensemble = try BurgersEnsemble(settings(steps: 10))
        let all = ensemble.trajectories(3)
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual(all[1].diffusion.map(\.bitPattern), ensemble.trajectory(1).diffusion.map(\.bitPattern))
        XCTAssertNotEqual(all[0].mean.map(\.bitPattern), all[1].mean.map(\.bitPattern))
        var other = settings(steps: 10)
        other.seed = 2
        XCTAssertNotEqual(try BurgersEnsemble(other).trajectory(1).mean.map(\.bitPattern), all[1].mean.map(\.bitPattern))
    }

    func testSettingsItCannotRunAreRefused() {
        var unstable = settings(points: 241)
        unstable.dt = 0.02
        var late = settings()
        late.keptFrom = 60
        for (s, word) in [(unstable, "dt"), (late, "kept-from"), (settings(members: 1), "members")] {
            XCTAssertThrowsError(try BurgersEnsemble(s)) { XCTAssertTrue("\($0)".contains(word), "\($0)") }
        }
    }
}
