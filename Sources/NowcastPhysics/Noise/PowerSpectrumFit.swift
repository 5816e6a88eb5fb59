import Foundation

/// Two power laws joined at a break, fitted to a radially averaged power spectrum in log-log
/// space as pySTEPS's parametric noise filter fits them: log P = y0 + beta1 (x - x0) below the
/// break x0 = log k0 and y0 + beta2 (x - x0) above it, by least squares over the rings 1... with
/// pySTEPS's bounds (x0 in [2, 5], y0 in [0, 20], both slopes in [-4, -1]).
///
/// For a given break the model is linear in (y0, beta1, beta2), so the bounded least squares is
/// solved exactly by trying every set of parameters held at a bound; the break is searched over
/// its whole range (a grid of 0.01 in log k, then a golden-section refinement). pySTEPS's
/// `curve_fit` starts at the break's lower bound and can stop in a local minimum; this finds the
/// global one.
public struct PowerSpectrumFit: Sendable, Equatable {
    /// x0: the break's log wavenumber.
    public var breakLogWavenumber: Double
    /// y0: log power at the break.
    public var logPowerAtBreak: Double
    /// beta1: the slope at scales larger than the break's.
    public var largeScaleSlope: Double
    /// beta2: the slope at smaller scales.
    public var smallScaleSlope: Double

    static let lower = (x0: 2.0, y0: 0.0, beta: -4.0)
    static let upper = (x0: 5.0, y0: 20.0, beta: -1.0)

    public init(breakLogWavenumber: Double, logPowerAtBreak: Double, largeScaleSlope: Double, smallScaleSlope: Double) {
        (self.breakLogWavenumber, self.logPowerAtBreak, self.largeScaleSlope, self.smallScaleSlope)
            = (breakLogWavenumber, logPowerAtBreak, largeScaleSlope, smallScaleSlope)
    }

    /// The fit to `radialPower` (ring r's mean power at index r, ring 0 the mean's and not used);
    /// rings without positive finite power are left out. Nil with fewer than 4 usable rings.
    public init?(radialPower: [Double]) {
        let points = radialPower.indices.dropFirst().filter { radialPower[$0].isFinite && radialPower[$0] > 0 }
        guard points.count >= 4 else { return nil }
        let x = points.map { log(Double($0)) }, y = points.map { log(radialPower[$0]) }
        func best(_ x0: Double) -> (parameters: [Double], residual: Double) { Self.boundedLinearFit(x: x, y: y, x0: x0) }
        let steps = 300
        var (bestBreak, bestResidual) = (Self.lower.x0, Double.infinity)
        for i in 0...steps {
            let x0 = Self.lower.x0 + (Self.upper.x0 - Self.lower.x0) * Double(i) / Double(steps)
            let residual = best(x0).residual
            if residual < bestResidual { (bestBreak, bestResidual) = (x0, residual) }
        }
        // Golden section within a grid step either side.
        let spacing = (Self.upper.x0 - Self.lower.x0) / Double(steps)
        var (a, b) = (max(Self.lower.x0, bestBreak - spacing), min(Self.upper.x0, bestBreak + spacing))
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<40 {
            let (c, d) = (b - ratio * (b - a), a + ratio * (b - a))
            if best(c).residual <= best(d).residual { b = d } else { a = c }
        }
        let refined = (a + b) / 2
        let x0 = best(refined).residual <= bestResidual ? refined : bestBreak
        let p = best(x0).parameters
        self.init(breakLogWavenumber: x0, logPowerAtBreak: p[0], largeScaleSlope: p[1], smallScaleSlope: p[2])
    }

    /// The wavenumber of the break, in cycles per domain.
    public var breakWavenumber: Double { exp(breakLogWavenumber) }

    /// The fitted log power at log wavenumber `x`.
    public func logPower(atLogWavenumber x: Double) -> Double {
        let d = x - breakLogWavenumber
        return logPowerAtBreak + (d < 0 ? largeScaleSlope : smallScaleSlope) * d
    }

    /// Least squares of (y0, beta1, beta2) for the break `x0` within the bounds: for every choice
    /// of parameters held at their lower or upper bound, the others from the normal equations;
    /// the best choice whose free parameters fall inside their bounds.
    static func boundedLinearFit(x: [Double], y: [Double], x0: Double) -> (parameters: [Double], residual: Double) {
        // Columns 1, min(x - x0, 0), max(x - x0, 0): their Gram matrix, A'y and y'y.
        // (The two slope columns are never both non-zero, so their cross term is 0.)
        var (n, s1, s2, s11, s22, y0, y1, y2, yy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        for (xi, yi) in zip(x, y) {
            let (below, above) = (min(xi - x0, 0), max(xi - x0, 0))
            n += 1
            (s1, s2, s11, s22) = (s1 + below, s2 + above, s11 + below * below, s22 + above * above)
            (y0, y1, y2, yy) = (y0 + yi, y1 + below * yi, y2 + above * yi, yy + yi * yi)
        }
        let gram = [[n, s1, s2], [s1, s11, 0], [s2, 0, s22]], ay = [y0, y1, y2]
        let lower = [Self.lower.y0, Self.lower.beta, Self.lower.beta], upper = [Self.upper.y0, Self.upper.beta, Self.upper.beta]
        var best: (parameters: [Double], residual: Double) = ([lower[0], lower[1], lower[2]], .infinity)
        for choice in 0..<27 {
            // Per parameter: 0 free, 1 at its lower bound, 2 at its upper.
            let state = [choice % 3, choice / 3 % 3, choice / 9]
            var p = (0..<3).map { state[$0] == 1 ? lower[$0] : state[$0] == 2 ? upper[$0] : 0 }
            let free = (0..<3).filter { state[$0] == 0 }
            if !free.isEmpty {
                let matrix = free.map { i in free.map { gram[i][$0] } }
                let rhs = free.map { i in ay[i] - (0..<3).filter { state[$0] != 0 }.reduce(0) { $0 + gram[i][$1] * p[$1] } }
                guard let solution = solve(matrix, rhs) else { continue }
                for (k, i) in free.enumerated() { p[i] = solution[k] }
                guard free.allSatisfy({ p[$0] >= lower[$0] - 1e-12 && p[$0] <= upper[$0] + 1e-12 }) else { continue }
            }
            var residual = yy
            for i in 0..<3 {
                residual -= 2 * p[i] * ay[i]
                for j in 0..<3 { residual += p[i] * gram[i][j] * p[j] }
            }
            if residual < best.residual { best = (p, residual) }
        }
        return best
    }

    /// Gaussian elimination with partial pivoting; nil for a singular system.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a, v = b
        let n = b.count
        for c in 0..<n {
            guard let pivot = (c..<n).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[pivot][c]) > 1e-12 else { return nil }
            m.swapAt(c, pivot)
            v.swapAt(c, pivot)
            for r in (c + 1)..<n {
                let f = m[r][c] / m[c][c]
                for k in c..<n { m[r][k] -= f * m[c][k] }
                v[r] -= f * v[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            x[r] = (v[r] - ((r + 1)..<n).reduce(0) { $0 + m[r][$1] * x[$1] }) / m[r][r]
        }
        return x
    }
}
