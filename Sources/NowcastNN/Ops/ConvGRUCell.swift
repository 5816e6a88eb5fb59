extension Variable {
    /// One ConvGRU step (Ballas et al. 2016) on `[N, C, H, W]` input and `[N, K, H, W]` hidden state:
    /// one convolution over concat(x, h) gives the reset and update gates (`gates`: `[2K, C + K, k, k]`
    /// and `[2K]`), a second over concat(x, r * h) the candidate (`candidate`: `[K, C + K, k, k]` and
    /// `[K]`); the new state is `h + z * (n - h)`, i.e. `(1 - z) * h + z * n`. Built from the
    /// differentiable ops, so its gradients are theirs. A nil `hidden` is the zero state (the first
    /// step): the convolutions then skip its channels, and the new state is `z * n`.
    public static func convGRUCell(input: Variable, hidden: Variable?, gates: (weight: Variable, bias: Variable),
                                   candidate: (weight: Variable, bias: Variable), padding: Int) throws -> Variable {
        let k = candidate.weight.shape.first ?? 0
        let c = input.shape.count == 4 ? input.shape[1] : 0
        guard k > 0, c > 0, gates.weight.shape.first == 2 * k, candidate.weight.shape.count == 4, candidate.weight.shape[1] == c + k,
              hidden.map({ $0.shape.count == 4 && $0.shape[1] == k }) ?? true else {
            throw TensorError.shapeMismatch(operation: "convGRUCell (input [N, C, H, W], hidden [N, K, H, W], gates [2K, C + K, ...], candidate [K, C + K, ...])",
                                            left: hidden?.shape ?? input.shape, right: candidate.weight.shape)
        }
        guard let hidden else {
            let rz = try input.conv2d(weight: try gates.weight.sliceChannels(0..<c), bias: gates.bias, padding: padding).sigmoid()
            let proposal = try input.conv2d(weight: try candidate.weight.sliceChannels(0..<c), bias: candidate.bias, padding: padding).tanh()
            return try rz.sliceChannels(k..<(2 * k)) * proposal
        }
        let rz = try conv2d(concatenating: [input, hidden], weight: gates.weight, bias: gates.bias, padding: padding).sigmoid()
        let (reset, update) = (try rz.sliceChannels(0..<k), try rz.sliceChannels(k..<(2 * k)))
        let proposal = try conv2d(concatenating: [input, try reset * hidden], weight: candidate.weight, bias: candidate.bias, padding: padding).tanh()
        return try hidden + (try update * (try proposal - hidden))
    }
}
