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
        guard n == target.count, n > 0, forecast.allSatisfy(\.isFinite), let zero = forecast.min() else { return nil }
        let targetZero = target.filter { !$0.isNaN }.min() ?? zero
        var reference = target.map { $0.isNaN ? targetZero : $0 }
        let forecastWet = forecast.reduce(0) { $0 + ($1 > zero ? 1 : 0) }
        let targetWet = reference.reduce(0) { $0 + ($1 > targetZero ? 1 : 0) }
        if targetWet > forecastWet {
            let percentile = Self.percentile(reference, 100 * (1 - Double(forecastWet) / Double(n)))
            for i in reference.indices where reference[i] < percentile { reference[i] = targetZero }
        }
        reference.sort()
        // Stable ranks, as numpy's argsort of the forecast gives them for distinct values.
        let order = (0..<n).sorted { forecast[$0] < forecast[$1] || (forecast[$0] == forecast[$1] && $0 < $1) }
        var output = [Float](repeating: 0, count: n)
        for (rank, i) in order.enumerated() { output[i] = forecast[i] == zero ? targetZero : reference[rank] }
        return output
    }

    /// numpy's default (linear) percentile of `values`, `q` in 0...100.
    static func percentile(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted()
        let position = q / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
        let t = Float(position - Double(low))
        return sorted[low] + (sorted[high] - sorted[low]) * t
    }
}
