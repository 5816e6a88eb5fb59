import Foundation
import NowcastCore
import NowcastPhysics
import XCTest

/// Fields moved by known flows, evaluated exactly (the flows map a smooth pattern onto itself, so
/// every frame is the pattern read at back-transformed positions: no interpolation error).
enum MovingPattern {
    static let size = 128

    /// A rain-like pattern in dBR: many Gaussian cells of several sizes over a dry -15 background.
    static func pattern(_ x: Double, _ y: Double) -> Float {
        var random = SeededGenerator(seed: 17)
        var value = 0.0
        for _ in 0..<60 {
            let (cx, cy) = (random.uniform() * 160 - 16, random.uniform() * 160 - 16)
            let (radius, peak) = (3 + random.uniform() * 7, 8 + random.uniform() * 25)
            let d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (radius * radius)
            value += peak * exp(-d2)
        }
        return Float(max(-15, value - 15))
    }

    /// Frame `k` under a uniform flow (`u`, `v`) pixels per step.
    static func uniform(_ k: Int, u: Double, v: Double) -> [Float] {
        field { x, y in pattern(x - Double(k) * u, y - Double(k) * v) }
    }

    /// Frame `k` under solid-body rotation by `omega` radians per step about the grid's centre.
    static func rotating(_ k: Int, omega: Double) -> [Float] {
        field { x, y in
            let (p, q) = back(x, y, angle: Double(k) * omega)
            return pattern(p, q)
        }
    }

    /// The point that rotation by `angle` moves to (x, y).
    static func back(_ x: Double, _ y: Double, angle: Double) -> (Double, Double) {
        let c = Double(size - 1) / 2, (dx, dy) = (x - c, y - c)
        return (c + cos(angle) * dx + sin(angle) * dy, c - sin(angle) * dx + cos(angle) * dy)
    }

    /// The rotation's velocity at (x, y), pixels per step (tangent, as the chord of one step).
    static func rotationVelocity(_ x: Double, _ y: Double, omega: Double) -> (u: Double, v: Double) {
        let (p, q) = back(x, y, angle: omega)
        return (x - p, y - q)
    }

    static func field(_ value: (Double, Double) -> Float) -> [Float] {
        (0..<(size * size)).map { value(Double($0 % size), Double($0 / size)) }
    }

    /// Centre of mass of the values above `threshold`.
    static func centroid(_ field: [Float], threshold: Float) -> (x: Double, y: Double) {
        var (sum, sx, sy) = (0.0, 0.0, 0.0)
        for (i, value) in field.enumerated() where value.isFinite && value > threshold {
            let w = Double(value - threshold)
            sum += w; sx += w * Double(i % size); sy += w * Double(i / size)
        }
        return (sx / sum, sy / sum)
    }
}

final class MotionTests: XCTestCase {
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

    /// Worst interior error allowed per method, in pixels per step. Measured: Lucas-Kanade within
    /// 0.5; variational 0.007 (uniform) and 0.15 (rotation); before the variational misfit left out
    /// pixels read from beyond the grid, 0.60 and 0.53.
    private func tolerance(_ method: MotionMethod) -> Double { method == .lucasKanade ? 0.5 : 0.25 }

    func testUniformFlowIsRecoveredByEachMethod() throws {
        let (u, v) = (1.6, -0.9)
        let frames = (0..<3).map { MovingPattern.uniform($0, u: u, v: v) }
        for method in MotionMethod.allCases {
            let motion = try method.motion(frames, ny: n, nx: n, missing: -15)
            XCTAssertTrue(motion.isFinite, method.label)
            XCTAssertLessThan(interiorError(motion) { _, _ in (u, v) }, tolerance(method), method.label)
        }
    }

    func testRotationIsRecoveredByEachMethod() throws {
        let omega = 0.02
        let frames = (0..<3).map { MovingPattern.rotating($0, omega: omega) }
        for method in MotionMethod.allCases {
            let motion = try method.motion(frames, ny: n, nx: n, missing: -15)
            let error = interiorError(motion) { MovingPattern.rotationVelocity(Double($0), Double($1), omega: omega) }
            XCTAssertLessThan(error, tolerance(method), method.label)
            // Not trivially small: the flow reaches over a pixel per step in the corners of the interior.
            XCTAssertGreaterThan(motion.speed.max, 1.0, method.label)
        }
    }

    func testAStillFieldHasNoMotionAndMissingPixelsAreRead() throws {
        var frame = MovingPattern.uniform(0, u: 0, v: 0)
        for i in 0..<200 { frame[i * 7] = .nan }
        for method in MotionMethod.allCases {
            let motion = try method.motion([frame, frame], ny: n, nx: n, missing: -15)
            XCTAssertTrue(motion.isFinite, method.label)
            XCTAssertLessThan(motion.speed.max, method == .lucasKanade ? 1e-3 : 1e-2, method.label)
        }
    }

    func testWrongInputsAreRefusedNamingWhatWasExpected() {
        let frame = [Float](repeating: 0, count: 16)
        for method in MotionMethod.allCases {
            XCTAssertThrowsError(try method.motion([frame], ny: 4, nx: 4, missing: 0)) {
                XCTAssertTrue("\($0)".contains("two or more fields of 4 x 4"), "\(method.label): \($0)")
            }
            XCTAssertThrowsError(try method.motion([frame, frame], ny: 4, nx: 4, missing: .nan), method.label)
        }
        var settings = VariationalMotion.Settings()
        settings.smoothness = -1
        XCTAssertThrowsError(try VariationalMotion(settings: settings).motion([frame, frame], ny: 4, nx: 4, missing: 0)) {
            XCTAssertTrue("\($0)".contains("smoothness >= 0"), "\($0)")
        }
    }

    func testBoxSumsEqualTheirReference() {
        var random = SeededGenerator(seed: 3)
        for (ny, nx, r) in [(7, 5, 1), (13, 70, 3), (9, 130, 20), (1, 4, 2)] {
            let field = (0..<(ny * nx)).map { _ in Float(random.uniform() * 10 - 5) }
            let fast = BoxFilter.sums(field, ny: ny, nx: nx, radius: r), plain = BoxFilter.referenceSums(field, ny: ny, nx: nx, radius: r)
            for i in field.indices { XCTAssertEqual(fast[i], plain[i], accuracy: 1e-4, "\(ny)x\(nx) r \(r) at \(i)") }
            let ones = BoxFilter.sums([Float](repeating: 1, count: ny * nx), ny: ny, nx: nx, radius: r)
            XCTAssertEqual(ones, BoxFilter.count(ny: ny, nx: nx, radius: r))
        }
    }
}

final class AdvectionTests: XCTestCase {
    private let n = MovingPattern.size

    func testAWholePixelShiftMovesValuesExactlyAndOutsideIsWhatWasAsked() throws {
        let field = (0..<(n * n)).map { Float($0 % 1000) }
        var advector = SemiLagrangian(ny: n, nx: n)
        try advector.step(by: .uniform(ny: n, nx: n, u: 1, v: 2))
        let moved = try advector.advect(field), filled = try advector.advect(field, outside: -15)
        for y in 0..<n {
            for x in 0..<n {
                let i = y * n + x
                if x >= 1, y >= 2 {
                    XCTAssertEqual(moved[i], field[(y - 2) * n + x - 1])
                } else {
                    XCTAssertTrue(moved[i].isNaN, "pixel (\(y), \(x)) came from outside")
                    XCTAssertEqual(filled[i], -15)
                }
            }
        }
    }

    /// Estimates the motion from three frames of the textured pattern, then moves a single cell 12
    /// steps with it; the cell's centroid must land within a pixel of where the true flow takes it.
    private func assertCentroidFollows(frames: [[Float]], cell: [Float], truth: (x: Double, y: Double),
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let motion = try DenseLucasKanade().motion(frames, ny: n, nx: n, missing: -15)
        var advector = SemiLagrangian(ny: n, nx: n)
        for _ in 0..<12 { try advector.step(by: motion) }
        let centroid = MovingPattern.centroid(try advector.advect(cell), threshold: 0)
        XCTAssertLessThan(hypot(centroid.x - truth.x, centroid.y - truth.y), 1, "centroid \(centroid), truth \(truth)", file: file, line: line)
    }

    private func cell(at x: Double, _ y: Double) -> [Float] {
        MovingPattern.field { px, py in Float(20 * exp(-((px - x) * (px - x) + (py - y) * (py - y)) / 36)) }
    }

    func testACellMovedByAUniformFlowLandsWithinAPixel() throws {
        let (u, v) = (1.6, -0.9)
        try assertCentroidFollows(frames: (0..<3).map { MovingPattern.uniform($0, u: u, v: v) },
                                  cell: cell(at: 40, 90), truth: (40 + 12 * u, 90 + 12 * v))
    }

    func testACellMovedByARotationLandsWithinAPixel() throws {
        let omega = 0.02
        // The point that rotation by 12 omega takes (40, 64) to: rotating back from the answer gives the start.
        let c = Double(n - 1) / 2, angle = 12 * omega, (dx, dy) = (40 - c, 64 - c)
        let truth = (c + cos(angle) * dx - sin(angle) * dy, c + sin(angle) * dx + cos(angle) * dy)
        let back = MovingPattern.back(truth.0, truth.1, angle: angle)
        XCTAssertEqual(back.0, 40, accuracy: 1e-9)
        XCTAssertEqual(back.1, 64, accuracy: 1e-9)
        try assertCentroidFollows(frames: (0..<3).map { MovingPattern.rotating($0, omega: omega) },
                                  cell: cell(at: 40, 64), truth: truth)
    }

    func testFieldsOnAnotherGridAreRefused() {
        var advector = SemiLagrangian(ny: 4, nx: 4)
        XCTAssertThrowsError(try advector.step(by: .uniform(ny: 4, nx: 5, u: 0, v: 0)))
        XCTAssertThrowsError(try advector.advect([1, 2, 3]))
    }
}

final class MotionPerturbationTests: XCTestCase {
    func testPerturbationsFollowTheirGrowthAlongAndAcrossTheMotion() {
        var random = SeededGenerator(seed: 9)
        let p = MotionPerturbation(using: &random)
        var again = SeededGenerator(seed: 9)
        XCTAssertEqual(p, MotionPerturbation(using: &again), "the same draw from the same generator")
        // 1 km pixels and 10-minute steps: 1 pixel per step is 6 km/h.
        let motion = MotionField.uniform(ny: 2, nx: 2, u: 3, v: 0)
        let perturbed = p.perturbed(motion, minutes: 30, kilometresPerPixel: 1, stepMinutes: 10)
        let along = MotionPerturbation.Growth.along(30) * p.along / 6, across = MotionPerturbation.Growth.across(30) * p.across / 6
        XCTAssertEqual(Double(perturbed.u[0]), 3 + along, accuracy: 1e-5, "along the motion (+x)")
        XCTAssertEqual(Double(perturbed.v[0]), across, accuracy: 1e-5, "across it (+y, to the left of +x in row order)")
        XCTAssertEqual(MotionPerturbation.Growth.along(10), 10.88 * pow(10, 0.23) - 7.68, accuracy: 1e-12)
        // Still air stays still: no direction to perturb along.
        XCTAssertEqual(p.perturbed(.uniform(ny: 1, nx: 1, u: 0, v: 0), minutes: 30, kilometresPerPixel: 1, stepMinutes: 10).u, [0])
    }

    func testStreamsOfASeedDifferAndRepeat() {
        var a = SeededGenerator(seed: 5, stream: 0), b = SeededGenerator(seed: 5, stream: 1), c = SeededGenerator(seed: 5, stream: 1)
        let (x, y, z) = (a.next(), b.next(), c.next())
        XCTAssertNotEqual(x, y)
        XCTAssertEqual(y, z)
        var random = SeededGenerator(seed: 1)
        let draws = (0..<20_000).map { _ in random.laplace() }
        let mean = draws.reduce(0, +) / Double(draws.count), variance = draws.reduce(0) { $0 + $1 * $1 } / Double(draws.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05, "unit variance")
    }
}
