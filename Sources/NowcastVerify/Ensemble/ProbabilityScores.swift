/// Scores of exceedance probabilities per lead time and threshold, from an ensemble (the share of
/// members above the threshold by `ScoreRules`) or a probability field: the Brier score with its
/// decomposition (Murphy 1973) into reliability, resolution and uncertainty, the reliability
/// diagram (mean forecast probability and observed frequency per probability bin, and the bin
/// counts: sharpness), and the ROC curve and area (hit and false alarm rates with the bins' lower
/// edges as decision thresholds, area by trapezoids). NaN observations are left out; a pixel whose
/// probability is NaN is left out too.
public struct ProbabilityScores: Codable, Equatable, Sendable {
    /// Sums of one (lead, threshold).
    public struct Sums: Codable, Equatable, Sendable {
        public var count = 0.0, brier = 0.0, events = 0.0
        /// Per probability bin: forecasts, their summed probabilities, observed events.
        public var binCounts: [Double], binProbabilities: [Double], binEvents: [Double]

        public init(bins: Int) {
            binCounts = [Double](repeating: 0, count: bins)
            (binProbabilities, binEvents) = (binCounts, binCounts)
        }

        /// Adds the sums of another (lead, threshold) with the same bins.
        public mutating func merge(_ o: Sums) {
            count += o.count; brier += o.brier; events += o.events
            for b in binCounts.indices where b < o.binCounts.count {
                binCounts[b] += o.binCounts[b]
                binProbabilities[b] += o.binProbabilities[b]
                binEvents[b] += o.binEvents[b]
            }
        }

        public var brierScore: Double { count > 0 ? brier / count : .nan }
        public var climatology: Double { count > 0 ? events / count : .nan }
        /// Murphy's terms from the bins: BS is close to reliability - resolution + uncertainty (the
        /// bins' spread of probabilities is the difference).
        public var reliability: Double {
            guard count > 0 else { return .nan }
            var sum = 0.0
            for k in binCounts.indices where binCounts[k] > 0 {
                let gap = binProbabilities[k] / binCounts[k] - binEvents[k] / binCounts[k]
                sum += binCounts[k] * gap * gap
            }
            return sum / count
        }
        public var resolution: Double {
            guard count > 0 else { return .nan }
            var sum = 0.0
            for k in binCounts.indices where binCounts[k] > 0 {
                let gap = binEvents[k] / binCounts[k] - climatology
                sum += binCounts[k] * gap * gap
            }
            return sum / count
        }
        public var uncertainty: Double { climatology * (1 - climatology) }
        /// Reliability diagram: mean forecast probability and observed frequency per bin (NaN where empty).
        public var meanProbabilities: [Double] { binCounts.indices.map { binCounts[$0] > 0 ? binProbabilities[$0] / binCounts[$0] : .nan } }
        public var observedFrequencies: [Double] { binCounts.indices.map { binCounts[$0] > 0 ? binEvents[$0] / binCounts[$0] : .nan } }
        /// ROC points (false alarm rate, hit rate) for "warn when the probability's bin is k or higher",
        /// from k = 0 (always warn: (1, 1)) to past the last bin ((0, 0)).
        public var rocCurve: [(falseAlarmRate: Double, hitRate: Double)] {
            let nonEvents = count - events
            var points: [(Double, Double)] = []
            for k in 0...binCounts.count {
                let warnedEvents = binEvents[k...].reduce(0, +), warned = binCounts[k...].reduce(0, +)
                points.append((nonEvents > 0 ? (warned - warnedEvents) / nonEvents : .nan, events > 0 ? warnedEvents / events : .nan))
            }
            return points
        }
        public var rocArea: Double {
            let curve = rocCurve
            var area = 0.0
            for (a, b) in zip(curve, curve.dropFirst()) { area += (a.falseAlarmRate - b.falseAlarmRate) * (a.hitRate + b.hitRate) / 2 }
            return area
        }
    }

    public let thresholds: [Double]
    public let bins: Int
    public let rules: ScoreRules
    /// [lead][threshold].
    public private(set) var sums: [[Sums]]

    /// `bins` equal probability bins over [0, 1] (an ensemble of M members fits M + 1 bins exactly).
    public init(leadTimes: Int, thresholds: [Double], bins: Int = 11, rules: ScoreRules = ScoreRules()) {
        (self.thresholds, self.bins, self.rules) = (thresholds, max(1, bins), rules)
        sums = Array(repeating: Array(repeating: Sums(bins: max(1, bins)), count: thresholds.count), count: leadTimes)
    }

    /// Adds an ensemble against its observation: the probability is the share of members above the
    /// threshold (missing members left out of the share; a pixel with none left is left out).
    public mutating func add(ensemble: [[Float]], observed: [Float], lead: Int) throws {
        try ScoreError.check("ProbabilityScores.add", !ensemble.isEmpty && ensemble.allSatisfy { $0.count == observed.count } && sums.indices.contains(lead),
                             "members of \(observed.count) values at a lead below \(sums.count)", "\(ensemble.map(\.count)) at lead \(lead)")
        try add(pixelMajor: pixelMajor(ensemble), members: ensemble.count, observed: observed, lead: lead)
    }

    /// `add` on `members` fields interleaved pixel by pixel.
    mutating func add(pixelMajor packed: [Float], members m: Int, observed: [Float], lead: Int) throws {
        let (n, limits) = (observed.count, thresholds.map(Float.init))
        // Per threshold, the share of valid members with an event; a member with no event at the
        // lowest threshold has none at the others.
        var probabilities = [Float](repeating: .nan, count: limits.count * n)
        let lowest = limits.min() ?? 0
        packed.withUnsafeBufferPointer { values in
            probabilities.withUnsafeMutableBufferPointer { out in
                var above = [Int](repeating: 0, count: limits.count)
                for i in 0..<n {
                    var valid = 0
                    for k in above.indices { above[k] = 0 }
                    for v in values[(i * m)..<((i + 1) * m)] where !v.isNaN {
                        valid += 1
                        guard rules.isEvent(v, lowest) else { continue }
                        for (k, limit) in limits.enumerated() where rules.isEvent(v, limit) { above[k] += 1 }
                    }
                    guard valid > 0 else { continue }
                    for k in limits.indices { out[k * n + i] = Float(above[k]) / Float(valid) }
                }
            }
        }
        for k in limits.indices {
            try add(probabilities: Array(probabilities[(k * n)..<((k + 1) * n)]), observed: observed, lead: lead, threshold: k)
        }
    }

    /// Adds a field of probabilities (0...1) of exceeding threshold `threshold` (an index).
    public mutating func add(probabilities: [Float], observed: [Float], lead: Int, threshold k: Int) throws {
        try ScoreError.check("ProbabilityScores.add", probabilities.count == observed.count && sums.indices.contains(lead) && thresholds.indices.contains(k),
                             "one size, a lead below \(sums.count), a threshold index below \(thresholds.count)",
                             "\(probabilities.count) and \(observed.count) values, lead \(lead), threshold \(k)")
        let limit = Float(thresholds[k])
        var s = sums[lead][k]
        for i in observed.indices where !observed[i].isNaN && !probabilities[i].isNaN {
            let p = Double(min(1, max(0, probabilities[i]))), o = rules.isEvent(observed[i], limit) ? 1.0 : 0.0
            let bin = min(bins - 1, Int((p * Double(bins)).rounded(.down)))
            s.count += 1; s.brier += (p - o) * (p - o); s.events += o
            s.binCounts[bin] += 1; s.binProbabilities[bin] += p; s.binEvents[bin] += o
        }
        sums[lead][k] = s
    }

    public mutating func merge(_ other: ProbabilityScores) throws {
        try ScoreError.check("ProbabilityScores.merge", other.thresholds == thresholds && other.bins == bins && other.rules == rules
                                 && other.sums.count == sums.count,
                             "\(sums.count) lead times, thresholds \(thresholds), \(bins) bins", "\(other.sums.count), \(other.thresholds), \(other.bins)")
        for t in sums.indices { for k in thresholds.indices { sums[t][k].merge(other.sums[t][k]) } }
    }
}
