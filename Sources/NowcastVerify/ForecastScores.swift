/// What a verification scores and how; accumulators made with different settings do not merge.
public struct ScoreSettings: Codable, Equatable, Sendable {
    public var leadTimes: Int
    /// Seconds between lead times.
    public var stepSeconds: Double
    /// Event thresholds, in the fields' units.
    public var thresholds: [Double]
    /// Neighbourhood sizes of the fractions skill score, in pixels.
    public var scales: [Int]
    public var rules: ScoreRules
    /// Probability bins of the reliability diagram.
    public var bins: Int
    /// The continuous scores are also computed on this decibel scale when set.
    public var decibel: DecibelScale?
    /// Grid size of the fields verified.
    public var ny: Int, nx: Int
    /// True when every source was scored only where all of them (and the observation) are valid;
    /// nil when each was scored wherever it is valid itself.
    public var commonPixels: Bool?

    public init(leadTimes: Int, stepSeconds: Double, thresholds: [Double], scales: [Int], rules: ScoreRules = ScoreRules(), bins: Int = 11,
                decibel: DecibelScale? = nil, ny: Int, nx: Int, commonPixels: Bool = false) {
        (self.leadTimes, self.stepSeconds, self.thresholds, self.scales) = (leadTimes, stepSeconds, thresholds, scales)
        (self.rules, self.bins, self.decibel, self.ny, self.nx) = (rules, bins, decibel, ny, nx)
        self.commonPixels = commonPixels ? true : nil
    }
}

/// Every score of one forecast source (a model, persistence, extrapolation) over many forecasts,
/// per lead time. Deterministic scores (contingency, continuous, fractions skill) are of the
/// ensemble mean (over the members not missing at a pixel), as pySTEPS's examples score ensembles;
/// an ensemble of two or more members also
/// gets CRPS, the rank histogram, spread-skill and the probability scores at each threshold.
public struct ForecastScores: Codable, Equatable, Sendable {
    public let label: String
    public let members: Int
    public let settings: ScoreSettings
    /// Reference times (seconds since 1970) of the forecasts added, in the order added.
    public private(set) var referenceTimes: [Int64] = []
    public private(set) var continuous: ContinuousScores
    public private(set) var decibel: ContinuousScores?
    public private(set) var categorical: ContingencyScores
    public private(set) var fractions: FractionsSkillScore
    public private(set) var ensemble: EnsembleScores?
    public private(set) var probability: ProbabilityScores?

    public init(label: String, members: Int, settings: ScoreSettings) {
        (self.label, self.members, self.settings) = (label, max(1, members), settings)
        let (leads, rules) = (settings.leadTimes, settings.rules)
        continuous = ContinuousScores(leadTimes: leads)
        decibel = settings.decibel.map { _ in ContinuousScores(leadTimes: leads) }
        categorical = ContingencyScores(leadTimes: leads, thresholds: settings.thresholds, rules: rules)
        fractions = FractionsSkillScore(leadTimes: leads, thresholds: settings.thresholds, scales: settings.scales, rules: rules)
        if members >= 2 {
            ensemble = EnsembleScores(leadTimes: leads, members: members)
            probability = ProbabilityScores(leadTimes: leads, thresholds: settings.thresholds, bins: settings.bins, rules: rules)
        }
    }

    /// Counts one more forecast; its fields then come through `add`.
    public mutating func addForecast(referenceTime: Int64) { referenceTimes.append(referenceTime) }

    /// Scores the members' fields at lead `lead` (0-based) against the observation.
    public mutating func add(ensemble fields: [[Float]], observed: [Float], lead: Int) throws {
        let (ny, nx) = (settings.ny, settings.nx)
        try ScoreError.check("ForecastScores.add (\(label))", fields.count == members && observed.count == ny * nx && fields.allSatisfy { $0.count == ny * nx },
                             "\(members) member\(members == 1 ? "" : "s") of \(ny) x \(nx)", "\(fields.count) of \(fields.first?.count ?? 0) values")
        let packed = members == 1 ? fields[0] : pixelMajor(fields)
        let mean = members == 1 ? fields[0] : Self.mean(packed, members: members)
        try continuous.add(forecast: mean, observed: observed, lead: lead)
        if let scale = settings.decibel {
            try decibel?.add(forecast: mean.map(scale.forward), observed: observed.map(scale.forward), lead: lead)
        }
        try categorical.add(forecast: mean, observed: observed, lead: lead)
        try fractions.add(forecast: mean, observed: observed, ny: ny, nx: nx, lead: lead)
        ensemble?.add(pixelMajor: packed, observed: observed, lead: lead)
        try probability?.add(pixelMajor: packed, members: members, observed: observed, lead: lead)
    }

    /// Adds another accumulator of the same label, members and settings.
    public mutating func merge(_ other: ForecastScores) throws {
        try ScoreError.check("ForecastScores.merge", other.label == label && other.members == members && other.settings == settings,
                             "'\(label)' with \(members) members and the same settings", "'\(other.label)' with \(other.members)\(other.settings == settings ? "" : " and other settings")")
        referenceTimes += other.referenceTimes
        try continuous.merge(other.continuous)
        if let o = other.decibel { try decibel?.merge(o) }
        try categorical.merge(other.categorical)
        try fractions.merge(other.fractions)
        if let o = other.ensemble { try ensemble?.merge(o) }
        if let o = other.probability { try probability?.merge(o) }
    }

    /// Fractions skill sums of threshold index `k` over all lead times, per scale.
    public func pooledFractions(threshold k: Int) -> [FractionsSkillScore.Sums] {
        settings.scales.indices.map { j in
            var sums = FractionsSkillScore.Sums()
            for lead in fractions.sums { sums.merge(lead[k][j]) }
            return sums
        }
    }

    /// Probability sums of threshold index `k` over all lead times (empty sums for one member).
    public func pooledProbability(threshold k: Int) -> ProbabilityScores.Sums {
        var pooled = ProbabilityScores.Sums(bins: settings.bins)
        for lead in probability?.sums ?? [] { pooled.merge(lead[k]) }
        return pooled
    }

    /// Rank histogram counts over all lead times (empty for one member).
    public var pooledRanks: [Double] {
        guard let ensemble else { return [] }
        var ranks = [Double](repeating: 0, count: members + 1)
        for lead in ensemble.leads { for r in ranks.indices { ranks[r] += lead.ranks[r] } }
        return ranks
    }

    /// The members' mean per pixel (members interleaved pixel by pixel) over the members that are
    /// not missing there, missing where all are (numpy's `nanmean`, as pySTEPS's examples and the
    /// product's `_mean` take it): members advected from outside the grid do not blank the mean.
    static func mean(_ packed: [Float], members m: Int) -> [Float] {
        packed.withUnsafeBufferPointer { values in
            (0..<(values.count / m)).map { i in
                var (sum, count) = (Float(0), 0)
                for v in values[(i * m)..<((i + 1) * m)] where !v.isNaN { sum += v; count += 1 }
                return count > 0 ? sum / Float(count) : .nan
            }
        }
    }
}
