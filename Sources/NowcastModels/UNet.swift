import NowcastCore
import NowcastNN

/// How a U-Net's decoder doubles the resolution.
public enum UpsamplingMode: String, Codable, Sendable {
    /// Nearest neighbour (RainNet's `UpSampling2D`, the reference's default).
    case nearest
    /// Bilinear, PyTorch's `align_corners=False`.
    case bilinear
}

/// Configuration of the RainNet-like U-Net of `../shared/bench/models.py`: frames as channels, `depth`
/// levels of two 3x3 convolutions + ReLU with 2x2 max pooling, a bottleneck, upsampling with skip
/// concatenation, and a 1x1 linear head. Every key is optional when decoding.
public struct UNetConfig: Codable, Equatable, Sendable {
    public var inputChannels: Int = 4
    public var outputChannels: Int = 1
    public var base: Int = 16
    public var depth: Int = 3
    public var upsampling: UpsamplingMode = .nearest

    public init(inputChannels: Int = 4, outputChannels: Int = 1, base: Int = 16, depth: Int = 3, upsampling: UpsamplingMode = .nearest) {
        (self.inputChannels, self.outputChannels, self.base, self.depth, self.upsampling) = (inputChannels, outputChannels, base, depth, upsampling)
    }

    private enum CodingKeys: String, CodingKey { case inputChannels, outputChannels, base, depth, upsampling }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = UNetConfig()
        self.init(inputChannels: try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? d.inputChannels,
                  outputChannels: try c.decodeIfPresent(Int.self, forKey: .outputChannels) ?? d.outputChannels,
                  base: try c.decodeIfPresent(Int.self, forKey: .base) ?? d.base,
                  depth: try c.decodeIfPresent(Int.self, forKey: .depth) ?? d.depth,
                  upsampling: try c.decodeIfPresent(UpsamplingMode.self, forKey: .upsampling) ?? d.upsampling)
    }
}

/// The U-Net: `[B, C_in, H, W]` in (H and W divisible by 2^depth), `[B, C_out, H, W]` out.
public final class UNet: NamedParameters {
    /// Dropout of the last decoder block's output before the head, while `dropoutDraws` is set.
    public var dropoutRate: Float = 0
    public var dropoutDraws: SeededGenerator?
    public let config: UNetConfig
    private var layers: [(name: String, weight: Variable, bias: Variable)] = []

    /// A model with seeded He weights (ReLU layers) and zero biases.
    public init(config: UNetConfig, seed: UInt64) throws {
        guard config.inputChannels >= 1, config.outputChannels >= 1, config.base >= 1, config.depth >= 1 else {
            throw TensorError.invalidShape(operation: "UNetConfig", shape: [config.inputChannels, config.base, config.depth], expected: "positive sizes")
        }
        self.config = config
        var random = SeededGenerator(seed: seed)
        func conv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int) {
            layers.append((name, Variable(Initializer.heNormal([cout, cin, k, k], fanIn: cin * k * k, using: &random), requiresGrad: true),
                           Variable(Tensor(shape: [cout]), requiresGrad: true)))
        }
        let channels = (0...config.depth).map { config.base << $0 }
        var cin = config.inputChannels
        for (level, c) in channels.dropLast().enumerated() {
            conv("enc.\(level).0", cin, c, 3)
            conv("enc.\(level).1", c, c, 3)
            cin = c
        }
        conv("bottleneck.0", cin, channels[config.depth], 3)
        conv("bottleneck.1", channels[config.depth], channels[config.depth], 3)
        cin = channels[config.depth]
        for (level, c) in channels.dropLast().reversed().enumerated() {
            conv("dec.\(level).0", cin + c, c, 3)
            conv("dec.\(level).1", c, c, 3)
            cin = c
        }
        conv("head", cin, config.outputChannels, 1)
    }

    /// Named parameters in a fixed order (optimiser state and weight files follow it).
    public var namedVariables: [(name: String, variable: Variable)] {
        layers.flatMap { [("\($0.name).weight", $0.weight), ("\($0.name).bias", $0.bias)] }
    }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        let scale = 1 << config.depth
        guard x.shape.count == 4, x.shape[1] == config.inputChannels, x.shape[2] % scale == 0, x.shape[3] % scale == 0 else {
            throw TensorError.invalidShape(operation: "UNet", shape: x.shape, expected: "[B, \(config.inputChannels), H, W] with H, W divisible by \(scale)")
        }
        var index = 0
        func block(_ input: Variable) throws -> Variable {
            var y = input
            for _ in 0..<2 {
                y = try y.conv2d(weight: layers[index].weight, bias: layers[index].bias, padding: 1, activation: .relu)
                index += 1
            }
            return y
        }
        var y = x
        var skips: [Variable] = []
        for _ in 0..<config.depth {
            y = try block(y)
            skips.append(y)
            y = try y.maxPool2x2()
        }
        y = try block(y)
        for skip in skips.reversed() {
            let upsampled = config.upsampling == .nearest ? try y.upsampleNearest2x() : try y.upsampleBilinear(scale: 2)
            y = try block(try Variable.concatChannels([upsampled, skip]))
        }
        if dropoutRate > 0, var draws = dropoutDraws {
            y = try y.dropout(rate: dropoutRate, using: &draws)
            dropoutDraws = draws
        }
        return try y.conv2d(weight: layers[index].weight, bias: layers[index].bias)
    }

    /// Recursive multi-step forecast (as RainNet runs): predicts the next frame from the
    /// `inputChannels` frames of `x`, then slides the window by one prediction and repeats. `x` is
    /// `[B, C_in, H, W]`, the result `[B, steps * C_out, H, W]`; `C_out` must divide `C_in`.
    public func forecast(_ x: Variable, steps: Int) throws -> Variable {
        guard steps >= 1, config.inputChannels % config.outputChannels == 0, x.shape.count == 4 else {
            throw TensorError.invalidShape(operation: "UNet.forecast(steps: \(steps))", shape: x.shape,
                                           expected: "[B, \(config.inputChannels), H, W], steps >= 1, output channels dividing input channels")
        }
        var window = x
        var outputs: [Variable] = []
        for _ in 0..<steps {
            let next = try self(window)
            outputs.append(next)
            window = config.inputChannels == config.outputChannels ? next
                : try Variable.concatChannels([try window.sliceChannels(config.outputChannels..<config.inputChannels), next])
        }
        return try Variable.concatChannels(outputs)
    }

    /// Multiply-accumulates of the convolutions for one sample.
    public func convolutionMACs(height: Int, width: Int) -> Int {
        var total = 0, h = height, w = width, cin = config.inputChannels
        let channels = (0...config.depth).map { config.base << $0 }
        for c in channels.dropLast() { total += (cin * c + c * c) * 9 * h * w; cin = c; h /= 2; w /= 2 }
        total += (cin * channels[config.depth] + channels[config.depth] * channels[config.depth]) * 9 * h * w
        cin = channels[config.depth]
        for c in channels.dropLast().reversed() { h *= 2; w *= 2; total += ((cin + c) * c + c * c) * 9 * h * w; cin = c }
        return total + cin * config.outputChannels * h * w
    }
}
