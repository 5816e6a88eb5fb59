/// S-PROG's precipitation mask (pySTEPS's `compute_percentile_mask`): the value above which a
/// field covers the same share of the grid as the observed rain, so that the smooth cascade
/// forecast keeps the observed wet area.
public enum PercentileMask {
    /// The threshold at which `values` (finite) cover `wetAreaRatio` of the grid: the sorted value
    /// whose share of values at or above it is nearest to the ratio, moved to the last of its ties.
    public static func threshold(_ values: [Float], wetAreaRatio ratio: Double) -> Float? {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        let sorted = values.sorted()
        let n = Double(sorted.count)
        var best = 0
        for j in sorted.indices where abs((n - Double(j)) / n - ratio) < abs((n - Double(best)) / n - ratio) { best = j }
        if best + 1 < sorted.count, sorted[best] == sorted[best + 1] {
            best = sorted.lastIndex(of: sorted[best]) ?? best
        }
        return sorted[best]
    }
}
