/// Probability matching by the empirical CDF (pySTEPS's `nonparam_match_empirical_cdf`): the
/// forecast keeps its ranks and takes the observed field's values, so that its distribution is the
/// observation's. Pixels at the forecast's minimum take the observation's minimum; when the
/// observation is wetter (more pixels above its minimum) than the forecast, its values below the
/// percentile matching the forecast's wet-area ratio are set to its minimum first.
public enum ProbabilityMatching {
    /// `forecast` matched to `target` (same size; NaN in the target read as its minimum); nil when
    /// the sizes differ or the forecast has no finite value.
    public static func matchEmpiricalCDF(_ forecast: [Float], to target: [Float]) -> [Float]? {
        let n = forecast.count
        guard n == target.count, n > 0, n < Int(UInt32.max), forecast.allSatisfy(\.isFinite), let zero = forecast.min() else { return nil }
        let targetZero = target.filter { !$0.isNaN }.min() ?? zero
        var reference = target.map { $0.isNaN ? targetZero : $0 }
        reference.sort()
        let forecastWet = forecast.reduce(0) { $0 + ($1 > zero ? 1 : 0) }
        let targetWet = reference.reduce(0) { $0 + ($1 > targetZero ? 1 : 0) }
        if targetWet > forecastWet {
            // Below the percentile: no rain (the minimum), which leaves the sorted order as it is.
            let percentile = Self.percentile(sorted: reference, 100 * (1 - Double(forecastWet) / Double(n)))
            for i in reference.indices where reference[i] < percentile { reference[i] = targetZero }
        }
        // Ranks of the forecast, ties in index order (as numpy's argsort gives them for the values
        // that matter): sorting keys of (order-preserving bits of the value, index).
        var keys = forecast.enumerated().map { i, v -> UInt64 in
            let bits = v.bitPattern
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            return UInt64(ordered) << 32 | UInt64(i)
        }
        keys.sort()
        var output = [Float](repeating: 0, count: n)
        for (rank, key) in keys.enumerated() {
            let i = Int(truncatingIfNeeded: key & 0xFFFF_FFFF)
            output[i] = forecast[i] == zero ? targetZero : reference[rank]
        }
        return output
    }

    /// numpy's default (linear) percentile of sorted values, `q` in 0...100.
    static func percentile(sorted: [Float], _ q: Double) -> Float {
        let position = q / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
        let t = Float(position - Double(low))
        return sorted[low] + (sorted[high] - sorted[low]) * t
    }
}
