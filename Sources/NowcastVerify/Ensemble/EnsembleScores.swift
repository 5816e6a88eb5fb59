/// The continuous ranked probability score of an ensemble per lead time, fair and standard, and
/// the rank histogram of the observations among the members. Pixels where the observation or any
/// member is missing are left out. CRPS per pixel, with members x sorted and observation y:
/// mean |x_i - y| - S / (2 M^2) (standard) or - S / (2 M (M - 1)) (fair, unbiased for the
/// ensemble's size), where S = sum over pairs |x_i - x_j| = 2 sum_i (2 i - M + 1) x_(i) is taken
/// from the sorted members in O(M log M). In the histogram an observation equal to k members is
/// shared evenly among the k + 1 ranks it could take. The spread-skill ratio is the root of the mean
/// ensemble variance (unbiased, M - 1) over the RMSE of the ensemble mean (near 1 for a reliable
/// ensemble, below 1 when it is underdispersive).
public struct EnsembleScores: Codable, Equatable, Sendable {
    /// Sums of one lead time.
    public struct Sums: Codable, Equatable, Sendable {
        public var pixels = 0.0, standard = 0.0, fair = 0.0, variance = 0.0, meanSquaredError = 0.0
        /// Observations per rank, M + 1 bins.
        public var ranks: [Double]

        public var crps: Double { pixels > 0 ? standard / pixels : .nan }
        public var fairCRPS: Double { pixels > 0 ? fair / pixels : .nan }
        public var spread: Double { pixels > 0 ? (variance / pixels).squareRoot() : .nan }
        public var meanRMSE: Double { pixels > 0 ? (meanSquaredError / pixels).squareRoot() : .nan }
        public var spreadSkillRatio: Double { meanRMSE > 0 ? spread / meanRMSE : .nan }
        /// The histogram normalised to sum to 1.
        public var rankFrequencies: [Double] { let n = ranks.reduce(0, +); return ranks.map { n > 0 ? $0 / n : .nan } }
    }

    public let members: Int
    public private(set) var leads: [Sums]

    public init(leadTimes: Int, members: Int) {
        self.members = members
        leads = Array(repeating: Sums(ranks: [Double](repeating: 0, count: members + 1)), count: leadTimes)
    }

    /// Adds one ensemble (`members` fields) against its observation at lead `lead`.
    public mutating func add(ensemble: [[Float]], observed: [Float], lead: Int) throws {
        try ScoreError.check("EnsembleScores.add", ensemble.count == members && ensemble.allSatisfy { $0.count == observed.count }
                                 && leads.indices.contains(lead) && members >= 2,
                             "\(members) (at least 2) members of \(observed.count) values at a lead below \(leads.count)",
                             "\(ensemble.count) of \(ensemble.map(\.count)) at lead \(lead)")
        add(pixelMajor: pixelMajor(ensemble), observed: observed, lead: lead)
    }

    /// `add` on members already interleaved pixel by pixel (checked by the caller).
    mutating func add(pixelMajor packed: [Float], observed: [Float], lead: Int) {
        var sums = leads[lead]
        var x = [Double](repeating: 0, count: members)
        let m = Double(members)
        // Pixels where every member equals the observation (most often: dry everywhere) add nothing
        // but a count and an even share of every rank.
        var agreeing = 0.0
        packed.withUnsafeBufferPointer { values in
        pixel: for i in observed.indices {
            let observation = observed[i]
            guard !observation.isNaN else { continue }
            let row = i * members
            var same = true
            for k in 0..<members {
                let v = values[row + k]
                if v.isNaN { continue pixel }
                if v != observation { same = false }
            }
            if same {
                agreeing += 1
                continue
            }
            let y = Double(observation)
            for k in 0..<members { x[k] = Double(values[row + k]) }
            Self.insertionSort(&x)
            var absolute = 0.0, pairs = 0.0, below = 0, equal = 0
            let mean = x.reduce(0, +) / m
            var squares = 0.0
            for (k, v) in x.enumerated() {
                squares += (v - mean) * (v - mean)
                absolute += abs(v - y)
                pairs += (2 * Double(k) - m + 1) * v
                if v < y { below += 1 } else if v == y { equal += 1 }
            }
            pairs *= 2
            sums.pixels += 1
            sums.variance += squares / (m - 1)
            sums.meanSquaredError += (mean - y) * (mean - y)
            sums.standard += absolute / m - pairs / (2 * m * m)
            sums.fair += absolute / m - pairs / (2 * m * (m - 1))
            let share = 1 / Double(equal + 1)
            for r in below...(below + equal) { sums.ranks[r] += share }
        }
        }
        sums.pixels += agreeing
        let share = agreeing / Double(members + 1)
        for r in sums.ranks.indices { sums.ranks[r] += share }
        leads[lead] = sums
    }

    /// Sorts a few values in place; faster than the general sort for ensemble sizes.
    @inline(__always)
    static func insertionSort(_ x: inout [Double]) {
        for i in 1..<x.count {
            let v = x[i]
            var j = i - 1
            while j >= 0, x[j] > v { x[j + 1] = x[j]; j -= 1 }
            x[j + 1] = v
        }
    }

    public mutating func merge(_ other: EnsembleScores) throws {
        try ScoreError.check("EnsembleScores.merge", other.members == members && other.leads.count == leads.count,
                             "\(members) members, \(leads.count) lead times", "\(other.members), \(other.leads.count)")
        for t in leads.indices {
            leads[t].pixels += other.leads[t].pixels
            leads[t].standard += other.leads[t].standard
            leads[t].fair += other.leads[t].fair
            leads[t].variance += other.leads[t].variance
            leads[t].meanSquaredError += other.leads[t].meanSquaredError
            for r in leads[t].ranks.indices { leads[t].ranks[r] += other.leads[t].ranks[r] }
        }
    }

    /// The plain double-sum definition of one pixel's CRPS, for tests.
    public static func referenceCRPS(_ members: [Double], observed y: Double, fair: Bool) -> Double {
        let m = Double(members.count)
        let absolute = members.reduce(0) { $0 + abs($1 - y) } / m
        var pairs = 0.0
        for a in members { for b in members { pairs += abs(a - b) } }
        return absolute - pairs / (fair ? 2 * m * (m - 1) : 2 * m * m)
    }
}
