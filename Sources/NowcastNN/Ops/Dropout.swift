import NowcastCore

extension Variable {
    /// Inverted dropout: each element is zeroed with probability `rate` and the others scaled by
    /// `1 / (1 - rate)`, so the expectation is unchanged. The mask comes from `random`, so a seeded
    /// run drops the same elements. Call it in training only (inference uses the values as they are).
    public func dropout(rate: Float, using random: inout SeededGenerator) throws -> Variable {
        guard rate >= 0, rate < 1 else {
            throw TensorError.invalidShape(operation: "dropout(rate: \(rate))", shape: shape, expected: "a rate in [0, 1)")
        }
        guard rate > 0 else { return self }
        var mask = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - rate)
        mask.withUnsafeMutableBufferPointer { m in for i in 0..<m.count { m[i] = random.uniform() < Double(rate) ? 0 : keep } }
        return Variable(Tensor.zip(value, mask, *), parents: [self]) { [self] g in accumulate(Tensor.zip(g, mask, *)) }
    }
}
