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
        var outputs = [Tensor(uninitializedShape: shape), Tensor(uninitializedShape: shape)]  // normalised, out
        var inverseDeviation = [Float](repeating: 0, count: n * groups)
        Tensor.withElements(writing: &outputs, reading: [x, gammaValue, betaValue]) { out, input in
            let (xh, o, xp, gp, bp) = (out[0], out[1], input[0], input[1], input[2])
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
        }
        let normalised = outputs[0]
        return Variable(outputs[1], parents: [self, gamma, beta]) { [self] g in
            var gradients = [Tensor(uninitializedShape: x.shape), Tensor(shape: [c]), Tensor(shape: [c])]  // dx, d gamma, d beta
            Tensor.withElements(writing: &gradients, reading: [g, normalised, gammaValue]) { out, input in
                let (d, dg, db, gp, xh, gamma) = (out[0], out[1], out[2], input[0], input[1], input[2])
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
            }
            accumulate(gradients[0])
            gamma.accumulate(gradients[1])
            beta.accumulate(gradients[2])
        }
    }
}
