/// Count, mean, variance (Welford), minimum and maximum of a stream of values, NaN-aware (NaN is
/// skipped); partial statistics of separate pieces merge exactly (Chan et al.).
public struct RunningStatistics: Codable, Equatable, Sendable {
    /// Number of valid values seen.
    public private(set) var count: Int = 0
    /// Mean of the valid values.
    public private(set) var mean: Double = 0
    /// Sum of squared deviations from the mean.
    public private(set) var sumOfSquares: Double = 0
    /// Smallest valid value (+inf when none).
    public private(set) var minimum: Double = .infinity
    /// Largest valid value (-inf when none).
    public private(set) var maximum: Double = -.infinity

    public init() {}

    /// Population variance (0 with fewer than two values).
    public var variance: Double { count > 1 ? sumOfSquares / Double(count) : 0 }
    /// Population standard deviation.
    public var standardDeviation: Double { variance.squareRoot() }

    /// Adds the valid values of a buffer. A block is summarised first, then merged, which is both
    /// faster and more accurate than value-by-value updates.
    public mutating func add<C: Collection>(_ values: C) where C.Element == Float {
        var n = 0, sum = 0.0, low = Float.infinity, high = -Float.infinity
        for v in values where !v.isNaN {
            n += 1
            sum += Double(v)
            if v < low { low = v }
            if v > high { high = v }
        }
        guard n > 0 else { return }
        let blockMean = sum / Double(n)
        var squares = 0.0
        for v in values where !v.isNaN {
            let d = Double(v) - blockMean
            squares += d * d
        }
        var block = RunningStatistics()
        block.count = n
        block.mean = blockMean
        block.sumOfSquares = squares
        block.minimum = Double(low)
        block.maximum = Double(high)
        merge(block)
    }

    /// Merges statistics of another piece of the stream.
    public mutating func merge(_ other: RunningStatistics) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let total = count + other.count
        let delta = other.mean - mean
        mean += delta * Double(other.count) / Double(total)
        sumOfSquares += other.sumOfSquares + delta * delta * Double(count) * Double(other.count) / Double(total)
        count = total
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }

    /// The plain two-pass reference, for tests.
    public static func reference(_ values: [Float]) -> (count: Int, mean: Double, variance: Double) {
        let valid = values.filter { !$0.isNaN }.map(Double.init)
        guard !valid.isEmpty else { return (0, 0, 0) }
        let mean = valid.reduce(0, +) / Double(valid.count)
        return (valid.count, mean, valid.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(valid.count))
    }
}
