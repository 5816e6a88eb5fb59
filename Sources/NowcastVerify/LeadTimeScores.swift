/// Verification scores of a forecast per lead time, accumulated batch by batch and mergeable:
/// mean absolute error, root mean squared error, and the critical success index (CSI, threat score)
/// at rain thresholds. Points where the observation or the forecast is missing (NaN) are left out.
/// Values are in physical units (e.g. mm/h); a point counts as an event when it is at or above the
/// threshold.
public struct LeadTimeScores: Codable, Equatable, Sendable {
    /// Event thresholds of the contingency tables.
    public let thresholds: [Double]
    /// Points verified per lead time.
    public private(set) var counts: [Int]
    private var absoluteErrors: [Double]
    private var squaredErrors: [Double]
    /// Contingency counts per lead time and threshold: [lead][threshold].
    public private(set) var hits: [[Int]]
    public private(set) var misses: [[Int]]
    public private(set) var falseAlarms: [[Int]]

    /// Empty accumulators for `leadTimes` lead times.
    public init(leadTimes: Int, thresholds: [Double]) {
        self.thresholds = thresholds
        counts = Array(repeating: 0, count: leadTimes)
        absoluteErrors = Array(repeating: 0, count: leadTimes)
        squaredErrors = absoluteErrors
        hits = Array(repeating: Array(repeating: 0, count: thresholds.count), count: leadTimes)
        misses = hits
        falseAlarms = hits
    }

    /// Lead times scored.
    public var leadTimes: Int { counts.count }

    /// A threshold as reports name it: `1` rather than `1.0`, `0.5` as it is.
    public static func label(threshold: Double) -> String {
        threshold == threshold.rounded() && abs(threshold) < 1e15 ? String(Int(threshold)) : String(threshold)
    }

    /// Adds one field pair at lead time `lead` (0-based); throws when the fields differ in size or
    /// the lead time is not scored.
    public mutating func add(forecast: UnsafeBufferPointer<Float>, observed: UnsafeBufferPointer<Float>, lead: Int) throws {
        guard forecast.count == observed.count, counts.indices.contains(lead) else {
            throw ScoreError.mismatch(operation: "LeadTimeScores.add", expected: "a forecast and an observation of one size at a lead below \(leadTimes)",
                                      found: "\(forecast.count) and \(observed.count) values at lead \(lead)")
        }
        var n = 0, absolute = 0.0, squared = 0.0
        var h = [Int](repeating: 0, count: thresholds.count), m = h, f = h
        let limits = thresholds.map(Float.init)
        for i in 0..<forecast.count {
            let x = forecast[i], y = observed[i]
            guard !x.isNaN, !y.isNaN else { continue }
            n += 1
            let d = Double(x - y)
            absolute += abs(d)
            squared += d * d
            for k in limits.indices {
                let (predicted, happened) = (x >= limits[k], y >= limits[k])
                if predicted && happened { h[k] += 1 } else if happened { m[k] += 1 } else if predicted { f[k] += 1 }
            }
        }
        counts[lead] += n
        absoluteErrors[lead] += absolute
        squaredErrors[lead] += squared
        for k in limits.indices {
            hits[lead][k] += h[k]
            misses[lead][k] += m[k]
            falseAlarms[lead][k] += f[k]
        }
    }

    /// Adds another accumulator's counts; throws unless it has the same lead times and thresholds.
    public mutating func merge(_ other: LeadTimeScores) throws {
        guard other.thresholds == thresholds, other.leadTimes == leadTimes else {
            throw ScoreError.mismatch(operation: "LeadTimeScores.merge", expected: "\(leadTimes) lead times at thresholds \(thresholds)",
                                      found: "\(other.leadTimes) at \(other.thresholds)")
        }
        for t in counts.indices {
            counts[t] += other.counts[t]
            absoluteErrors[t] += other.absoluteErrors[t]
            squaredErrors[t] += other.squaredErrors[t]
            for k in thresholds.indices {
                hits[t][k] += other.hits[t][k]
                misses[t][k] += other.misses[t][k]
                falseAlarms[t][k] += other.falseAlarms[t][k]
            }
        }
    }

    /// Mean absolute error at a lead time (NaN when nothing was verified).
    public func meanAbsoluteError(lead: Int) -> Double { counts[lead] > 0 ? absoluteErrors[lead] / Double(counts[lead]) : .nan }

    /// Root mean squared error at a lead time (NaN when nothing was verified).
    public func rootMeanSquaredError(lead: Int) -> Double { counts[lead] > 0 ? (squaredErrors[lead] / Double(counts[lead])).squareRoot() : .nan }

    /// CSI = hits / (hits + misses + false alarms) at a lead time and threshold index; NaN when no
    /// event was observed or forecast.
    public func criticalSuccessIndex(lead: Int, threshold: Int) -> Double {
        let total = hits[lead][threshold] + misses[lead][threshold] + falseAlarms[lead][threshold]
        return total > 0 ? Double(hits[lead][threshold]) / Double(total) : .nan
    }

    /// MAE over all lead times.
    public var meanAbsoluteError: Double {
        let n = counts.reduce(0, +)
        return n > 0 ? absoluteErrors.reduce(0, +) / Double(n) : .nan
    }

    /// RMSE over all lead times.
    public var rootMeanSquaredError: Double {
        let n = counts.reduce(0, +)
        return n > 0 ? (squaredErrors.reduce(0, +) / Double(n)).squareRoot() : .nan
    }

    /// CSI over all lead times (contingency tables summed) at a threshold index.
    public func criticalSuccessIndex(threshold: Int) -> Double {
        let h = hits.reduce(0) { $0 + $1[threshold] }
        let total = h + misses.reduce(0) { $0 + $1[threshold] } + falseAlarms.reduce(0) { $0 + $1[threshold] }
        return total > 0 ? Double(h) / Double(total) : .nan
    }
}

/// Scores that cannot be combined as asked.
public enum ScoreError: Error, Equatable, CustomStringConvertible {
    /// Fields or accumulators that do not fit together.
    case mismatch(operation: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .mismatch(operation, expected, found): return "\(operation): expected \(expected), got \(found)"
        }
    }
}
