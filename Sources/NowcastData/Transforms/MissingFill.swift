/// The one rule for missing values (NaN) going into a model, which takes no NaN: a missing input
/// takes the value no rain has in model units (0 in the source's units sent through the transform
/// chain, e.g. the dBR floor), since a radar's missing cells are mostly beyond its range, where no
/// rain is the least surprising guess. Targets are never filled: losses and scores leave them out.
public struct MissingFill: Equatable, Sendable {
    /// The value a missing input takes, in model units.
    public let value: Float

    public init(value: Float) { self.value = value }

    /// The fill of a store or model transformed by `transforms`: no rain's image, or 0 where the
    /// chain has none (a step undefined at 0).
    public init(transforms: TransformChain) {
        var zero: [Float] = [0]
        zero.withUnsafeMutableBufferPointer { transforms.forward($0) }
        value = zero[0].isFinite ? zero[0] : 0
    }

    /// `values` with every NaN replaced by `value`.
    public func filled(_ values: [Float]) -> [Float] {
        values.map { $0.isNaN ? value : $0 }
    }
}
