import NowcastCore
import NowcastNN

/// A network with named parameters (`RecurrentNowcaster`, `UNet`): the parameter list, weight-file
/// entries and loading by name follow from `namedVariables`.
public protocol NamedParameters: AnyObject {
    /// Named parameters, in the fixed order optimiser state and weight files follow.
    var namedVariables: [(name: String, variable: Variable)] { get }
}

/// A nowcasting model as trainers and forecasters see it: a sequence of `inputFrames` fields in,
/// `outputFrames` fields out, both `[B, T, 1, H, W]`. `RecurrentNowcaster` and `RecursiveUNet` (a
/// `UNet` run recursively) are the two implementations.
public protocol SequenceModel: NamedParameters {
    /// Frames in.
    var inputFrames: Int { get }
    /// Frames out.
    var outputFrames: Int { get }
    /// `[B, inputFrames, 1, H, W]` -> `[B, outputFrames, 1, H, W]`.
    func forecastSequence(_ inputs: Variable) throws -> Variable
    /// Why a grid of `height` x `width` cannot be used, or nil when it can.
    func gridProblem(height: Int, width: Int) -> ModelError?
    /// The dropout rate at the head's input (`ModelSpec.dropout`).
    var dropoutRate: Float { get set }
    /// While set, forward passes drop at `dropoutRate` with masks drawn from it (training steps,
    /// MC-dropout ensemble members); nil: plain inference.
    var dropoutDraws: SeededGenerator? { get set }
}

extension NamedParameters {
    /// Every parameter, in the order of `namedVariables`.
    public var parameters: [Variable] { namedVariables.map(\.variable) }

    /// Named parameter values for weight files.
    public var namedParameters: [(name: String, tensor: Tensor)] { namedVariables.map { ($0.name, $0.variable.value) } }

    /// Replaces every parameter with the tensor of the same name; throws naming a missing, extra
    /// or misshapen tensor (nothing is changed then).
    public func load(_ tensors: [String: Tensor], source: String) throws {
        let named = namedVariables
        let expected = Set(named.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ModelError.weights(path: source, detail: "tensor '\(extra)' is not a parameter of this model")
        }
        let pairs = try named.map { name, variable -> (Variable, Tensor) in
            guard let tensor = tensors[name] else { throw ModelError.weights(path: source, detail: "parameter '\(name)' is missing") }
            guard tensor.shape == variable.shape else {
                throw ModelError.weights(path: source, detail: "parameter '\(name)' has shape \(tensor.shape), the model expects \(variable.shape)")
            }
            return (variable, tensor)
        }
        for (variable, tensor) in pairs { try variable.assign(tensor) }
    }
}

extension RecurrentNowcaster: SequenceModel {
    public var inputFrames: Int { config.inputFrames }
    public var outputFrames: Int { config.outputFrames }
    public func forecastSequence(_ inputs: Variable) throws -> Variable { try self(inputs) }
    public func gridProblem(height: Int, width: Int) -> ModelError? {
        height >= 1 && width >= 1 ? nil : .gridMismatch(height: height, width: width, detail: "a recurrent model needs a grid of at least 1 x 1")
    }
}

/// A U-Net run recursively over `steps` frames, as a sequence model: the `[B, T_in, 1, H, W]` input
/// is its `T_in` channels.
public final class RecursiveUNet: SequenceModel {
    /// The network.
    public let network: UNet
    public let outputFrames: Int

    public init(network: UNet, steps: Int) {
        self.network = network
        outputFrames = steps
    }

    public var inputFrames: Int { network.config.inputChannels }
    public var dropoutRate: Float {
        get { network.dropoutRate }
        set { network.dropoutRate = newValue }
    }
    public var dropoutDraws: SeededGenerator? {
        get { network.dropoutDraws }
        set { network.dropoutDraws = newValue }
    }
    public var namedVariables: [(name: String, variable: Variable)] { network.namedVariables }

    public func forecastSequence(_ inputs: Variable) throws -> Variable {
        let s = inputs.shape
        guard s.count == 5, s[1] == inputFrames, s[2] == 1 else {
            throw TensorError.invalidShape(operation: "RecursiveUNet", shape: s, expected: "[B, \(inputFrames), 1, H, W]")
        }
        let frames = try inputs.reshaped([s[0], s[1], s[3], s[4]])
        return try network.forecast(frames, steps: outputFrames).reshaped([s[0], outputFrames, 1, s[3], s[4]])
    }

    public func gridProblem(height: Int, width: Int) -> ModelError? {
        let scale = 1 << network.config.depth
        return height % scale == 0 && width % scale == 0 ? nil
            : .gridMismatch(height: height, width: width, detail: "a U-Net of depth \(network.config.depth) needs height and width divisible by \(scale)")
    }

}
