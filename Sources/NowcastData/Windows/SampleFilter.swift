import Foundation

/// The filters applied to each sample's physical values, with the counts of what they rejected and
/// why: the first reason of each rejection, and the least-missing and wettest rejected samples, so
/// that an empty store can say what the samples had.
struct SampleFilter {
    let filters: WindowFilters
    let inputs: Int
    let frameCells: Int
    /// Per patch origin, the static-missing cells left out of the fractions (nil: none left out).
    let staticCells: [[Bool]]?

    /// True when `values` (frames of `frameCells` cells, inputs first) of the sample cut at patch
    /// origin `patch` pass; a rejection is counted under its first reason.
    func passes(_ values: [Float], patch: Int, counts: inout Manifest.Counts) -> Bool {
        let frames = values.count / frameCells
        let wetFrames: Range<Int>
        switch filters.wetFrames {
        case .inputs: wetFrames = 0..<inputs
        case .targets: wetFrames = inputs..<frames
        case .both: wetFrames = 0..<frames
        }
        let threshold = Float(filters.wetThreshold)
        let exempt = staticCells?[patch]
        let counted = exempt.map { $0.reduce(frameCells) { $0 - ($1 ? 1 : 0) } } ?? frameCells
        // One pass counts both: NaN compares false with the threshold, so it is never wet.
        var missing = 0, wet = 0
        values.withUnsafeBufferPointer { v in
            for t in 0..<frames {
                let inWet = wetFrames.contains(t)
                for cell in 0..<frameCells where !(exempt?[cell] ?? false) {
                    let x = v[t * frameCells + cell]
                    missing += x.isNaN ? 1 : 0
                    wet += inWet && x > threshold ? 1 : 0
                }
            }
        }
        let missingFraction = counted > 0 ? Double(missing) / Double(frames * counted) : 1
        if missingFraction > filters.maxMissingFraction {
            counts.rejectedMissing += 1
            counts.leastMissingRejected = min(counts.leastMissingRejected ?? 1, missingFraction)
            return false
        }
        let wetCells = wetFrames.count * counted
        let wetFraction = wetCells > 0 ? Double(wet) / Double(wetCells) : 0
        if filters.minWetFraction > 0, wetFraction < filters.minWetFraction {
            counts.rejectedDry += 1
            counts.wettestRejected = max(counts.wettestRejected ?? 0, wetFraction)
            return false
        }
        return true
    }

    /// Why no sample was kept, in words naming the settings: e.g. "all 111 samples were rejected
    /// for missing data: filters.max_missing_fraction is 0.05 and the least missing of them has 21 %".
    static func emptyStoreReason(_ counts: Manifest.Counts, _ filters: WindowFilters) -> String {
        func percent(_ value: Double?) -> String { String(format: "%.1f %%", 100 * (value ?? 0)) }
        var reasons: [String] = []
        if counts.rejectedMissing > 0 {
            reasons.append("\(counts.rejectedMissing) for missing data (filters.max_missing_fraction is \(filters.maxMissingFraction) "
                + "and the least missing of them has \(percent(counts.leastMissingRejected)))")
        }
        if counts.rejectedDry > 0 {
            reasons.append("\(counts.rejectedDry) as too dry (filters.min_wet_fraction is \(filters.minWetFraction) at wet_threshold "
                + "\(filters.wetThreshold), and the wettest of them has \(percent(counts.wettestRejected)))")
        }
        return "all \(counts.samplesExamined) samples were rejected: " + reasons.joined(separator: "; ") + "; no store was written"
    }
}
