import Foundation

extension Variable {
    /// Group normalisation (Wu & He 2018) of `[N, C, H, W]`: each image's channels fall into `groups`
    /// groups, each normalised to zero mean and unit variance (biased, plus `epsilon`), then scaled
    /// by `gamma` and shifted by `beta` (`[C]` each) per channel. With `groups == C` this is instance
    /// norm, with 1 layer norm; unlike batch norm it does not depend on the batch.
    public func groupNorm(groups: Int, gamma: Variable, beta: Variable, epsilon: Float = 1e-5) throws -> Variable {
        guard shape.count == 4, groups >= 1, shape[1] % groups == 0 else {
            throw TensorError.invalidShape(operation: "groupNorm(groups: \(groups))", shape: shape, expected: "[N, C, H, W] with C divisible by \(groups)")
        }
        guard gamma.shape == [shape[1]], beta.shape == [shape[1]] else {
            throw TensorError.shapeMismatch(operation: "groupNorm gamma/beta", left: gamma.shape, right: [shape[1]])
        }
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let perGroup = c / groups, size = perGroup * plane
        let x = value, gammaValue = gamma.value, betaValue = beta.value
        var normalised = Tensor(uninitializedShape: shape), out = Tensor(uninitializedShape: shape)
        var inverseDeviation = [Float](repeating: 0, count: n * groups)
        normalised.withUnsafeMutableBufferPointer { xh in out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { xp in gammaValue.withUnsafeBufferPointer { gp in betaValue.withUnsafeBufferPointer { bp in
                for k in 0..<(n * groups) {
                    let base = k * size
                    var mean = 0.0, square = 0.0
                    for i in 0..<size { mean += Double(xp[base + i]) }
                    mean /= Double(size)
                    for i in 0..<size { let d = Double(xp[base + i]) - mean; square += d * d }
                    let inverse = Float(1 / (square / Double(size) + Double(epsilon)).squareRoot())
                    inverseDeviation[k] = inverse
                    for i in 0..<size {
                        let channel = (k % groups) * perGroup + i / plane
                        xh[base + i] = (xp[base + i] - Float(mean)) * inverse
                        o[base + i] = xh[base + i] * gp[channel] + bp[channel]
                    }
                }
            } } }
        } }
        return Variable(out, parents: [self, gamma, beta]) { [self] g in
            var dx = Tensor(uninitializedShape: x.shape), dGamma = Tensor(shape: [c]), dBeta = Tensor(shape: [c])
            dx.withUnsafeMutableBufferPointer { d in dGamma.withUnsafeMutableBufferPointer { dg in dBeta.withUnsafeMutableBufferPointer { db in
                g.withUnsafeBufferPointer { gp in normalised.withUnsafeBufferPointer { xh in gammaValue.withUnsafeBufferPointer { gamma in
                    for k in 0..<(n * groups) {
                        let base = k * size
                        // dxhat = g * gamma; dx = inverse * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
                        var meanD = 0.0, meanDX = 0.0
                        for i in 0..<size {
                            let channel = (k % groups) * perGroup + i / plane
                            let dxh = Double(gp[base + i] * gamma[channel])
                            meanD += dxh
                            meanDX += dxh * Double(xh[base + i])
                            dg[channel] += gp[base + i] * xh[base + i]
                            db[channel] += gp[base + i]
                        }
                        meanD /= Double(size)
                        meanDX /= Double(size)
                        for i in 0..<size {
                            let channel = (k % groups) * perGroup + i / plane
                            let dxh = gp[base + i] * gamma[channel]
                            d[base + i] = inverseDeviation[k] * (dxh - Float(meanD) - xh[base + i] * Float(meanDX))
                        }
                    }
                } } }
            } } }
            accumulate(dx)
            gamma.accumulate(dGamma)
            beta.accumulate(dBeta)
        }
    }
}
