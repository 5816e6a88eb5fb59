import XCTest
@testable import NowcastPhysics

final class VariationalMotionTests: XCTestCase {
    private let n = MovingPattern.size
    private let margin = 16

    private func interiorError(_ motion: MotionField, truth: (Int, Int) -> (u: Double, v: Double)) -> Double {
        var worst = 0.0
        for y in margin..<(n - margin) {
            for x in margin..<(n - margin) {
                let (u, v) = truth(x, y), i = y * n + x
                worst = max(worst, hypot(Double(motion.u[i]) - u, Double(motion.v[i]) - v))
            }
        }
        return worst
    }

    // Measured worst interior errors: 0.007 px per step (uniform), 0.15 (rotation). Before the misfit
    // left out pixels read from beyond the grid they were 0.60 and 0.53.
    func testUniformFlowIsRecoveredWithinAQuarterPixelPerStep() throws {
        let (u, v) = (1.6, -0.9)
        let frames = (0..<3).map { MovingPattern.uniform($0, u: u, v: v) }
        let motion = try VariationalMotion().motion(frames, ny: n, nx: n, missing: -15)
        XCTAssertTrue(motion.isFinite)
        XCTAssertLessThan(interiorError(motion) { _, _ in (u, v) }, 0.25)
    }

    func testRotationIsRecoveredWithinAQuarterPixelPerStep() throws {
        let omega = 0.02
        let frames = (0..<3).map { MovingPattern.rotating($0, omega: omega) }
        let motion = try VariationalMotion().motion(frames, ny: n, nx: n, missing: -15)
        let error = interiorError(motion) { MovingPattern.rotationVelocity(Double($0), Double($1), omega: omega) }
        XCTAssertLessThan(error, 0.25)
        XCTAssertGreaterThan(motion.speed.max, 1.0)
    }

    func testAStillFieldHasNoMotion() throws {
        var frame = MovingPattern.uniform(0, u: 0, v: 0)
        for i in 0..<200 { frame[i * 7] = .nan }
        let motion = try VariationalMotion().motion([frame, frame], ny: n, nx: n, missing: -15)
        XCTAssertTrue(motion.isFinite)
        XCTAssertLessThan(motion.speed.max, 1e-2)
    }

    func testWrongInputsAndSettingsAreRefused() {
        let frame = [Float](repeating: 0, count: 16)
        XCTAssertThrowsError(try VariationalMotion().motion([frame], ny: 4, nx: 4, missing: 0)) {
            XCTAssertTrue("\($0)".contains("two or more fields of 4 x 4"), "\($0)")
        }
        XCTAssertThrowsError(try VariationalMotion().motion([frame, frame], ny: 4, nx: 4, missing: .nan))
        var settings = VariationalMotion.Settings()
        settings.smoothness = -1
        XCTAssertThrowsError(try VariationalMotion(settings: settings).motion([frame, frame], ny: 4, nx: 4, missing: 0)) {
            XCTAssertTrue("\($0)".contains("smoothness >= 0"), "\($0)")
        }
    }
}
