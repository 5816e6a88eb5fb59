import NowcastCore
import NowcastNN

/// The recurrent cell of a `RecurrentNowcaster`.
public enum RecurrentCell: String, Codable, Sendable {
    /// ConvLSTM (Shi et al. 2015, no peepholes): one convolution over concat(x, h) gives the gates
    /// i, f, g, o; the fused gate kernel updates c and h.
    case lstm
    /// ConvGRU (Ballas et al. 2016): one convolution over concat(x, h) gives the reset and update
    /// gates r, z; a second over concat(x, r * h) the candidate n; h' = h + z * (n - h).
    case gru
}

/// Configuration of the recurrent encoder-forecaster; the defaults are the reference ConvLSTM of
/// `../shared/bench/models.py`. Every key is optional when decoding (missing ones take the default).
public struct RecurrentConfig: Codable, Equatable, Sendable {
    public var cell: RecurrentCell = .lstm
    public var channels: Int = 1
    public var hidden: [Int] = [32, 32]
    public var kernel: Int = 3
    public var inputFrames: Int = 4
    public var outputFrames: Int = 4

    public init(cell: RecurrentCell = .lstm, channels: Int = 1, hidden: [Int] = [32, 32], kernel: Int = 3, inputFrames: Int = 4, outputFrames: Int = 4) {
        (self.cell, self.channels, self.hidden, self.kernel, self.inputFrames, self.outputFrames) = (cell, channels, hidden, kernel, inputFrames, outputFrames)
    }

    private enum CodingKeys: String, CodingKey { case cell, channels, hidden, kernel, inputFrames, outputFrames }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RecurrentConfig()
        self.init(cell: try c.decodeIfPresent(RecurrentCell.self, forKey: .cell) ?? d.cell,
                  channels: try c.decodeIfPresent(Int.self, forKey: .channels) ?? d.channels,
                  hidden: try c.decodeIfPresent([Int].self, forKey: .hidden) ?? d.hidden,
                  kernel: try c.decodeIfPresent(Int.self, forKey: .kernel) ?? d.kernel,
                  inputFrames: try c.decodeIfPresent(Int.self, forKey: .inputFrames) ?? d.inputFrames,
                  outputFrames: try c.decodeIfPresent(Int.self, forKey: .outputFrames) ?? d.outputFrames)
    }
}

/// The recurrent nowcaster: `[B, T_in, C, H, W]` in, `[B, T_out, C, H, W]` out. The input frames run
/// through the stack of cells; then a 1x1 head maps the top hidden state to the first prediction,
/// which is fed back as the next input, `outputFrames` times.
public final class RecurrentNowcaster {
    public let config: RecurrentConfig

    /// One cell's parameters: the gate convolution (`[4H or 2H, C_in + H, k, k]` and bias) and, for
    /// GRU cells, the candidate convolution (`[H, C_in + H, k, k]` and bias).
    public struct CellParameters {
        public let gates: (weight: Variable, bias: Variable)
        public let candidate: (weight: Variable, bias: Variable)?
    }

    public let cells: [CellParameters]
    /// Head: `[C, H_last, 1, 1]` and `[C]`.
    public let head: (weight: Variable, bias: Variable)
    /// Dropout of the top hidden state before the head, while `dropoutDraws` is set.
    public var dropoutRate: Float = 0
    public var dropoutDraws: SeededGenerator?

    /// A model with seeded Xavier weights (gates are sigmoid/tanh) and zero biases.
    public init(config: RecurrentConfig, seed: UInt64) throws {
        guard config.channels >= 1, !config.hidden.isEmpty, config.hidden.allSatisfy({ $0 >= 1 }), config.kernel % 2 == 1,
              config.inputFrames >= 1, config.outputFrames >= 1 else {
            throw TensorError.invalidShape(operation: "RecurrentConfig", shape: config.hidden, expected: "positive sizes and an odd kernel")
        }
        self.config = config
        var random = SeededGenerator(seed: seed)
        let k = config.kernel
        func convolution(_ outputs: Int, _ inputs: Int) -> (Variable, Variable) {
            (Variable(Initializer.xavierUniform([outputs, inputs, k, k], fanIn: inputs * k * k, fanOut: outputs * k * k, using: &random), requiresGrad: true),
             Variable(Tensor(shape: [outputs]), requiresGrad: true))
        }
        var inputs = config.channels
        var cells: [CellParameters] = []
        for h in config.hidden {
            switch config.cell {
            case .lstm: cells.append(CellParameters(gates: convolution(4 * h, inputs + h), candidate: nil))
            case .gru: cells.append(CellParameters(gates: convolution(2 * h, inputs + h), candidate: convolution(h, inputs + h)))
            }
            inputs = h
        }
        self.cells = cells
        head = (Variable(Initializer.xavierUniform([config.channels, inputs, 1, 1], fanIn: inputs, fanOut: config.channels, using: &random),
                         requiresGrad: true),
                Variable(Tensor(shape: [config.channels]), requiresGrad: true))
    }

    /// Named parameters in a fixed order (optimiser state and weight files follow it); the reference
    /// ConvLSTM's names are PyTorch's.
    public var namedVariables: [(name: String, variable: Variable)] {
        cells.enumerated().flatMap { k, cell -> [(String, Variable)] in
            let gates = config.cell == .lstm ? "conv" : "gates"
            var list = [("cells.\(k).\(gates).weight", cell.gates.weight), ("cells.\(k).\(gates).bias", cell.gates.bias)]
            if let candidate = cell.candidate { list += [("cells.\(k).candidate.weight", candidate.weight), ("cells.\(k).candidate.bias", candidate.bias)] }
            return list
        } + [("head.weight", head.weight), ("head.bias", head.bias)]
    }

    /// Each layer's hidden and (LSTM) cell state between steps.
    public struct State {
        var layers: [(h: Variable, c: Variable)]
        /// True before the first step: its convolutions skip the hidden channels, whose products
        /// are all zero (the same result, up to rounding).
        var zero = true
    }

    /// Zero states for a batch of `batch` fields of `height` x `width`.
    public func initialState(batch: Int, height: Int, width: Int) -> State {
        State(layers: config.hidden.map { h in (Variable(Tensor(shape: [batch, h, height, width])), Variable(Tensor(shape: [batch, h, height, width]))) })
    }

    /// One step of the stacked cells on `input` (`[B, channels, H, W]`), updating `state`; returns
    /// the head's output, `[B, channels, H, W]`.
    public func step(_ input: Variable, _ state: inout State) throws -> Variable {
        defer { state.zero = false }
        let padding = config.kernel / 2
        var current = input
        for (k, cell) in cells.enumerated() {
            switch config.cell {
            case .lstm:
                // One convolution over concat(x, h); the bias is added inside the fused gate step.
                let gates = state.zero
                    ? try current.conv2d(weight: try cell.gates.weight.sliceChannels(0..<current.shape[1]), padding: padding)
                    : try Variable.conv2d(concatenating: [current, state.layers[k].h], weight: cell.gates.weight, padding: padding)
                let next = try Variable.convLSTMGates(gates, previousCell: state.layers[k].c, bias: cell.gates.bias)
                state.layers[k] = (next.hidden, next.cell)
            case .gru:
                guard let candidate = cell.candidate else { throw TensorError.invalidShape(operation: "ConvGRU cell", shape: [k], expected: "a candidate convolution") }
                state.layers[k].h = try Variable.convGRUCell(input: current, hidden: state.zero ? nil : state.layers[k].h, gates: cell.gates,
                                                             candidate: candidate, padding: padding)
            }
            current = state.layers[k].h
        }
        if dropoutRate > 0, var draws = dropoutDraws {
            current = try current.dropout(rate: dropoutRate, using: &draws)
            dropoutDraws = draws
        }
        return try current.conv2d(weight: head.weight, bias: head.bias)
    }

    /// Encodes the input frames, then forecasts `outputFrames`, feeding each prediction back.
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let s = x.shape
        guard s.count == 5, s[1] == config.inputFrames, s[2] == config.channels else {
            throw TensorError.invalidShape(operation: "RecurrentNowcaster", shape: s,
                                           expected: "[B, \(config.inputFrames), \(config.channels), H, W]")
        }
        let (b, c, height, width) = (s[0], s[2], s[3], s[4])
        let frames = try x.reshaped([b, s[1] * c, height, width])
        var state = initialState(batch: b, height: height, width: width)
        var prediction = Variable(Tensor(shape: [b, c, height, width]))
        for t in 0..<config.inputFrames { prediction = try step(try frames.sliceChannels((t * c)..<((t + 1) * c)), &state) }
        var outputs = [prediction]
        for _ in 1..<config.outputFrames {
            prediction = try step(prediction, &state)
            outputs.append(prediction)
        }
        return try Variable.concatChannels(outputs).reshaped([b, config.outputFrames, c, height, width])
    }

    /// Multiply-accumulates of the convolutions for one sample of `height` x `width` (as bench_torch.py counts them).
    public func convolutionMACs(height: Int, width: Int) -> Int {
        var perStep = 0, inputs = config.channels
        let gatesPerHidden = config.cell == .lstm ? 4 : 3  // GRU: 2H gate channels + H candidate channels
        for h in config.hidden {
            perStep += gatesPerHidden * h * (inputs + h) * config.kernel * config.kernel * height * width
            inputs = h
        }
        let steps = config.inputFrames + config.outputFrames - 1
        return steps * perStep + config.outputFrames * config.channels * inputs * height * width
    }
}
