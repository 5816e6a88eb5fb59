/// The scores a training run validates with, per lead time: MAE, RMSE and the critical success
/// index (CSI) at rain thresholds, accumulated batch by batch and mergeable. Built on
/// `ContinuousScores` and `ContingencyScores` with the trainer's rules: a point counts as an event
/// at or above the threshold, and points where the observation or the forecast is missing (NaN) are
/// left out of everything. Values are in physical units (e.g. mm/h).
public struct LeadTimeScores: Codable, Equatable, Sendable {
    /// The rules of validation scores.
    public static let rules = ScoreRules(comparison: .atOrAbove, categoricalMissing: .leftOut)

    private var continuous: ContinuousScores
    private var categorical: ContingencyScores

    /// Empty accumulators for `leadTimes` lead times.
    public init(leadTimes: Int, thresholds: [Double]) {
        continuous = ContinuousScores(leadTimes: leadTimes)
        categorical = ContingencyScores(leadTimes: leadTimes, thresholds: thresholds, rules: Self.rules)
    }

    /// Event thresholds of the contingency tables.
    public var thresholds: [Double] { categorical.thresholds }
    /// Lead times scored.
    public var leadTimes: Int { continuous.leads.count }
    /// Points verified per lead time.
    public var counts: [Int] { continuous.leads.map { Int($0.count) } }
    /// Contingency counts per lead time and threshold: [lead][threshold].
    public var hits: [[Int]] { categorical.tables.map { $0.map(\.hits) } }
    public var misses: [[Int]] { categorical.tables.map { $0.map(\.misses) } }
    public var falseAlarms: [[Int]] { categorical.tables.map { $0.map(\.falseAlarms) } }

    /// A threshold as reports name it: `1` rather than `1.0`, `0.5` as it is.
    public static func label(threshold: Double) -> String {
        threshold == threshold.rounded() && abs(threshold) < 1e15 ? String(Int(threshold)) : String(threshold)
    }

    /// Adds one field pair at lead time `lead` (0-based); throws when the fields differ in size or
    /// the lead time is not scored.
    public mutating func add(forecast: UnsafeBufferPointer<Float>, observed: UnsafeBufferPointer<Float>, lead: Int) throws {
        try continuous.add(forecast: forecast, observed: observed, lead: lead)
        try categorical.add(forecast: forecast, observed: observed, lead: lead)
    }

    /// Adds another accumulator's counts; throws unless it has the same lead times and thresholds.
    public mutating func merge(_ other: LeadTimeScores) throws {
        try ScoreError.check("LeadTimeScores.merge", other.thresholds == thresholds && other.leadTimes == leadTimes,
                             "\(leadTimes) lead times at thresholds \(thresholds)", "\(other.leadTimes) at \(other.thresholds)")
        try continuous.merge(other.continuous)
        try categorical.merge(other.categorical)
    }

    /// Mean absolute error at a lead time (NaN when nothing was verified).
    public func meanAbsoluteError(lead: Int) -> Double { continuous.leads[lead].meanAbsoluteError }

    /// Root mean squared error at a lead time (NaN when nothing was verified).
    public func rootMeanSquaredError(lead: Int) -> Double { continuous.leads[lead].rootMeanSquaredError }

    /// CSI = hits / (hits + misses + false alarms) at a lead time and threshold index; NaN when no
    /// event was observed or forecast.
    public func criticalSuccessIndex(lead: Int, threshold: Int) -> Double { categorical.tables[lead][threshold].criticalSuccessIndex }

    /// MAE over all lead times.
    public var meanAbsoluteError: Double { overall.meanAbsoluteError }

    /// RMSE over all lead times.
    public var rootMeanSquaredError: Double { overall.rootMeanSquaredError }

    /// CSI over all lead times (contingency tables summed) at a threshold index.
    public func criticalSuccessIndex(threshold: Int) -> Double {
        categorical.tables.reduce(ContingencyTable()) { $0 + $1[threshold] }.criticalSuccessIndex
    }

    private var overall: ContinuousScores.Sums {
        var sums = ContinuousScores.Sums()
        for lead in continuous.leads { sums.merge(lead) }
        return sums
    }
}
