import Foundation

/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4 and 7.5) for smooth problems of many
/// unknowns whose cost and gradient come from one evaluation, such as a motion field fitted through
/// the differentiable warp. Steps along the two-loop direction with a backtracking (Armijo) line
/// search, trying the full quasi-Newton step first; a direction that does not descend resets the
/// history to steepest descent.
public struct LBFGS: Sendable {
    /// Correction pairs kept.
    public var history: Int
    /// Iterations at most.
    public var iterations: Int
    /// Stop when the cost falls by less than this fraction of itself in an iteration.
    public var relativeTolerance: Double

    public init(history: Int = 8, iterations: Int = 50, relativeTolerance: Double = 1e-5) {
        (self.history, self.iterations, self.relativeTolerance) = (history, iterations, relativeTolerance)
    }

    /// What a minimisation did.
    public struct Result: Sendable {
        public var cost: Double
        public var iterations: Int
        public var evaluations: Int
    }

    /// Minimises `evaluate` (cost and gradient at a point) from `x`, which ends at the best point found.
    @discardableResult
    public func minimize(_ x: inout [Float], _ evaluate: ([Float]) throws -> (cost: Double, gradient: [Float])) throws -> Result {
        var (cost, gradient) = try evaluate(x)
        var evaluations = 1
        var steps: [[Double]] = [], changes: [[Double]] = [], curvatures: [Double] = []
        var iteration = 0
        while iteration < iterations {
            iteration += 1
            var direction = Self.direction(gradient, steps: steps, changes: changes, curvatures: curvatures)
            var slope = zip(direction, gradient).reduce(0.0) { $0 + $1.0 * Double($1.1) }
            if !(slope < 0) {
                (steps, changes, curvatures) = ([], [], [])
                direction = gradient.map { -Double($0) }
                slope = -direction.reduce(0.0) { $0 + $1 * $1 }
            }
            guard slope < 0 else { break }  // zero gradient: a stationary point
            // The first step of steepest descent is scaled to move the largest unknown by one unit.
            var length = steps.isEmpty ? 1 / max(1e-12, direction.reduce(0.0) { max($0, abs($1)) }) : 1.0
            var accepted: (x: [Float], cost: Double, gradient: [Float])?
            for _ in 0..<30 {
                let trial = zip(x, direction).map { $0 + Float(length * $1) }
                let (trialCost, trialGradient) = try evaluate(trial)
                evaluations += 1
                if trialCost.isFinite, trialCost <= cost + 1e-4 * length * slope {
                    accepted = (trial, trialCost, trialGradient)
                    break
                }
                length *= 0.5
            }
            guard let next = accepted else { break }
            let step = zip(next.x, x).map { Double($0) - Double($1) }
            let change = zip(next.gradient, gradient).map { Double($0) - Double($1) }
            let curvature = zip(step, change).reduce(0.0) { $0 + $1.0 * $1.1 }
            if curvature > 1e-12 {
                steps.append(step); changes.append(change); curvatures.append(curvature)
                if steps.count > history { steps.removeFirst(); changes.removeFirst(); curvatures.removeFirst() }
            }
            let drop = cost - next.cost
            (x, cost, gradient) = (next.x, next.cost, next.gradient)
            if drop <= relativeTolerance * abs(cost) { break }
        }
        return Result(cost: cost, iterations: iteration, evaluations: evaluations)
    }

    /// The two-loop recursion: the inverse-Hessian estimate times minus the gradient.
    static func direction(_ gradient: [Float], steps: [[Double]], changes: [[Double]], curvatures: [Double]) -> [Double] {
        var q = gradient.map { -Double($0) }
        var alphas = [Double](repeating: 0, count: steps.count)
        for k in steps.indices.reversed() {
            let alpha = zip(steps[k], q).reduce(0.0) { $0 + $1.0 * $1.1 } / curvatures[k]
            alphas[k] = alpha
            for i in q.indices { q[i] -= alpha * changes[k][i] }
        }
        if let last = changes.last, let curvature = curvatures.last {
            let scale = curvature / last.reduce(0.0) { $0 + $1 * $1 }
            for i in q.indices { q[i] *= scale }
        }
        for k in steps.indices {
            let beta = zip(changes[k], q).reduce(0.0) { $0 + $1.0 * $1.1 } / curvatures[k]
            for i in q.indices { q[i] += (alphas[k] - beta) * steps[k][i] }
        }
        return q
    }
}
