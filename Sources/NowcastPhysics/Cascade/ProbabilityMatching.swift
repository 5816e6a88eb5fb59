/// Probability matching by the empirical CDF (pySTEPS's `nonparam_match_empirical_cdf`): the
/// forecast keeps its ranks and takes the observed field's values, so that its distribution is the
/// observation's. Pixels at the forecast's minimum take the observation's minimum; when the
/// observation is wetter (more pixels above its minimum) than the forecast, its values below the
/// percentile matching the forecast's wet-area ratio are set to its minimum first. The target is
/// sorted once, since STEPS matches every step of every member to the same observation.
public struct ProbabilityMatching: Sendable {
    /// The target's values, NaN read as its minimum, in ascending order.
    private let sorted: [Float]
    private let zero: Float
    private let wet: Int

    /// Matching to `target`; nil for a target without any value.
    public init?(target: [Float]) {
        guard let zero = target.filter({ !$0.isNaN }).min() else { return nil }
        sorted = target.map { $0.isNaN ? zero : $0 }.sorted()
        self.zero = zero
        wet = sorted.reduce(0) { $0 + ($1 > zero ? 1 : 0) }
    }

    /// `forecast` with the target's distribution; nil when the sizes differ or a value is not finite.
    public func match(_ forecast: [Float]) -> [Float]? {
        let n = forecast.count
        guard n == sorted.count, n > 0, n < Int(UInt32.max), forecast.allSatisfy(\.isFinite), let low = forecast.min() else { return nil }
        let reference = adjusted(forecastWet: forecast.reduce(0) { $0 + ($1 > low ? 1 : 0) })
        let order = Self.ascendingOrder(forecast)
        var output = [Float](repeating: 0, count: n)
        for (rank, i) in order.enumerated() {
            let i = Int(i)
            output[i] = forecast[i] == low ? zero : reference[rank]
        }
        return output
    }

    /// Matching by the mean (pySTEPS's `probmatching_method="mean"`): the values of `field` at or
    /// above `threshold` shifted together so that their mean is `mean`; nothing when none is.
    public static func matchWetMean(_ field: inout [Float], threshold: Float, mean: Float) {
        let wet = field.indices.filter { field[$0] >= threshold }
        guard !wet.isEmpty else { return }
        let shift = mean - Float(wet.reduce(0.0) { $0 + Double(field[$1]) } / Double(wet.count))
        for i in wet { field[i] += shift }
    }

    /// The sorted target, its values below the percentile of the forecast's wet-area ratio set to
    /// its minimum when it is wetter than the forecast (which keeps it sorted).
    private func adjusted(forecastWet: Int) -> [Float] {
        guard wet > forecastWet else { return sorted }
        let percentile = Self.percentile(sorted: sorted, 100 * (1 - Double(forecastWet) / Double(sorted.count)))
        return sorted.map { $0 < percentile ? zero : $0 }
    }

    /// Indices of `values` in ascending order, ties in index order (as numpy's argsort gives them
    /// here): a stable two-pass radix sort on order-preserving 32-bit keys.
    public static func ascendingOrder(_ values: [Float]) -> [UInt32] {
        let keys = values.map { v -> UInt32 in
            let bits = v.bitPattern
            return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        }
        var order = [UInt32](repeating: 0, count: keys.count), next = order
        for i in order.indices { order[i] = UInt32(i) }
        for shift in [0, 16] as [UInt32] {
            var counts = [Int](repeating: 0, count: 65_537)
            for key in keys { counts[Int((key >> shift) & 0xFFFF) + 1] += 1 }
            for d in 1..<counts.count { counts[d] += counts[d - 1] }
            for i in order {
                let digit = Int((keys[Int(i)] >> shift) & 0xFFFF)
                next[counts[digit]] = i
                counts[digit] += 1
            }
            swap(&order, &next)
        }
        return order
    }

    /// The plain definition for tests: argsort by comparison, ties in index order.
    public static func referenceOrder(_ values: [Float]) -> [UInt32] {
        values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }.map(UInt32.init)
    }

    /// `forecast` matched to `target` (same size; NaN in the target read as its minimum).
    public static func matchEmpiricalCDF(_ forecast: [Float], to target: [Float]) -> [Float]? {
        ProbabilityMatching(target: target)?.match(forecast)
    }

    /// numpy's default (linear) percentile of sorted values, `q` in 0...100.
    static func percentile(sorted: [Float], _ q: Double) -> Float {
        let position = q / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
        let t = Float(position - Double(low))
        return sorted[low] + (sorted[high] - sorted[low]) * t
    }
}
