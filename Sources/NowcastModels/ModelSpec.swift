import NowcastNN
import NowcastPhysics

/// Which model to build and its sizes, as a training config names it (the frame counts come from
/// the training set). Every key is optional when decoding; the defaults are the reference ConvLSTM.
public struct ModelSpec: Codable, Equatable, Sendable {
    /// The architecture.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case convlstm, convgru, unet, hybrid
    }

    /// The architecture.
    public var type: Kind = .convlstm
    /// Recurrent models: hidden channels per stacked cell.
    public var hidden: [Int] = [32, 32]
    /// Recurrent models: convolution kernel size (odd).
    public var kernel: Int = 3
    /// U-Net (and the hybrid model's networks): channels of the first level (doubling per level).
    public var base: Int = 16
    /// U-Net (and the hybrid model's networks): levels of pooling.
    public var depth: Int = 3
    /// U-Net: how the decoder upsamples.
    public var upsampling: UpsamplingMode = .nearest
    /// Dropout rate at the input of the output head (0: none): applied in training, and at forecast
    /// time by MC-dropout ensembles (`SequenceModel.dropoutDraws`).
    public var dropout: Float = 0
    /// Hybrid: the evolution equation of q, its trainable coefficients with initial values, the
    /// upwind order, the boundary, the time scheme and the largest motion in pixels per frame.
    public var equation = HybridConfig.defaultEquation
    public var coefficients: [String: Float] = [:]
    public var upwindOrder = 1
    public var boundary = "zero-gradient"
    public var scheme = TimeIntegrator.Scheme.rk2
    public var maxSpeed: Float = 4
    /// Hybrid: where the motion comes from, and how it moves the rain.
    public var motion = HybridMotion.network
    public var advection = HybridAdvection.finiteDifferences
    /// Hybrid: the neural terms' networks (a ConvLSTM term takes `hidden`).
    public var termNetwork = HybridTermNetwork.unet

    public init(type: Kind = .convlstm, hidden: [Int] = [32, 32], kernel: Int = 3, base: Int = 16, depth: Int = 3,
                upsampling: UpsamplingMode = .nearest, dropout: Float = 0) {
        (self.type, self.hidden, self.kernel, self.base, self.depth, self.upsampling) = (type, hidden, kernel, base, depth, upsampling)
        self.dropout = dropout
    }

    /// The keys a config's `model` section may hold.
    public static let keys: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case type, hidden, kernel, base, depth, upsampling, dropout, equation, coefficients, scheme
        case upwindOrder = "upwind_order", boundary, maxSpeed = "max_speed", motion, advection, termNetwork = "term_network"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelSpec()
        self.init(type: try c.decodeIfPresent(Kind.self, forKey: .type) ?? d.type,
                  hidden: try c.decodeIfPresent([Int].self, forKey: .hidden) ?? d.hidden,
                  kernel: try c.decodeIfPresent(Int.self, forKey: .kernel) ?? d.kernel,
                  base: try c.decodeIfPresent(Int.self, forKey: .base) ?? d.base,
                  depth: try c.decodeIfPresent(Int.self, forKey: .depth) ?? d.depth,
                  upsampling: try c.decodeIfPresent(UpsamplingMode.self, forKey: .upsampling) ?? d.upsampling,
                  dropout: try c.decodeIfPresent(Float.self, forKey: .dropout) ?? d.dropout)
        equation = try c.decodeIfPresent(String.self, forKey: .equation) ?? d.equation
        coefficients = try c.decodeIfPresent([String: Float].self, forKey: .coefficients) ?? d.coefficients
        upwindOrder = try c.decodeIfPresent(Int.self, forKey: .upwindOrder) ?? d.upwindOrder
        boundary = try c.decodeIfPresent(String.self, forKey: .boundary) ?? d.boundary
        scheme = try c.decodeIfPresent(TimeIntegrator.Scheme.self, forKey: .scheme) ?? d.scheme
        maxSpeed = try c.decodeIfPresent(Float.self, forKey: .maxSpeed) ?? d.maxSpeed
        motion = try c.decodeIfPresent(HybridMotion.self, forKey: .motion) ?? d.motion
        advection = try c.decodeIfPresent(HybridAdvection.self, forKey: .advection) ?? d.advection
        termNetwork = try c.decodeIfPresent(HybridTermNetwork.self, forKey: .termNetwork) ?? d.termNetwork
    }

    /// Encodes every key; the hybrid ones only for a hybrid model (older manifests stay as they were).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(hidden, forKey: .hidden)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(base, forKey: .base)
        try c.encode(depth, forKey: .depth)
        try c.encode(upsampling, forKey: .upsampling)
        try c.encode(dropout, forKey: .dropout)
        guard type == .hybrid else { return }
        try c.encode(equation, forKey: .equation)
        try c.encode(coefficients, forKey: .coefficients)
        try c.encode(upwindOrder, forKey: .upwindOrder)
        try c.encode(boundary, forKey: .boundary)
        try c.encode(scheme, forKey: .scheme)
        try c.encode(maxSpeed, forKey: .maxSpeed)
        try c.encode(motion, forKey: .motion)
        try c.encode(advection, forKey: .advection)
        try c.encode(termNetwork, forKey: .termNetwork)
    }

    /// Why these sizes cannot make a model, naming the key, or nil when they can.
    public var problem: ModelError? {
        if !(dropout >= 0 && dropout < 1) { return .invalidSetting(key: "model.dropout", expected: "a rate from 0 up to (not including) 1", found: "\(dropout)") }
        switch type {
        case .convlstm, .convgru:
            if hidden.isEmpty || hidden.contains(where: { $0 < 1 }) {
                return .invalidSetting(key: "model.hidden", expected: "a list of positive channel counts", found: "\(hidden)")
            }
            if kernel < 1 || kernel % 2 == 0 { return .invalidSetting(key: "model.kernel", expected: "an odd size of at least 1", found: "\(kernel)") }
        case .unet, .hybrid:
            if base < 1 { return .invalidSetting(key: "model.base", expected: "at least 1", found: "\(base)") }
            if !(1...6).contains(depth) { return .invalidSetting(key: "model.depth", expected: "1 to 6", found: "\(depth)") }
            if type == .hybrid {
                do { _ = try HybridNowcaster.checked(hybrid(inputFrames: 1, outputFrames: 1)) } catch let error as ModelError { return error } catch { return .invalidSetting(key: "model", expected: "a hybrid model", found: "\(error)") }
            }
        }
        return nil
    }

    /// A freshly initialised model (seeded) taking `inputFrames` frames to `outputFrames`.
    public func make(inputFrames: Int, outputFrames: Int, seed: UInt64) throws -> SequenceModel {
        if let problem { throw problem }
        switch type {
        case .convlstm, .convgru:
            let config = RecurrentConfig(cell: type == .convlstm ? .lstm : .gru, channels: 1, hidden: hidden, kernel: kernel,
                                         inputFrames: inputFrames, outputFrames: outputFrames)
            let model = try RecurrentNowcaster(config: config, seed: seed)
            model.dropoutRate = dropout
            return model
        case .unet:
            let config = UNetConfig(inputChannels: inputFrames, outputChannels: 1, base: base, depth: depth, upsampling: upsampling)
            let network = try UNet(config: config, seed: seed)
            network.dropoutRate = dropout
            return RecursiveUNet(network: network, steps: outputFrames)
        case .hybrid:
            let model = try HybridNowcaster(config: hybrid(inputFrames: inputFrames, outputFrames: outputFrames), seed: seed)
            model.dropoutRate = dropout
            return model
        }
    }

    /// The hybrid model's configuration for these frame counts.
    func hybrid(inputFrames: Int, outputFrames: Int) -> HybridConfig {
        HybridConfig(inputFrames: inputFrames, outputFrames: outputFrames, equation: equation, coefficients: coefficients, upwindOrder: upwindOrder,
                     boundary: boundary, scheme: scheme, maxSpeed: maxSpeed, base: base, depth: depth, motion: motion, advection: advection,
                     termNetwork: termNetwork, termHidden: hidden)
    }

    /// One line for reports, e.g. `convlstm hidden [32, 32] kernel 3`.
    public var summary: String {
        switch type {
        case .convlstm, .convgru: return "\(type.rawValue) hidden \(hidden) kernel \(kernel)" + (dropout > 0 ? " dropout \(dropout)" : "")
        case .unet: return "unet base \(base) depth \(depth) \(upsampling.rawValue) upsampling" + (dropout > 0 ? " dropout \(dropout)" : "")
        case .hybrid: return "hybrid '\(equation)' (\(motion.rawValue) motion up to \(maxSpeed) px/frame, \(advection.rawValue) advection, \(scheme.rawValue), upwind \(upwindOrder), \(boundary); "
            + (termNetwork == .convlstm ? "convlstm terms hidden \(hidden), " : "") + "networks base \(base) depth \(depth))"
        }
    }
}
