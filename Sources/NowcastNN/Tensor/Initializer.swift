import NowcastCore

/// Seeded weight initialisation.
public enum Initializer {
    /// He (Kaiming) normal: std sqrt(2 / fanIn), for ReLU layers.
    public static func heNormal(_ shape: [Int], fanIn: Int, using random: inout SeededGenerator) -> Tensor {
        let std = (2 / Double(max(1, fanIn))).squareRoot()
        return filled(shape) { Float(random.gaussian() * std) }
    }

    /// Xavier (Glorot) uniform: ±sqrt(6 / (fanIn + fanOut)), for tanh and sigmoid layers.
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, using random: inout SeededGenerator) -> Tensor {
        let limit = (6 / Double(max(1, fanIn + fanOut))).squareRoot()
        return filled(shape) { Float((random.uniform() * 2 - 1) * limit) }
    }

    /// Uniform in `range` (benchmark inputs, as `torch.rand`).
    public static func uniform(_ shape: [Int], in range: Range<Float>, using random: inout SeededGenerator) -> Tensor {
        filled(shape) { range.lowerBound + Float(random.uniform()) * (range.upperBound - range.lowerBound) }
    }

    private static func filled(_ shape: [Int], _ next: () -> Float) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = next() } }
        return t
    }
}
