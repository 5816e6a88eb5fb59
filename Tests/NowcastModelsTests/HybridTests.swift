import Foundation
import NowcastCore
import NowcastModels
import NowcastNN
import XCTest

/// The physics-hybrid model: it honours its equation, gradients reach every part (motion, neural
/// term, coefficients), weights round trip, it learns, and bad settings name their key.
final class HybridTests: XCTestCase {
    /// A blob moving 1 pixel per frame along x: frames t of `count`, [1, count, 1, 16, 16].
    private func blob(_ count: Int, from start: Int = 0) throws -> Variable {
        let n = 16
        let values = (0..<count).flatMap { t in
            (0..<(n * n)).map { i -> Float in
                let (x, y) = (Float(i % n) - Float(start + t), Float(i / n))
                return exp(-((x - 5) * (x - 5) + (y - 8) * (y - 8)) / 6)
            }
        }
        return Variable(try Tensor(shape: [1, count, 1, n, n], values: values))
    }

    func testTheModelFollowsItsEquation() throws {
        // dt(q) = 0: every output frame is the latest input; dt(q) = k q: it grows by RK2's e^k each frame.
        let still = try HybridNowcaster(config: HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = 0"), seed: 1)
        let x = try blob(3)
        let last = Array(x.value.scalars.suffix(256))
        let held = try still.forecastSequence(x)
        XCTAssertEqual(held.shape, [1, 2, 1, 16, 16])
        XCTAssertEqual(Array(held.value.scalars.suffix(256)), last)
        let growth = try HybridNowcaster(config: HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = k*q", coefficients: ["k": 0.1], maxSpeed: 0.5), seed: 1)
        let grown = try growth.forecastSequence(x).value.scalars
        let factor: Float = 1 + 0.1 + 0.1 * 0.1 / 2  // one RK2 step (max speed 0.5: one sub-step)
        for i in stride(from: 0, to: 256, by: 17) {
            XCTAssertEqual(grown[i], last[i] * factor, accuracy: 1e-5)
            XCTAssertEqual(grown[256 + i], last[i] * factor * factor, accuracy: 1e-5)
        }
        XCTAssertEqual(HybridConfig(inputFrames: 1, outputFrames: 1, maxSpeed: 4).substeps, 8)
    }

    func testGradientsReachEveryPartAndWeightsRoundTrip() throws {
        let config = HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q) + S(q)", coefficients: ["k": 0.05])
        let model = try HybridNowcaster(config: config, seed: 2)
        XCTAssertEqual(model.terms.map(\.name), ["S"])
        try model.forecastSequence(try blob(3)).meanSquaredError(try blob(2, from: 3)).backward()
        for (name, variable) in model.namedVariables {
            XCTAssertNotNil(variable.grad, "\(name) has no gradient")
        }
        XCTAssertTrue(model.namedVariables.contains { $0.name == "coefficient.k" })
        XCTAssertTrue(model.namedVariables.contains { $0.name.hasPrefix("motion.") } && model.namedVariables.contains { $0.name.hasPrefix("term.S.") })
        let other = try HybridNowcaster(config: config, seed: 9)
        try other.load(Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor) }), source: "memory")
        XCTAssertEqual(try other.forecastSequence(try blob(3)).value.scalars, try model.forecastSequence(try blob(3)).value.scalars)
    }

    func testItLearnsToMoveTheRain() throws {
        // Pure advection by the learned motion: a few Adam steps on one moving blob lower the error
        // well below persistence's.
        let model = try HybridNowcaster(config: HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = -(u*dx(q) + v*dy(q))", maxSpeed: 2, base: 4, depth: 1), seed: 3)
        let (x, y) = (try blob(3), try blob(2, from: 3))
        let persistence = try Variable.concatChannels([try x.reshaped([1, 3, 16, 16]).sliceChannels(2..<3), try x.reshaped([1, 3, 16, 16]).sliceChannels(2..<3)])
            .reshaped([1, 2, 1, 16, 16]).meanSquaredError(y).value.scalar ?? 0
        var adam = Adam(learningRate: 0.01)
        var loss: Float = .infinity
        for _ in 0..<60 {
            for p in model.parameters { p.zeroGrad() }
            let l = try model.forecastSequence(x).meanSquaredError(y)
            loss = l.value.scalar ?? .nan
            try l.backward()
            try adam.step(model.parameters)
        }
        XCTAssertLessThan(loss, 0.3 * persistence, "learned advection \(loss) against persistence \(persistence)")
    }

    /// With Lucas-Kanade's motion the model moves the rain before any training, as extrapolation
    /// does, and has no motion network; gradients still reach its neural term.
    func testLucasKanadeMotionMovesTheRainUntrained() throws {
        let config = HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = -(u*dx(q) + v*dy(q))", maxSpeed: 2, base: 4, depth: 1, motion: .lucasKanade)
        let model = try HybridNowcaster(config: config, seed: 3)
        XCTAssertNil(model.motion)
        XCTAssertTrue(model.namedVariables.isEmpty)
        let (x, y) = (try blob(3), try blob(2, from: 3))
        let (u, v) = try model.velocity(try x.reshaped([1, 3, 16, 16]))
        let centre = 8 * 16 + 7   // the blob's centre at the latest input frame
        XCTAssertEqual(u.value[centre], 1, accuracy: 0.2)
        XCTAssertEqual(v.value[centre], 0, accuracy: 0.2)
        let last = try x.reshaped([1, 3, 16, 16]).sliceChannels(2..<3)
        let persistence = try Variable.concatChannels([last, last]).reshaped([1, 2, 1, 16, 16]).meanSquaredError(y).value.scalar ?? 0
        let moved = try model.forecastSequence(x).meanSquaredError(y).value.scalar ?? .nan
        XCTAssertLessThan(moved, 0.3 * persistence, "Lucas-Kanade advection \(moved) against persistence \(persistence)")
        let withTerm = try HybridNowcaster(config: HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = -(u*dx(q) + v*dy(q)) + S(q)",
                                                                base: 4, depth: 1, motion: .lucasKanade), seed: 3)
        try withTerm.forecastSequence(x).meanSquaredError(y).backward()
        XCTAssertFalse(withTerm.namedVariables.isEmpty)
        for (name, variable) in withTerm.namedVariables { XCTAssertNotNil(variable.grad, "\(name) has no gradient") }
        XCTAssertThrowsError(try HybridNowcaster(config: HybridConfig(inputFrames: 1, outputFrames: 1, motion: .lucasKanade), seed: 1)) {
            XCTAssertTrue("\($0)".contains("model.motion"), "\($0)")
        }
    }

    /// Semi-Lagrangian advection moves the blob as far with less numerical diffusion than first-
    /// order upwind differences, and gradients reach the motion network through the warp.
    func testSemiLagrangianAdvectionMovesTheRainWithLessDiffusion() throws {
        let (x, y) = (try blob(3), try blob(2, from: 3))
        func error(_ advection: HybridAdvection, _ equation: String) throws -> Float {
            let config = HybridConfig(inputFrames: 3, outputFrames: 2, equation: equation, maxSpeed: 2, base: 4, depth: 1, motion: .lucasKanade, advection: advection)
            return try HybridNowcaster(config: config, seed: 3).forecastSequence(x).meanSquaredError(y).value.scalar ?? .nan
        }
        let upwind = try error(.finiteDifferences, "dt(q) = -(u*dx(q) + v*dy(q))")
        let warped = try error(.semiLagrangian, "dt(q) = 0")
        XCTAssertLessThan(warped, 0.5 * upwind, "semi-Lagrangian \(warped) against upwind \(upwind)")
        let learned = try HybridNowcaster(config: HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = S(q)", base: 4, depth: 1,
                                                               advection: .semiLagrangian), seed: 2)
        try learned.forecastSequence(x).meanSquaredError(y).backward()
        for (name, variable) in learned.namedVariables { XCTAssertNotNil(variable.grad, "\(name) has no gradient") }
        XCTAssertTrue(learned.namedVariables.contains { $0.name.hasPrefix("motion.") })
    }

    /// A ConvLSTM term learns a growth: with Lucas-Kanade's motion and `dt(q) = S(q)`, a few Adam
    /// steps on a blob that grows by half each frame bring the error well below persistence's;
    /// gradients reach every weight, and a term of two fields is refused.
    func testAConvLSTMTermLearnsAGrowth() throws {
        let n = 16
        func growing(_ frames: Range<Int>) throws -> Variable {
            let values = frames.flatMap { t in (0..<(n * n)).map { i -> Float in
                let (x, y) = (Float(i % n), Float(i / n))
                return Float(pow(1.5, Double(t))) * exp(-((x - 8) * (x - 8) + (y - 8) * (y - 8)) / 8)
            } }
            return Variable(try Tensor(shape: [1, frames.count, 1, n, n], values: values))
        }
        let config = HybridConfig(inputFrames: 3, outputFrames: 2, equation: "dt(q) = S(q)", maxSpeed: 1, motion: .lucasKanade,
                                  termNetwork: .convlstm, termHidden: [4])
        let model = try HybridNowcaster(config: config, seed: 5)
        XCTAssertNil(model.gridProblem(height: 18, width: 18), "no U-Net: any grid")
        let (x, y) = (try growing(0..<3), try growing(3..<5))
        let last = try x.reshaped([1, 3, n, n]).sliceChannels(2..<3)
        let persistence = try Variable.concatChannels([last, last]).reshaped([1, 2, 1, n, n]).meanSquaredError(y).value.scalar ?? 0
        var adam = Adam(learningRate: 0.02)
        var loss: Float = .infinity
        for _ in 0..<20 {
            for p in model.parameters { p.zeroGrad() }
            let l = try model.forecastSequence(x).meanSquaredError(y)
            loss = l.value.scalar ?? .nan
            try l.backward()
            for (name, variable) in model.namedVariables { XCTAssertNotNil(variable.grad, "\(name) has no gradient") }
            try adam.step(model.parameters)
        }
        XCTAssertLessThan(loss, 0.2 * persistence, "learned growth \(loss) against persistence \(persistence)")
        var spec = ModelSpec(type: .hybrid)
        (spec.termNetwork, spec.equation) = (.convlstm, "dt(q) = -(u*dx(q) + v*dy(q)) + S(q, u)")
        XCTAssertTrue("\(spec.problem.map { "\($0)" } ?? "accepted")".contains("model.term_network"))
    }

    func testBadSettingsNameTheirKey() {
        func refused(_ spec: ModelSpec, _ key: String, _ words: String..., line: UInt = #line) {
            guard let problem = spec.problem else { return XCTFail("accepted", line: line) }
            XCTAssertTrue("\(problem)".contains(key), "\(problem)", line: line)
            for word in words { XCTAssertTrue("\(problem)".contains(word), "\(problem)", line: line) }
        }
        var spec = ModelSpec(type: .hybrid)
        XCTAssertNil(spec.problem)
        spec.equation = "dt(q) = -(u*dx(q) + w*dy(q))"
        refused(spec, "model.equation", "unknown name 'w'", "column 21")
        spec.equation = "dt(q) = p\ndt(p) = q"
        refused(spec, "model.equation", "one equation")
        spec = ModelSpec(type: .hybrid)
        spec.boundary = "wall"
        refused(spec, "model.boundary")
        spec = ModelSpec(type: .hybrid)
        spec.maxSpeed = 0
        refused(spec, "model.max_speed")
        spec = ModelSpec(type: .hybrid)
        spec.equation = "dt(q) = S(q) + S(q, u)"
        refused(spec, "model.equation", "takes 1 field elsewhere")
        spec = ModelSpec(type: .hybrid)
        spec.advection = .semiLagrangian
        refused(spec, "model.equation", "without u and v", "unknown name 'u'")
        spec.equation = "dt(q) = S(q)"
        XCTAssertNil(spec.problem)
    }

    func testTheSpecRoundTripsWithItsEquation() throws {
        var spec = ModelSpec(type: .hybrid)
        spec.equation = "dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q)"
        spec.coefficients = ["k": 0.1]
        spec.maxSpeed = 3
        spec.motion = .lucasKanade
        spec.advection = .semiLagrangian
        spec.termNetwork = .convlstm
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: try JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        XCTAssertTrue(spec.summary.contains("lucas-kanade motion"), spec.summary)
        // A model folder written before the motion had a choice keeps its motion network.
        var older = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(spec)) as? [String: Any] ?? [:]
        (older["motion"], older["advection"], older["term_network"]) = (nil, nil, nil)
        let decodedOlder = try JSONDecoder().decode(ModelSpec.self, from: try JSONSerialization.data(withJSONObject: older))
        XCTAssertEqual(decodedOlder.motion, .network)
        XCTAssertEqual(decodedOlder.advection, .finiteDifferences)
        XCTAssertEqual(decodedOlder.termNetwork, .unet)
        XCTAssertEqual(decodedOlder.equation, spec.equation)
        let plain = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(ModelSpec())) as? [String: Any]
        XCTAssertNil(plain?["equation"], "other models' manifests keep their keys")
        XCTAssertTrue(spec.summary.contains("k*lap(q)"))
    }
}
