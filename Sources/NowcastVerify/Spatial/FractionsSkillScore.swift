/// The fractions skill score (Roberts and Lean 2008) per lead time, threshold and neighbourhood
/// scale, as pySTEPS's `fss`: event fields (by `ScoreRules`; NaN as no rain by default) are turned
/// into the fraction of events in a scale x scale square around each pixel (zero outside the grid,
/// the window of an even scale reaching one pixel further up and left, as scipy's `uniform_filter`),
/// with summed-area tables, O(pixels) whatever the scale. FSS = 1 - sum (Pf - Po)^2 / (sum Pf^2 +
/// sum Po^2). The reference skills come with it: random, f0, and uniform, 0.5 + f0 / 2, where f0 is
/// the observed event frequency.
public struct FractionsSkillScore: Codable, Equatable, Sendable {
    /// Running sums of one (lead, threshold, scale).
    public struct Sums: Codable, Equatable, Sendable {
        public var forecastSquared = 0.0, observedSquared = 0.0, product = 0.0
        public var observedEvents = 0.0, pixels = 0.0

        public init() {}

        public var value: Double {
            let denominator = forecastSquared + observedSquared
            return denominator > 0 ? 1 - (forecastSquared - 2 * product + observedSquared) / denominator : .nan
        }
        public var observedFrequency: Double { pixels > 0 ? observedEvents / pixels : .nan }
        public var randomSkill: Double { observedFrequency }
        public var uniformSkill: Double { 0.5 + observedFrequency / 2 }
    }

    public let thresholds: [Double]
    public let scales: [Int]
    public let rules: ScoreRules
    /// [lead][threshold][scale].
    public private(set) var sums: [[[Sums]]]

    public init(leadTimes: Int, thresholds: [Double], scales: [Int], rules: ScoreRules = ScoreRules()) {
        (self.thresholds, self.scales, self.rules) = (thresholds, scales, rules)
        sums = Array(repeating: Array(repeating: Array(repeating: Sums(), count: scales.count), count: thresholds.count), count: leadTimes)
    }

    /// Adds one field pair of `ny` x `nx` at lead `lead`.
    public mutating func add(forecast: [Float], observed: [Float], ny: Int, nx: Int, lead: Int) throws {
        try ScoreError.check("FractionsSkillScore.add", forecast.count == ny * nx && observed.count == ny * nx && sums.indices.contains(lead)
                                 && scales.allSatisfy { $0 >= 1 }, "two \(ny) x \(nx) fields, scales of at least 1 and a lead below \(sums.count)",
                             "\(forecast.count) and \(observed.count) values, scales \(scales), lead \(lead)")
        for (k, threshold) in thresholds.map(Float.init).enumerated() {
            var fEvents = [Double](repeating: 0, count: ny * nx), oEvents = fEvents, inside = fEvents
            var events = 0.0, pixels = 0.0
            for i in forecast.indices where rules.counts(forecast[i], observed[i]) {
                inside[i] = 1
                pixels += 1
                if rules.isEvent(forecast[i], threshold) { fEvents[i] = 1 }
                if rules.isEvent(observed[i], threshold) { oEvents[i] = 1; events += 1 }
            }
            let (fTable, oTable) = (SummedArea(fEvents, ny: ny, nx: nx), SummedArea(oEvents, ny: ny, nx: nx))
            for (s, scale) in scales.enumerated() {
                var entry = Sums()
                let area = Double(scale * scale), back = scale / 2
                for y in 0..<ny {
                    for x in 0..<nx where inside[y * nx + x] > 0 {
                        let (y0, x0) = (y - back, x - back)
                        let pf = fTable.sum(y0, x0, y0 + scale, x0 + scale) / area, po = oTable.sum(y0, x0, y0 + scale, x0 + scale) / area
                        entry.forecastSquared += pf * pf
                        entry.observedSquared += po * po
                        entry.product += pf * po
                    }
                }
                entry.observedEvents = events
                entry.pixels = pixels
                sums[lead][k][s].merge(entry)
            }
        }
    }

    public mutating func merge(_ other: FractionsSkillScore) throws {
        try ScoreError.check("FractionsSkillScore.merge", other.thresholds == thresholds && other.scales == scales && other.rules == rules
                                 && other.sums.count == sums.count,
                             "\(sums.count) lead times, thresholds \(thresholds), scales \(scales)", "\(other.sums.count), \(other.thresholds), \(other.scales)")
        for t in sums.indices { for k in thresholds.indices { for s in scales.indices { sums[t][k][s].merge(other.sums[t][k][s]) } } }
    }

    /// The plain definition for tests: each window's fraction counted cell by cell.
    public static func referenceValue(forecast: [Bool], observed: [Bool], ny: Int, nx: Int, scale: Int) -> Double {
        func fraction(_ events: [Bool], _ y: Int, _ x: Int) -> Double {
            var n = 0
            for wy in (y - scale / 2)..<(y - scale / 2 + scale) {
                for wx in (x - scale / 2)..<(x - scale / 2 + scale) where wy >= 0 && wy < ny && wx >= 0 && wx < nx && events[wy * nx + wx] { n += 1 }
            }
            return Double(n) / Double(scale * scale)
        }
        var (a, b, c) = (0.0, 0.0, 0.0)
        for y in 0..<ny {
            for x in 0..<nx {
                let (pf, po) = (fraction(forecast, y, x), fraction(observed, y, x))
                a += (pf - po) * (pf - po); b += pf * pf; c += po * po
            }
        }
        return b + c > 0 ? 1 - a / (b + c) : .nan
    }
}

extension FractionsSkillScore.Sums {
    /// Adds the sums of another (lead, threshold, scale).
    public mutating func merge(_ o: Self) {
        forecastSquared += o.forecastSquared; observedSquared += o.observedSquared; product += o.product
        observedEvents += o.observedEvents; pixels += o.pixels
    }
}

/// A summed-area table: sums over any rectangle in O(1); cells outside the grid count as zero.
struct SummedArea {
    private let table: [Double]
    private let ny: Int, nx: Int

    init(_ values: [Double], ny: Int, nx: Int) {
        var table = [Double](repeating: 0, count: (ny + 1) * (nx + 1))
        for y in 0..<ny {
            var row = 0.0
            for x in 0..<nx {
                row += values[y * nx + x]
                table[(y + 1) * (nx + 1) + x + 1] = table[y * (nx + 1) + x + 1] + row
            }
        }
        (self.table, self.ny, self.nx) = (table, ny, nx)
    }

    /// The sum over rows y0..<y1 and columns x0..<x1, clipped to the grid.
    func sum(_ y0: Int, _ x0: Int, _ y1: Int, _ x1: Int) -> Double {
        let (a, b, c, d) = (max(0, min(ny, y0)), max(0, min(nx, x0)), max(0, min(ny, y1)), max(0, min(nx, x1)))
        guard c > a, d > b else { return 0 }
        let w = nx + 1
        return table[c * w + d] - table[a * w + d] - table[c * w + b] + table[a * w + b]
    }
}
