extension Variable {
    /// One ConvGRU step (Ballas et al. 2016) on `[N, C, H, W]` input and `[N, K, H, W]` hidden state:
    /// one convolution over concat(x, h) gives the reset and update gates (`gates`: `[2K, C + K, k, k]`
    /// and `[2K]`), a second over concat(x, r * h) the candidate (`candidate`: `[K, C + K, k, k]` and
    /// `[K]`); the new state is `h + z * (n - h)`, i.e. `(1 - z) * h + z * n`. Built from the
    /// differentiable ops, so its gradients are theirs.
    public static func convGRUCell(input: Variable, hidden: Variable, gates: (weight: Variable, bias: Variable),
                                   candidate: (weight: Variable, bias: Variable), padding: Int) throws -> Variable {
        let k = hidden.shape.count == 4 ? hidden.shape[1] : 0
        guard k > 0, gates.weight.shape.first == 2 * k, candidate.weight.shape.first == k else {
            throw TensorError.shapeMismatch(operation: "convGRUCell (hidden [N, K, H, W], gates [2K, ...], candidate [K, ...])",
                                            left: hidden.shape, right: gates.weight.shape)
        }
        let joined = try concatChannels([input, hidden])
        let rz = try joined.conv2d(weight: gates.weight, bias: gates.bias, padding: padding).sigmoid()
        let (reset, update) = (try rz.sliceChannels(0..<k), try rz.sliceChannels(k..<(2 * k)))
        let proposal = try concatChannels([input, try reset * hidden])
            .conv2d(weight: candidate.weight, bias: candidate.bias, padding: padding).tanh()
        return try hidden + (try update * (try proposal - hidden))
    }
}
