import Foundation

/// Rain rate on a decibel scale as pySTEPS's `dB_transform`: 10 log10(R) at and above `threshold`,
/// `zero` below it; NaN stays NaN.
public struct DecibelScale: Codable, Equatable, Sendable {
    public var threshold: Float
    public var zero: Float

    public init(threshold: Float = 0.1, zero: Float = -15) { (self.threshold, self.zero) = (threshold, zero) }

    @inlinable
    public func forward(_ value: Float) -> Float {
        value.isNaN ? value : value >= threshold ? 10 * log10f(value) : zero
    }
}
