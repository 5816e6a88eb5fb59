import NowcastCore

/// Configuration of the ConvLSTM encoder-forecaster (Shi et al. 2015, no peepholes), as the
/// reference model of `../shared/bench/models.py`: stacked cells, each one convolution over
/// concat(x, h) giving the four gates, then the fused gate step; a 1x1 head; predictions fed back.
public struct ConvLSTMConfig: Codable, Equatable, Sendable {
    public var channels: Int = 1
    public var hidden: [Int] = [32, 32]
    public var kernel: Int = 3
    public var inputFrames: Int = 4
    public var outputFrames: Int = 4

    public init(channels: Int = 1, hidden: [Int] = [32, 32], kernel: Int = 3, inputFrames: Int = 4, outputFrames: Int = 4) {
        self.channels = channels
        self.hidden = hidden
        self.kernel = kernel
        self.inputFrames = inputFrames
        self.outputFrames = outputFrames
    }
}

/// The ConvLSTM nowcaster: `[B, T_in, C, H, W]` in, `[B, T_out, C, H, W]` out.
public final class ConvLSTMNowcaster {
    public let config: ConvLSTMConfig
    /// Per cell: gate weights `[4H, C_in + H, k, k]` and bias `[4H]`.
    public let cells: [(weight: Variable, bias: Variable)]
    /// Head: `[C, H_last, 1, 1]` and `[C]`.
    public let head: (weight: Variable, bias: Variable)

    /// A model with seeded Xavier weights (gates are sigmoid/tanh) and zero biases.
    public init(config: ConvLSTMConfig, seed: UInt64) throws {
        guard config.channels >= 1, !config.hidden.isEmpty, config.hidden.allSatisfy({ $0 >= 1 }), config.kernel % 2 == 1,
              config.inputFrames >= 1, config.outputFrames >= 1 else {
            throw TensorError.invalidShape(operation: "ConvLSTMConfig", shape: config.hidden, expected: "positive sizes and an odd kernel")
        }
        self.config = config
        var random = SeededGenerator(seed: seed)
        var inputs = config.channels
        var cells: [(Variable, Variable)] = []
        for h in config.hidden {
            let fanIn = (inputs + h) * config.kernel * config.kernel
            cells.append((Variable(Initializer.xavierUniform([4 * h, inputs + h, config.kernel, config.kernel], fanIn: fanIn,
                                                            fanOut: 4 * h * config.kernel * config.kernel, using: &random), requiresGrad: true),
                          Variable(Tensor(shape: [4 * h]), requiresGrad: true)))
            inputs = h
        }
        self.cells = cells
        head = (Variable(Initializer.xavierUniform([config.channels, inputs, 1, 1], fanIn: inputs, fanOut: config.channels, using: &random),
                         requiresGrad: true),
                Variable(Tensor(shape: [config.channels]), requiresGrad: true))
    }

    /// Every parameter, in a fixed order (optimiser state and weight files follow it).
    public var parameters: [Variable] { cells.flatMap { [$0.weight, $0.bias] } + [head.weight, head.bias] }

    /// Named parameters for weight files.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        cells.enumerated().flatMap { k, cell in [("cells.\(k).conv.weight", cell.weight.value), ("cells.\(k).conv.bias", cell.bias.value)] }
            + [("head.weight", head.weight.value), ("head.bias", head.bias.value)]
    }

    /// Encodes the input frames, then forecasts `outputFrames`, feeding each prediction back.
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let s = x.shape
        guard s.count == 5, s[1] == config.inputFrames, s[2] == config.channels else {
            throw TensorError.invalidShape(operation: "ConvLSTMNowcaster", shape: s,
                                           expected: "[B, \(config.inputFrames), \(config.channels), H, W]")
        }
        let (b, c, height, width) = (s[0], s[2], s[3], s[4])
        let frames = try x.reshaped([b, s[1] * c, height, width])
        var state = config.hidden.map { h in (Variable(Tensor(shape: [b, h, height, width])), Variable(Tensor(shape: [b, h, height, width]))) }
        func step(_ input: Variable) throws -> Variable {
            var current = input
            for (k, cell) in cells.enumerated() {
                let h = config.hidden[k]
                let gates = try Variable.concatChannels([current, state[k].0]).conv2d(weight: cell.weight, bias: cell.bias, padding: config.kernel / 2)
                let next = try Variable.convLSTMGates(gates, previousCell: state[k].1)
                state[k] = (try next.sliceChannels(0..<h), try next.sliceChannels(h..<(2 * h)))
                current = state[k].0
            }
            return try current.conv2d(weight: head.weight, bias: head.bias)
        }
        var prediction = Variable(Tensor(shape: [b, c, height, width]))
        for t in 0..<config.inputFrames { prediction = try step(try frames.sliceChannels((t * c)..<((t + 1) * c))) }
        var outputs = [prediction]
        for _ in 1..<config.outputFrames {
            prediction = try step(prediction)
            outputs.append(prediction)
        }
        return try Variable.concatChannels(outputs).reshaped([b, config.outputFrames, c, height, width])
    }

    /// Multiply-accumulates of the convolutions for one sample of `height` x `width` (as bench_torch.py counts them).
    public func convolutionMACs(height: Int, width: Int) -> Int {
        var perStep = 0, inputs = config.channels
        for h in config.hidden {
            perStep += 4 * h * (inputs + h) * config.kernel * config.kernel * height * width
            inputs = h
        }
        let steps = config.inputFrames + config.outputFrames - 1
        return steps * perStep + config.outputFrames * config.channels * inputs * height * width
    }
}
