import NowcastNN

/// Which model to build and its sizes, as a training config names it (the frame counts come from
/// the training set). Every key is optional when decoding; the defaults are the reference ConvLSTM.
public struct ModelSpec: Codable, Equatable, Sendable {
    /// The architecture.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case convlstm, convgru, unet
    }

    /// The architecture.
    public var type: Kind = .convlstm
    /// Recurrent models: hidden channels per stacked cell.
    public var hidden: [Int] = [32, 32]
    /// Recurrent models: convolution kernel size (odd).
    public var kernel: Int = 3
    /// U-Net: channels of the first level (doubling per level).
    public var base: Int = 16
    /// U-Net: levels of pooling.
    public var depth: Int = 3
    /// U-Net: how the decoder upsamples.
    public var upsampling: UpsamplingMode = .nearest
    /// Dropout rate at the input of the output head (0: none): applied in training, and at forecast
    /// time by MC-dropout ensembles (`SequenceModel.dropoutDraws`).
    public var dropout: Float = 0

    public init(type: Kind = .convlstm, hidden: [Int] = [32, 32], kernel: Int = 3, base: Int = 16, depth: Int = 3,
                upsampling: UpsamplingMode = .nearest, dropout: Float = 0) {
        (self.type, self.hidden, self.kernel, self.base, self.depth, self.upsampling) = (type, hidden, kernel, base, depth, upsampling)
        self.dropout = dropout
    }

    /// The keys a config's `model` section may hold.
    public static let keys: Set<String> = ["type", "hidden", "kernel", "base", "depth", "upsampling", "dropout"]

    private enum CodingKeys: String, CodingKey { case type, hidden, kernel, base, depth, upsampling, dropout }

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
        case .unet:
            if base < 1 { return .invalidSetting(key: "model.base", expected: "at least 1", found: "\(base)") }
            if !(1...6).contains(depth) { return .invalidSetting(key: "model.depth", expected: "1 to 6", found: "\(depth)") }
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
        }
    }

    /// One line for reports, e.g. `convlstm hidden [32, 32] kernel 3`.
    public var summary: String {
        switch type {
        case .convlstm, .convgru: return "\(type.rawValue) hidden \(hidden) kernel \(kernel)" + (dropout > 0 ? " dropout \(dropout)" : "")
        case .unet: return "unet base \(base) depth \(depth) \(upsampling.rawValue) upsampling" + (dropout > 0 ? " dropout \(dropout)" : "")
        }
    }
}
