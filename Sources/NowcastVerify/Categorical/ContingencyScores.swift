/// The 2 x 2 table of one threshold and the scores computed from it (as pySTEPS's `det_cat_fct`).
public struct ContingencyTable: Codable, Equatable, Sendable {
    public var hits = 0, misses = 0, falseAlarms = 0, correctNegatives = 0

    public init(hits: Int = 0, misses: Int = 0, falseAlarms: Int = 0, correctNegatives: Int = 0) {
        (self.hits, self.misses, self.falseAlarms, self.correctNegatives) = (hits, misses, falseAlarms, correctNegatives)
    }

    public static func + (a: ContingencyTable, b: ContingencyTable) -> ContingencyTable {
        ContingencyTable(hits: a.hits + b.hits, misses: a.misses + b.misses, falseAlarms: a.falseAlarms + b.falseAlarms,
                         correctNegatives: a.correctNegatives + b.correctNegatives)
    }

    private var h: Double { Double(hits) }
    private var m: Double { Double(misses) }
    private var f: Double { Double(falseAlarms) }
    private var r: Double { Double(correctNegatives) }
    private static func ratio(_ a: Double, _ b: Double) -> Double { b != 0 ? a / b : .nan }

    /// Probability of detection, H / (H + M).
    public var probabilityOfDetection: Double { Self.ratio(h, h + m) }
    /// False alarm ratio, F / (H + F).
    public var falseAlarmRatio: Double { Self.ratio(f, h + f) }
    /// Critical success index, H / (H + M + F).
    public var criticalSuccessIndex: Double { Self.ratio(h, h + m + f) }
    /// Frequency bias, (H + F) / (H + M).
    public var frequencyBias: Double { Self.ratio(h + f, h + m) }
    /// Equitable threat score: (H - Hr) / (H + M + F - Hr), Hr = (H + M)(H + F) / N the hits of chance.
    public var equitableThreatScore: Double {
        let random = Self.ratio((h + m) * (h + f), h + m + f + r)
        return Self.ratio(h - random, h + m + f - random)
    }
    /// Heidke skill score: 2 (H R - M F) / ((H + M)(M + R) + (H + F)(F + R)).
    public var heidkeSkillScore: Double { Self.ratio(2 * (h * r - m * f), (h + m) * (m + r) + (h + f) * (f + r)) }
}

/// Contingency tables per lead time and threshold, accumulated field by field and mergeable.
public struct ContingencyScores: Codable, Equatable, Sendable {
    public let thresholds: [Double]
    public let rules: ScoreRules
    /// [lead][threshold].
    public private(set) var tables: [[ContingencyTable]]

    public init(leadTimes: Int, thresholds: [Double], rules: ScoreRules = ScoreRules()) {
        (self.thresholds, self.rules) = (thresholds, rules)
        tables = Array(repeating: Array(repeating: ContingencyTable(), count: thresholds.count), count: leadTimes)
    }

    public var leadTimes: Int { tables.count }

    /// Adds one forecast field against its observation at lead `lead` (0-based).
    public mutating func add(forecast: [Float], observed: [Float], lead: Int) throws {
        try forecast.withUnsafeBufferPointer { f in try observed.withUnsafeBufferPointer { try add(forecast: f, observed: $0, lead: lead) } }
    }

    /// `add` on buffers (batches of a validation pass).
    public mutating func add(forecast: UnsafeBufferPointer<Float>, observed: UnsafeBufferPointer<Float>, lead: Int) throws {
        try ScoreError.check("ContingencyScores.add", forecast.count == observed.count && tables.indices.contains(lead),
                             "one size and a lead below \(leadTimes)", "\(forecast.count) and \(observed.count) values at lead \(lead)")
        for (k, threshold) in thresholds.map(Float.init).enumerated() {
            var table = ContingencyTable()
            for i in 0..<forecast.count where rules.counts(forecast[i], observed[i]) {
                switch (rules.isEvent(forecast[i], threshold), rules.isEvent(observed[i], threshold)) {
                case (true, true): table.hits += 1
                case (false, true): table.misses += 1
                case (true, false): table.falseAlarms += 1
                case (false, false): table.correctNegatives += 1
                }
            }
            tables[lead][k] = tables[lead][k] + table
        }
    }

    /// Adds another accumulator of the same lead times, thresholds and rules.
    public mutating func merge(_ other: ContingencyScores) throws {
        try ScoreError.check("ContingencyScores.merge", other.thresholds == thresholds && other.rules == rules && other.leadTimes == leadTimes,
                             "\(leadTimes) lead times at thresholds \(thresholds), \(rules)", "\(other.leadTimes) at \(other.thresholds), \(other.rules)")
        for t in tables.indices { for k in thresholds.indices { tables[t][k] = tables[t][k] + other.tables[t][k] } }
    }
}
