import Foundation
import NowcastCore
import NowcastNN
import NowcastPhysics
import NowcastTestSupport
import XCTest

/// Finite-difference operators: the padded kernels equal the plain per-point stencils forward and
/// backward on every boundary, gradients match finite differences, and errors fall at each
/// scheme's order as the grid is refined.
final class DifferentialTests: XCTestCase {
    private let boundaries: [GridBoundary] = [.periodic, .zeroGradient, .fixed(0.7), .replicate]

    func testThePaddedStencilEqualsThePlainOneForwardAndBackward() throws {
        var random = SeededGenerator(seed: 4)
        let operators = FiniteDifferences(hx: 0.5, hy: 2)
        let stencils = [operators.centred(.x), operators.centred(.y), operators.second(.x) + operators.second(.y), operators.mixed,
                        operators.oneSided(.x, .backward, order: 2), operators.oneSided(.y, .forward, order: 2)]
        for (h, w) in [(7, 9), (1, 12), (3, 3)] {
            let planes = 2
            let input = (0..<(planes * h * w)).map { _ in Float(random.gaussian()) }
            for stencil in stencils where stencil.reach.y <= h && stencil.reach.x <= w {
                for y in boundaries {
                    for x in boundaries {
                        var fast = [Float](repeating: .nan, count: input.count), back = fast
                        input.withUnsafeBufferPointer { i in fast.withUnsafeMutableBufferPointer { stencil.apply(i.baseAddress!, into: $0.baseAddress!, planes: planes, height: h, width: w, y: y, x: x) } }
                        input.withUnsafeBufferPointer { i in back.withUnsafeMutableBufferPointer { stencil.applyTransposed(i.baseAddress!, into: $0.baseAddress!, planes: planes, height: h, width: w, y: y, x: x) } }
                        let reference = stencil.referenceApply(input, planes: planes, height: h, width: w, y: y, x: x)
                        let transposed = stencil.referenceApplyTransposed(input, planes: planes, height: h, width: w, y: y, x: x)
                        for i in input.indices {
                            XCTAssertEqual(fast[i], reference[i], accuracy: 1e-4, "\(h) x \(w), y \(y), x \(x), \(stencil.taps.count) taps, forward \(i)")
                            XCTAssertEqual(back[i], transposed[i], accuracy: 1e-4, "\(h) x \(w), y \(y), x \(x), \(stencil.taps.count) taps, backward \(i)")
                        }
                    }
                }
            }
        }
    }

    func testTheTransposeIsTheAdjoint() throws {
        // <S a, b> == <a, S^T b> for every boundary that reads points (a fixed ghost is a constant, not linear: zero it).
        var random = SeededGenerator(seed: 8)
        let (h, w) = (6, 5)
        let a = (0..<(h * w)).map { _ in Float(random.gaussian()) }, b = (0..<(h * w)).map { _ in Float(random.gaussian()) }
        let stencil = FiniteDifferences().mixed + FiniteDifferences().oneSided(.x, .forward, order: 2)
        for boundary in boundaries.map({ $0 == .fixed(0.7) ? GridBoundary.fixed(0) : $0 }) {
            let sa = stencil.referenceApply(a, planes: 1, height: h, width: w, y: boundary, x: boundary)
            let tb = stencil.referenceApplyTransposed(b, planes: 1, height: h, width: w, y: boundary, x: boundary)
            XCTAssertEqual(zip(sa, b).reduce(0) { $0 + Double($1.0 * $1.1) }, zip(a, tb).reduce(0) { $0 + Double($1.0 * $1.1) }, accuracy: 1e-4, "\(boundary)")
        }
    }

    func testGradientsMatchFiniteDifferences() throws {
        for boundary in boundaries {
            let ops = FiniteDifferences(hx: 0.5, hy: 0.25, x: boundary, y: boundary)
            let shape = [1, 2, 5, 6]
            // A quadratic loss: central differences are exact but for rounding, which a larger step keeps small.
            try checkGradients([shape], epsilon: 0.1) { v in try (ops.dx(v[0]) * ops.dyy(v[0])).mean() }
            // (Second differences at these spacings reach 100: scaled into tanh's bend, where a step of 0.01 resolves it.)
            try checkGradients([shape]) { v in try ops.laplacian(v[0]).scaled(by: 0.05).tanh().mean() }
            try checkGradients([shape]) { v in try (ops.dxy(v[0]) + ops.dy(v[0])).sigmoid().mean() }
            // Upwind advection u dq/dx: gradients to q through the stencil, to u through the product.
            try checkGradients([shape, shape]) { v in try (v[1] * ops.upwind(v[0], along: .x, velocity: v[1], order: 2)).tanh().mean() }
            try checkGradients([shape, shape]) { v in try ops.divergence(u: v[0], v: v[1]).tanh().mean() }
        }
    }

    /// Where point i of n sits on [0, 1], and the spacing: cell centres for periodic and
    /// zero-gradient grids, interior nodes i + 1 of n + 1 intervals for a fixed-value (Dirichlet) grid.
    private func position(_ i: Int, _ n: Int, _ boundary: GridBoundary) -> (x: Double, h: Double) {
        if case .fixed = boundary { return (Double(i + 1) / Double(n + 1), 1 / Double(n + 1)) }
        return ((Double(i) + (boundary == .zeroGradient ? 0.5 : 0)) / Double(n), 1 / Double(n))
    }

    /// log2 of the ratio of the largest errors of `op` on f at n and 2n points: the observed order
    /// (grids much finer than 32 points meet single precision's rounding in second derivatives).
    private func order(_ boundary: GridBoundary, n: Int = 32, f: (Double) -> Double, exact: (Double) -> Double,
                       _ op: (FiniteDifferences, Variable) throws -> Variable) throws -> Double {
        let errors = try [n, 2 * n].map { n -> Double in
            let ops = FiniteDifferences(hx: Float(position(0, n, boundary).h), x: boundary)
            let field = Variable(try Tensor(shape: [1, 1, 1, n], values: (0..<n).map { Float(f(position($0, n, boundary).x)) }))
            let out = try op(ops, field).value.scalars
            return out.indices.map { abs(Double(out[$0]) - exact(position($0, n, boundary).x)) }.max() ?? .nan
        }
        return log2(errors[0] / errors[1])
    }

    func testErrorsFallAtTheSchemesOrder() throws {
        let pi = Double.pi
        let sine = { (x: Double) in sin(2 * pi * x) }, cosine = { (x: Double) in 2 * pi * cos(2 * pi * x) }
        // Periodic: centred and second-order upwind at 2, first-order upwind at 1, the second derivative at 2.
        let velocity = { (n: Int) in Variable(Tensor(shape: [1, 1, 1, n], repeating: 1)) }
        XCTAssertEqual(try order(.periodic, f: sine, exact: cosine) { try $0.dx($1) }, 2, accuracy: 0.1)
        XCTAssertEqual(try order(.periodic, f: sine, exact: cosine) { try $0.upwind($1, along: .x, velocity: velocity($1.shape[3]), order: 1) }, 1, accuracy: 0.15)
        XCTAssertEqual(try order(.periodic, f: sine, exact: cosine) { try $0.upwind($1, along: .x, velocity: velocity($1.shape[3]).scaled(by: -1), order: 2) }, 2, accuracy: 0.15)
        XCTAssertEqual(try order(.periodic, f: sine, exact: { -4 * pi * pi * sin(2 * pi * $0) }) { try $0.dxx($1) }, 2, accuracy: 0.1)
        // Zero gradient at both ends (cos(pi x) on cell centres) and fixed zero values (sin(pi x) on
        // interior nodes): the Laplacian at 2 up to the edges.
        XCTAssertEqual(try order(.zeroGradient, n: 16, f: { cos(pi * $0) }, exact: { -pi * pi * cos(pi * $0) }) { try $0.laplacian($1) }, 2, accuracy: 0.15)
        XCTAssertEqual(try order(.fixed(0), n: 16, f: { sin(pi * $0) }, exact: { -pi * pi * sin(pi * $0) }) { try $0.laplacian($1) }, 2, accuracy: 0.15)
    }

    func testTheMixedDerivativeAndTheDivergenceOnAPlane() throws {
        // q = sin(2 pi x) sin(2 pi y) on a periodic 64 x 64 grid: d2q/dxdy and div(q, q) to second order.
        let n = 64, h = 1 / Float(n), pi = Float.pi
        let q = (0..<(n * n)).map { i in sin(2 * pi * Float(i % n) * h) * sin(2 * pi * Float(i / n) * h) }
        let field = Variable(try Tensor(shape: [1, 1, n, n], values: q))
        let ops = FiniteDifferences(hx: h, hy: h)
        let mixed = try ops.dxy(field).value.scalars, divergence = try ops.divergence(u: field, v: field).value.scalars
        for i in stride(from: 0, to: n * n, by: 37) {
            let (x, y) = (Float(i % n) * h, Float(i / n) * h)
            XCTAssertEqual(mixed[i], 4 * pi * pi * cos(2 * pi * x) * cos(2 * pi * y), accuracy: 0.2)
            XCTAssertEqual(divergence[i], 2 * pi * (cos(2 * pi * x) * sin(2 * pi * y) + sin(2 * pi * x) * cos(2 * pi * y)), accuracy: 0.05)
        }
    }

    func testBoundariesParseAndBadShapesAreRefused() throws {
        XCTAssertEqual(GridBoundary(parsing: "periodic"), .periodic)
        XCTAssertEqual(GridBoundary(parsing: "neumann"), .zeroGradient)
        XCTAssertEqual(GridBoundary(parsing: "dirichlet:2.5"), .fixed(2.5))
        XCTAssertNil(GridBoundary(parsing: "fixed"))
        XCTAssertNil(GridBoundary(parsing: "periodic:1"))
        XCTAssertNil(GridBoundary(parsing: "fixed:nan"))
        let ops = FiniteDifferences(x: .zeroGradient, y: .zeroGradient)
        XCTAssertThrowsError(try ops.dx(Variable(Tensor(shape: [4, 4]))))
        XCTAssertThrowsError(try ops.upwind(Variable(Tensor(shape: [1, 1, 1, 1])), along: .x, velocity: Variable(Tensor(shape: [1, 1, 1, 1])), order: 2),
                             "a 2-wide stencil on one point")
        XCTAssertThrowsError(try ops.upwind(Variable(Tensor(shape: [1, 1, 4, 4])), along: .x, velocity: Variable(Tensor(shape: [1, 1, 4, 4])), order: 3))
    }
}

/// Time integration: each scheme converges at its order on dq/dt = -q, gradients pass through
/// every stage, and the Courant number is what a CFL check reads.
final class TimeIntegratorTests: XCTestCase {
    func testEachSchemeConvergesAtItsOrder() throws {
        // RK4's error at 10 sub-steps is already at single precision's rounding: it is taken from 4 sub-steps.
        for (scheme, expected, steps) in [(TimeIntegrator.Scheme.euler, 1.0, 10), (.rk2, 2.0, 10), (.rk4, 4.0, 4)] {
            let errors = try [steps, 2 * steps].map { steps -> Double in
                let integrator = TimeIntegrator(scheme: scheme, substeps: steps)
                let q = try integrator.step([Variable(Tensor(shape: [1], repeating: 1))], dt: 1) { state in state.map { $0.scaled(by: -1) } }
                return abs(Double(q[0].value.scalar ?? .nan) - exp(-1))
            }
            XCTAssertEqual(log2(errors[0] / errors[1]), expected, accuracy: 0.2, "\(scheme)")
        }
    }

    func testGradientsFlowThroughEveryStage() throws {
        let ops = FiniteDifferences(hx: 0.5, x: .periodic, y: .zeroGradient)
        for scheme in TimeIntegrator.Scheme.allCases {
            let integrator = TimeIntegrator(scheme: scheme, substeps: 2)
            // Advection-diffusion of q by u: dq/dt = -u dq/dx + 0.1 lap q; gradients to q and u.
            try checkGradients([[1, 1, 4, 5], [1, 1, 4, 5]]) { v in
                let next = try integrator.step([v[0]], dt: 0.1) { s in [try (v[1] * ops.upwind(s[0], along: .x, velocity: v[1])).scaled(by: -1) + ops.laplacian(s[0]).scaled(by: 0.1)] }
                return try next[0].tanh().mean()
            }
        }
        XCTAssertThrowsError(try TimeIntegrator(substeps: 0).step([Variable(Tensor(shape: [1]))], dt: 1) { $0 })
        XCTAssertThrowsError(try TimeIntegrator().step([Variable(Tensor(shape: [2]))], dt: 1) { _ in [Variable(Tensor(shape: [3]))] })
    }

    func testTheCourantNumber() throws {
        let u = try Tensor(shape: [3], values: [0.5, -2, 1]), v = try Tensor(shape: [3], values: [0, 1, 0.25])
        XCTAssertEqual(TimeIntegrator(substeps: 4).courantNumber(u: u, v: v, dt: 1, hx: 0.5, hy: 1), 2 * 0.25 / 0.5 + 1 * 0.25 / 1)
    }
}

/// Moment-constrained kernels: a finite-difference stencil has the derivative's moments, a kernel
/// built under the hard constraint differentiates polynomials exactly whatever its free moments,
/// and gradients pass through both forms.
final class MomentConstraintTests: XCTestCase {
    func testStencilsHaveTheirDerivativesMoments() throws {
        let dx = try XCTUnwrap(MomentConstraint(size: 3, derivative: (y: 0, x: 1), order: 2))
        let centred = Variable(try Tensor(shape: [3, 3], values: [0, 0, 0, -0.5, 0, 0.5, 0, 0, 0]))
        XCTAssertEqual(try dx.loss(centred).value.scalar ?? .nan, 0, accuracy: 1e-10)
        let m = try dx.moments(of: centred).value.scalars
        XCTAssertEqual(m[1], 1, accuracy: 1e-6, "m[0, 1]: the first x derivative")
        XCTAssertEqual(m.enumerated().filter { $0.offset != 1 && $0.offset / 3 + $0.offset % 3 <= 2 }.map { abs($0.element) }.max() ?? 1, 0, accuracy: 1e-6)
        let forward = Variable(try Tensor(shape: [3, 3], values: [0, 0, 0, 0, -1, 1, 0, 0, 0]))
        XCTAssertGreaterThan(try dx.loss(forward).value.scalar ?? 0, 0.2, "a one-sided difference misses the second moment (0.5^2)")
        let lap = try XCTUnwrap(MomentConstraint(size: 3, derivative: (y: 0, x: 2), order: 3))
        XCTAssertEqual(try lap.loss(Variable(try Tensor(shape: [3, 3], values: [0, 0, 0, 1, -2, 1, 0, 0, 0]))).value.scalar ?? .nan, 0, accuracy: 1e-10)
        XCTAssertNil(MomentConstraint(size: 4, derivative: (y: 0, x: 1), order: 2), "even size")
        XCTAssertNil(MomentConstraint(size: 3, derivative: (y: 0, x: 3), order: 3), "a third derivative on three points")
        XCTAssertNil(MomentConstraint(size: 3, derivative: (y: 1, x: 1), order: 1), "order below the derivative's")
    }

    func testAHardConstrainedKernelDifferentiatesPolynomialsExactly() throws {
        // 5 x 5 kernels held to d2/dxdy up to total order 4, random above: exact on any polynomial of degree 4.
        let constraint = try XCTUnwrap(MomentConstraint(size: 5, derivative: (y: 1, x: 1), order: 4))
        var random = SeededGenerator(seed: 3)
        let free = Variable(try Tensor(shape: [5, 5], values: (0..<25).map { _ in Float(random.gaussian()) }))
        let kernel = try constraint.kernel(free: free).value.scalars
        let f = { (y: Double, x: Double) in 0.3 * x * x * y * y - 0.5 * x * x * x * y + x * y + 2 * y * y - x + 1 }
        let exact = { (y: Double, x: Double) in 1.2 * x * y - 1.5 * x * x + 1 }
        for (y, x) in [(0.0, 0.0), (1.5, -2.0), (-3.0, 0.5)] {
            var sum = 0.0
            for u in -2...2 { for v in -2...2 { sum += Double(kernel[(u + 2) * 5 + v + 2]) * f(y + Double(u), x + Double(v)) } }
            XCTAssertEqual(sum, exact(y, x), accuracy: 1e-3 * max(1, abs(exact(y, x))), "at (\(y), \(x))")
        }
        XCTAssertEqual(try constraint.loss(try constraint.kernel(free: free)).value.scalar ?? .nan, 0, accuracy: 1e-6)
    }

    func testGradientsPassThroughBothForms() throws {
        let constraint = try XCTUnwrap(MomentConstraint(size: 3, derivative: (y: 0, x: 1), order: 1))
        try checkGradients([[3, 3]]) { v in try constraint.loss(v[0]) }
        try checkGradients([[3, 3], [1, 1, 6, 6]]) { v in
            try v[1].conv2d(weight: try constraint.kernel(free: v[0]).reshaped([1, 1, 3, 3]), padding: 1).tanh().mean()
        }
    }
}
