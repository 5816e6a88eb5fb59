import Foundation
import NowcastCore
import NowcastNN
import NowcastPhysics
import NowcastTestSupport
import XCTest

/// Equations as text: what is refused says where, what is accepted evaluates to the operators
/// built by hand, gradients reach trainable coefficients, and a coefficient is recovered by
/// training the equation on data it made.
final class EquationTests: XCTestCase {
    private func field(_ shape: [Int], seed: UInt64) -> Variable {
        var random = SeededGenerator(seed: seed)
        return Variable(Tensor(shape: shape, repeating: 0).filled { _ in Float(random.gaussian()) })
    }

    private func assertRefused(_ text: String, inputs: [String] = [], coefficients: [String] = [], networks: [String] = [],
                               line: Int = 1, column: Int, mentions words: [String], file: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertThrowsError(try EquationSystem(text, inputs: inputs, coefficients: coefficients, networks: networks), file: file, line: sourceLine) { error in
            guard let e = error as? EquationError else { return XCTFail("\(error)", file: file, line: sourceLine) }
            XCTAssertEqual([e.line, e.column], [line, column], "\(e)", file: file, line: sourceLine)
            for word in words { XCTAssertTrue(e.description.contains(word), "\(e) lacks '\(word)'", file: file, line: sourceLine) }
        }
    }

    func testMistakesAreNamedWithTheirPlace() {
        assertRefused("dt(q) = -u*dx(q) + k*lap(q)", inputs: ["u"], column: 20, mentions: ["unknown name 'k'", "coefficients: none"])
        assertRefused("dt(q) = (q + 1", column: 9, mentions: ["unbalanced parentheses"])
        assertRefused("dt(q) = q + 1)", column: 14, mentions: ["end of the equation"])
        assertRefused("dt(q) = lap(q, q)", column: 9, mentions: ["lap takes 1 field"])
        assertRefused("dt(q) = grad(q)", column: 9, mentions: ["unknown function 'grad'"])
        assertRefused("dt(q) = dx", column: 9, mentions: ["write dx(...)"])
        assertRefused("q = 1", column: 1, mentions: ["dt(NAME)"])
        assertRefused("dt(q) = q\ndt(q) = 2*q", line: 2, column: 1, mentions: ["two equations"])
        assertRefused("dt(q) = q^k", coefficients: ["k"], column: 10, mentions: ["exponent is a number"])
        assertRefused("dt(q) = 1 +", column: 12, mentions: ["ends early"])
        assertRefused("# advection\ndt(q) = q * $", line: 2, column: 13, mentions: ["found '$'"])
        assertRefused("dt(q) = S", networks: ["S"], column: 9, mentions: ["write S(...)"])
        assertRefused("dt(q) = u", inputs: ["u"], coefficients: ["u"], column: 1, mentions: ["both"])
    }

    func testTheSystemEvaluatesToTheOperatorsBuiltByHand() throws {
        let shape = [1, 1, 8, 10]
        let (q, u, v) = (field(shape, seed: 1), field(shape, seed: 2), field(shape, seed: 3))
        let k = Variable(Tensor(shape: [1], repeating: 0.05))
        let ops = FiniteDifferences(hx: 0.5, hy: 0.5, x: .periodic, y: .zeroGradient)
        let bindings = EquationSystem.Bindings(fields: ["u": u, "v": v], coefficients: ["k": k])
        let text = "dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q)  # advection and diffusion"
        for advection in [EquationSystem.Advection.centred, .upwind(order: 2)] {
            let system = try EquationSystem(text, inputs: ["u", "v"], coefficients: ["k"], advection: advection)
            XCTAssertEqual(system.states, ["q"])
            let ours = try system.rightHandSides([q], bindings, operators: ops)[0].value.scalars
            let (ax, ay): (Variable, Variable)
            if case .upwind = advection {
                (ax, ay) = (try u * ops.upwind(q, along: .x, velocity: u, order: 2), try v * ops.upwind(q, along: .y, velocity: v, order: 2))
            } else {
                (ax, ay) = (try u * ops.dx(q), try v * ops.dy(q))
            }
            let hand = try (ax + ay).scaled(by: -1) + ops.laplacian(q).scaled(by: 0.05)
            for (a, b) in zip(ours, hand.value.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(advection)") }
        }
        // Two coupled fields, powers, functions, numbers on either side, and a neural term.
        let coupled = try EquationSystem("dt(a) = 0.5*b^2 - a/2 + exp(-1)\ndt(b) = -sqrt(abs(a)) * 2 + S(a, b) - 1/b^-1", networks: ["S"])
        let (a, b) = (field(shape, seed: 4), field(shape, seed: 5))
        let net: ([Variable]) throws -> Variable = { try $0[0] * $0[1] }
        let rates = try coupled.rightHandSides([a, b], .init(networks: ["S": net]), operators: ops)
        let (av, bv) = (a.value.scalars, b.value.scalars)
        for i in stride(from: 0, to: av.count, by: 7) {
            XCTAssertEqual(rates[0].value.scalars[i], 0.5 * bv[i] * bv[i] - av[i] / 2 + exp(-1), accuracy: 1e-5)
            XCTAssertEqual(rates[1].value.scalars[i], -abs(av[i]).squareRoot() * 2 + av[i] * bv[i] - bv[i], accuracy: 1e-4)
        }
    }

    func testShapesThatDoNotFitAreNamed() throws {
        let system = try EquationSystem("dt(q) = q + u*q", inputs: ["u"])
        let q = field([1, 1, 4, 4], seed: 1), u = field([1, 2, 4, 4], seed: 2)
        XCTAssertThrowsError(try system.rightHandSides([q], .init(fields: ["u": u]), operators: FiniteDifferences())) { error in
            XCTAssertTrue("\(error)".contains("column 14") && "\(error)".contains("[1, 2, 4, 4]"), "\(error)")
        }
        XCTAssertThrowsError(try system.rightHandSides([q], .init(), operators: FiniteDifferences())) { XCTAssertTrue("\($0)".contains("'u' is not given"), "\($0)") }
    }

    func testACourantNumberAboveOneIsSaid() throws {
        let system = try EquationSystem("dt(q) = -(u*dx(q))", inputs: ["u"])
        let q = field([1, 1, 4, 8], seed: 1), u = Variable(Tensor(shape: [1, 1, 4, 8], repeating: 3))
        var said: [String] = []
        _ = try system.step([q], .init(fields: ["u": u]), operators: FiniteDifferences(), integrator: TimeIntegrator(substeps: 2), dt: 1) { said.append($0) }
        XCTAssertEqual(said.count, 1)
        XCTAssertTrue(said.first?.contains("Courant number 1.50") ?? false, "\(said)")
        XCTAssertTrue(said.first?.contains("3 sub-steps") ?? false, "\(said)")
        said = []
        _ = try system.step([q], .init(fields: ["u": u]), operators: FiniteDifferences(), integrator: TimeIntegrator(substeps: 3), dt: 1) { said.append($0) }
        XCTAssertEqual(said, [], "Courant 1 is allowed")
    }

    func testGradientsReachTheCoefficientsAndFields() throws {
        let system = try EquationSystem("dt(q) = -(u*dx(q)) + k*lap(q) + c", inputs: ["u"], coefficients: ["k", "c"], advection: .upwind(order: 1))
        let ops = FiniteDifferences(hx: 0.5, hy: 0.5)
        try checkGradients([[1, 1, 4, 5], [1, 1, 4, 5], [1], [1]]) { v in
            let next = try system.step([v[0]], .init(fields: ["u": v[1]], coefficients: ["k": v[2], "c": v[3]]), operators: ops,
                                       integrator: TimeIntegrator(scheme: .rk2, substeps: 2), dt: 0.05)
            return try next[0].tanh().mean()
        }
    }

    /// Data from dt(q) = -(u dx(q) + v dy(q)) + k lap(q) with k = 0.05 and a uniform velocity
    /// (0.6, -0.3); the equation trained on one-step pairs from other values recovers them.
    func testTrainingTheEquationRecoversItsCoefficients() throws {
        let n = 16, h = Float(1) / Float(n)
        let ops = FiniteDifferences(hx: h, hy: h)
        let system = try EquationSystem("dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q)", coefficients: ["u", "v", "k"])
        let integrator = TimeIntegrator(scheme: .rk4, substeps: 2)
        let dt: Float = 0.01
        let truth = ["u": Float(0.6), "v": -0.3, "k": 0.05]
        func scalar(_ x: Float, trainable: Bool = false) -> Variable { Variable(Tensor(shape: [1], repeating: x), requiresGrad: trainable) }
        // A few smooth periodic fields and where the equation takes them one step on.
        var pairs: [(Variable, Variable)] = []
        for seed in 0..<3 {
            let phase = Float(seed)
            let q = Variable(try Tensor(shape: [1, 1, n, n], values: (0..<(n * n)).map { i in
                let (x, y) = (Float(i % n) * h, Float(i / n) * h)
                return sin(2 * .pi * x + phase) * cos(2 * .pi * y) + 0.5 * sin(4 * .pi * (x + y) + 2 * phase)
            }))
            let next = try Gradients.disabled {
                try system.step([q], .init(coefficients: truth.mapValues { scalar($0) }), operators: ops, integrator: integrator, dt: dt)[0]
            }
            pairs.append((q, Variable(next.value)))
        }
        for trainVelocity in [false, true] {
            let k = scalar(0.2, trainable: true)
            let (u, v) = trainVelocity ? (scalar(0, trainable: true), scalar(0, trainable: true)) : (scalar(0.6), scalar(-0.3))
            var adam = Adam(learningRate: 0.02)
            let parameters = trainVelocity ? [k, u, v] : [k]
            for step in 0..<300 {
                if step == 200 { adam.learningRate = 0.002 }
                var total: Variable?
                for (q, target) in pairs {
                    let next = try system.step([q], .init(coefficients: ["k": k, "u": u, "v": v]), operators: ops, integrator: integrator, dt: dt)[0]
                    let loss = try next.meanSquaredError(target)
                    total = try total.map { try $0 + loss } ?? loss
                }
                for p in parameters { p.zeroGrad() }
                try total?.backward()
                try adam.step(parameters)
            }
            let label = trainVelocity ? "k, u and v trained" : "k trained"
            XCTAssertEqual(k.value[0], 0.05, accuracy: 0.05 * 0.05, label)
            if trainVelocity {
                XCTAssertEqual(u.value[0], 0.6, accuracy: 0.05 * 0.6, label)
                XCTAssertEqual(v.value[0], -0.3, accuracy: 0.05 * 0.3, label)
            }
        }
    }

    /// The parametric Kalman filter's Burgers system (PDE-NetGen's closure experiment).
    static let pkfBurgers = """
        dt(u) = kappa*dxx(u) - u*dx(u) - dx(V)/2
        dt(V) = -kappa*V/nu + kappa*dxx(V) - kappa*dx(V)^2/(2*V) - u*dx(V) - 2*V*dx(u)
        dt(nu) = 4*kappa*nu^2*(a*dxx(nu)/nu^2 + b/nu^2 + c*dx(nu)^2/nu^3) - 3*kappa*dxx(nu) - kappa + 6*kappa*dx(nu)^2/nu - 2*kappa*nu*dxx(V)/V + kappa*dx(V)*dx(nu)/V + 2*kappa*nu*dx(V)^2/V^2 - u*dx(nu) + 2*nu*dx(u)
        """

    /// One-step pairs made by the closed system with (a, b, c) = (1, 3/4, -2) from smooth states of
    /// the experiment's scales (u ~ 0.5, V ~ 1e-5, nu ~ 2e-4): `EquationFit` from zero recovers
    /// all three within 1 %, whatever the states' units.
    func testFittingTheClosureOnDataOfTheClosedSystemRecoversIt() throws {
        let n = 64, h = Float(1) / Float(n), dt: Float = 0.002
        let system = try EquationSystem(Self.pkfBurgers, coefficients: ["kappa", "a", "b", "c"])
        let operators = FiniteDifferences(hx: h, hy: 1, x: .periodic, y: .periodic)
        let integrator = TimeIntegrator(scheme: .rk4)
        let truth: [String: Float] = ["kappa": 0.0025, "a": 1, "b": 0.75, "c": -2]
        var now = [[Float]](repeating: [], count: 3), next = now
        for k in 0..<12 {
            let phase = Float(k) * 0.7
            let x = (0..<n).map { Float($0) * h }
            let states = [x.map { 0.25 * (1 + cos(2 * .pi * ($0 - phase))) },
                          x.map { 2.5e-5 * (1 + 0.4 * sin(2 * .pi * $0 + 2 * phase)) },
                          x.map { 2e-4 * exp(0.8 * sin(2 * .pi * $0 + phase) + 0.3 * cos(6 * .pi * $0 - phase)) }]
            let fields = try states.map { Variable(try Tensor(shape: [1, 1, 1, n], values: $0)) }
            let stepped = try Gradients.disabled {
                try system.step(fields, .init(coefficients: truth.mapValues { Variable(Tensor(shape: [1], repeating: $0)) }),
                                operators: operators, integrator: integrator, dt: dt)
            }
            for s in 0..<3 { now[s] += states[s]; next[s] += stepped[s].value.scalars }
        }
        let pairs = try EquationFit.Pairs(now: now, next: next, count: 12, rows: 1, columns: n)
        let fit = try EquationFit(system: system, operators: operators, integrator: integrator, dt: dt)
        var adam = EquationFit.Settings()
        (adam.epochs, adam.batchSize) = (40, 2)
        var lbfgs = EquationFit.Settings()
        lbfgs.method = .lbfgs
        // Adam (PDE-NetGen's way) brings the loss down by orders of magnitude but crawls along the
        // valley where the a and c terms trade; L-BFGS on all pairs goes to its floor.
        var losses: [Float] = []
        let rough = try fit.fit(pairs, fixed: ["kappa": 0.0025], trainable: ["a": 0, "b": 0, "c": 0], settings: adam) { losses.append($1) }
        XCTAssertEqual(losses.count, 120)
        XCTAssertLessThan(losses.last ?? .infinity, (losses.first ?? 0) / 1e4, "Adam's loss falls")
        XCTAssertEqual(rough.coefficients["b"] ?? .nan, 0.75, accuracy: 0.01 * 0.75)
        let result = try fit.fit(pairs, fixed: ["kappa": 0.0025], trainable: ["a": 0, "b": 0, "c": 0], settings: lbfgs)
        for (name, value) in ["a": Float(1), "b": 0.75, "c": -2] {
            XCTAssertEqual(result.coefficients[name] ?? .nan, value, accuracy: 0.01 * abs(value), name)
        }
    }

    /// What the fit cannot use is refused with what was expected.
    func testTheFitRefusesWhatItCannotUse() throws {
        let operators = FiniteDifferences(hx: 0.1, hy: 1)
        let system = try EquationSystem("dt(q) = k*dxx(q)", coefficients: ["k"])
        let fit = try EquationFit(system: system, operators: operators, integrator: TimeIntegrator(), dt: 0.01)
        let q = (0..<8).map { Float(sin(Double($0))) + 2 }
        let pairs = try EquationFit.Pairs(now: [q], next: [q], count: 1, rows: 1, columns: 8)
        func refused(_ words: [String], _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { error in
                for word in words { XCTAssertTrue("\(error)".contains(word), "\(error) lacks '\(word)'") }
            }
        }
        refused(["neural terms"]) { _ = try EquationFit(system: try EquationSystem("dt(q) = S(q)", networks: ["S"]), operators: operators, integrator: TimeIntegrator(), dt: 0.01) }
        refused(["positive time step"]) { _ = try EquationFit(system: system, operators: operators, integrator: TimeIntegrator(), dt: 0) }
        refused(["coefficient 'k'"]) { _ = try fit.fit(pairs, fixed: [:], trainable: [:]) }
        refused(["1 states (q)", "2 states"]) { _ = try fit.fit(try EquationFit.Pairs(now: [q, q], next: [q, q], count: 1, rows: 1, columns: 8), fixed: [:], trainable: ["k": 0]) }
        refused(["finite states"]) { _ = try EquationFit.Pairs(now: [q], next: [q.map { _ in .nan }], count: 1, rows: 1, columns: 8) }
        refused(["8 values"]) { _ = try EquationFit.Pairs(now: [q], next: [Array(q.prefix(7))], count: 1, rows: 1, columns: 8) }
        refused(["not zero everywhere"]) { _ = try EquationFit.Pairs(now: [q.map { _ in 0 }], next: [q], count: 1, rows: 1, columns: 8) }
        var diverging = EquationFit.Settings()
        (diverging.learningRate, diverging.stages, diverging.epochs) = (1e30, 1, 3)
        refused(["converges"]) { _ = try fit.fit(pairs, fixed: [:], trainable: ["k": 1e30], settings: diverging) }
    }
}

private extension Tensor {
    func filled(_ value: (Int) -> Float) -> Tensor {
        var t = self
        t.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = value(i) } }
        return t
    }
}
