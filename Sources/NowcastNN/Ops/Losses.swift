import Foundation

/// Losses: scalars from a prediction and a target of the same shape, each with its gradient to both
/// (the target may be a computed value too). Means are over all elements.
extension Variable {
    /// Mean squared error.
    public func meanSquaredError(_ target: Variable) throws -> Variable {
        try weightedLoss("meanSquaredError", target, weights: nil, value: { $0 * $0 }, derivative: { 2 * $0 })
    }

    /// Mean absolute error (the gradient of |d| at d = 0 is taken as 0).
    public func meanAbsoluteError(_ target: Variable) throws -> Variable {
        try weightedLoss("meanAbsoluteError", target, weights: nil, value: { abs($0) }, derivative: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }

    /// Intensity-weighted mean squared error, `mean(w * d^2)`, as the balanced MSE of the HKO-7
    /// benchmark (weights from `IntensityWeights`).
    public func weightedMeanSquaredError(_ target: Variable, weights: Tensor) throws -> Variable {
        try weightedLoss("weightedMeanSquaredError", target, weights: weights, value: { $0 * $0 }, derivative: { 2 * $0 })
    }

    /// Intensity-weighted mean absolute error, `mean(w * |d|)` (HKO-7's balanced MAE).
    public func weightedMeanAbsoluteError(_ target: Variable, weights: Tensor) throws -> Variable {
        try weightedLoss("weightedMeanAbsoluteError", target, weights: weights, value: { abs($0) }, derivative: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }

    /// Mean of `log(cosh(d))` (times `weights` when given): quadratic for small errors, linear for
    /// large ones; computed as `|d| + log1p(exp(-2|d|)) - log 2`, which does not overflow.
    public func logCoshError(_ target: Variable, weights: Tensor? = nil) throws -> Variable {
        try weightedLoss("logCoshError", target, weights: weights, value: { d in abs(d) + log1p(Foundation.exp(-2 * abs(d))) - 0.6931472 },
                         derivative: { Foundation.tanh($0) })
    }

    /// `mean(w * f(prediction - target))` with gradient `w * f'(d) / n`.
    private func weightedLoss(_ name: String, _ target: Variable, weights: Tensor?, value f: (Float) -> Float,
                              derivative: @escaping (Float) -> Float) throws -> Variable {
        try Self.checkSame(name, self, target)
        if let weights, weights.shape != shape { throw TensorError.shapeMismatch(operation: "\(name) weights", left: shape, right: weights.shape) }
        let difference = Tensor.zip(value, target.value, -)
        let n = Float(value.count)
        var total = 0.0
        difference.withUnsafeBufferPointer { d in
            if let weights {
                weights.withUnsafeBufferPointer { w in for i in 0..<d.count { total += Double(w[i] * f(d[i])) } }
            } else {
                for i in 0..<d.count { total += Double(f(d[i])) }
            }
        }
        return Variable(Tensor(scalar: Float(total) / n), parents: [self, target]) { [self] g in
            let scale = (g.scalar ?? 0) / n
            let gradient = weights.map { w in Tensor.zip(difference, w) { d, w in w * derivative(d) * scale } }
                ?? difference.map { derivative($0) * scale }
            accumulate(gradient)
            target.accumulate(gradient.map { -$0 })
        }
    }

    /// Gaussian negative log-likelihood of `target` under a predicted mean (`self`) and log-variance:
    /// `mean(0.5 * (logVariance + (target - mean)^2 * exp(-logVariance)))`, without the constant
    /// `0.5 * log(2 pi)` (as PyTorch's `GaussianNLLLoss`, which takes the variance itself).
    public func gaussianNegativeLogLikelihood(logVariance: Variable, target: Variable) throws -> Variable {
        try Self.checkSame("gaussianNegativeLogLikelihood", self, target)
        try Self.checkSame("gaussianNegativeLogLikelihood log-variance", self, logVariance)
        let mu = value, s = logVariance.value, y = target.value
        let n = Float(mu.count)
        let terms = Elementwise.map(mu, s, y) { m, s, y in 0.5 * (s + (y - m) * (y - m) * Foundation.exp(-s)) }
        let total = terms.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } }
        return Variable(Tensor(scalar: Float(total) / n), parents: [self, logVariance, target]) { [self] g in
            let scale = (g.scalar ?? 0) / n
            let dMean = Elementwise.map(mu, s, y) { m, s, y in (m - y) * Foundation.exp(-s) * scale }
            accumulate(dMean)
            target.accumulate(dMean.map { -$0 })
            logVariance.accumulate(Elementwise.map(mu, s, y) { m, s, y in 0.5 * (1 - (y - m) * (y - m) * Foundation.exp(-s)) * scale })
        }
    }

    /// The fair (unbiased) CRPS of an ensemble `[M, ...]` (members along the first axis, M >= 2)
    /// against `target` `[...]`, averaged over the points:
    /// `mean_i |x_i - y| - sum_{i,j} |x_i - x_j| / (2 M (M - 1))` (Ferro 2014).
    public func fairCRPS(_ target: Variable) throws -> Variable {
        guard shape.count >= 1, shape[0] >= 2, Array(shape.dropFirst()) == target.shape else {
            throw TensorError.shapeMismatch(operation: "fairCRPS (ensemble [M >= 2, ...] against target [...])", left: shape, right: target.shape)
        }
        let members = shape[0], points = target.value.count
        let x = value, y = target.value
        let m = Float(members)
        var total = 0.0
        x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
            for p in 0..<points {
                var skill: Float = 0, spread: Float = 0
                for i in 0..<members {
                    skill += abs(xp[i * points + p] - yp[p])
                    for j in (i + 1)..<members { spread += abs(xp[i * points + p] - xp[j * points + p]) }
                }
                // sum over ordered pairs = 2 * sum over i < j
                total += Double(skill / m - spread / (m * (m - 1)))
            }
        } }
        return Variable(Tensor(scalar: Float(total / Double(points))), parents: [self, target]) { [self] g in
            let scale = (g.scalar ?? 0) / Float(points)
            var gradients = [Tensor(shape: x.shape), Tensor(shape: y.shape)]
            Tensor.withElements(writing: &gradients, reading: [x, y]) { out, input in
                let (dxp, dyp, xp, yp) = (out[0], out[1], input[0], input[1])
                func sign(_ v: Float) -> Float { v > 0 ? 1 : (v < 0 ? -1 : 0) }
                for p in 0..<points { for i in 0..<members {
                    let xi = xp[i * points + p]
                    let s = sign(xi - yp[p])
                    var pairs: Float = 0
                    for j in 0..<members where j != i { pairs += sign(xi - xp[j * points + p]) }
                    dxp[i * points + p] = (s / m - pairs / (m * (m - 1))) * scale
                    dyp[p] -= s / m * scale
                } }
            }
            accumulate(gradients[0])
            target.accumulate(gradients[1])
        }
    }
}
