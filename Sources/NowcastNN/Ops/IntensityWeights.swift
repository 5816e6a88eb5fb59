import Foundation

/// Loss weights by target intensity, as the balanced losses of the HKO-7 benchmark (Shi et al. 2017):
/// weight `weights[k]` where the target (in physical units, e.g. mm/h) lies in
/// `[thresholds[k-1], thresholds[k])`.
public struct IntensityWeights: Codable, Equatable, Sendable {
    /// Increasing thresholds.
    public var thresholds: [Float]
    /// One more weight than thresholds.
    public var weights: [Float]

    /// HKO-7's rain-rate weights: 1 below 0.5 mm/h, then 2, 5, 10, 30 and 50 from 30 mm/h.
    public static let hko7 = IntensityWeights(thresholds: [0.5, 2, 5, 10, 30], weights: [1, 2, 5, 10, 30, 50])

    public init(thresholds: [Float], weights: [Float]) {
        self.thresholds = thresholds
        self.weights = weights
    }

    /// The weight of each element of `target` (physical units; NaN gets weight 0).
    public func weights(for target: Tensor) throws -> Tensor {
        guard weights.count == thresholds.count + 1, zip(thresholds, thresholds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw TensorError.invalidShape(operation: "IntensityWeights", shape: [thresholds.count, weights.count],
                                           expected: "increasing thresholds and one more weight than thresholds")
        }
        return target.map { value in
            guard !value.isNaN else { return 0 }
            var k = 0
            while k < thresholds.count, value >= thresholds[k] { k += 1 }
            return weights[k]
        }
    }
}
