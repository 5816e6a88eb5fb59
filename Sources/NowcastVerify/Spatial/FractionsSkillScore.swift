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
        let w = nx + 1
        for (k, threshold) in thresholds.map(Float.init).enumerated() {
            // Summed-area tables of event counts, exact in integers; `inside` marks counted pixels.
            var fTable = [Int](repeating: 0, count: (ny + 1) * w), oTable = fTable
            var inside = [Bool](repeating: true, count: ny * nx)
            var events = 0, pixels = 0
            for y in 0..<ny {
                var fRow = 0, oRow = 0
                for x in 0..<nx {
                    let i = y * nx + x
                    let (f, o) = (forecast[i], observed[i])
                    if rules.counts(f, o) {
                        pixels += 1
                        if rules.isEvent(f, threshold) { fRow += 1 }
                        if rules.isEvent(o, threshold) { oRow += 1; events += 1 }
                    } else {
                        inside[i] = false
                    }
                    fTable[(y + 1) * w + x + 1] = fTable[y * w + x + 1] + fRow
                    oTable[(y + 1) * w + x + 1] = oTable[y * w + x + 1] + oRow
                }
            }
            for (s, scale) in scales.enumerated() {
                // Window rows back..<back+scale around each pixel, clipped to the grid (outside counts as no event).
                let back = scale / 2
                let rowLow = (0..<ny).map { max(0, min(ny, $0 - back)) * w }, rowHigh = (0..<ny).map { max(0, min(ny, $0 - back + scale)) * w }
                let colLow = (0..<nx).map { max(0, min(nx, $0 - back)) }, colHigh = (0..<nx).map { max(0, min(nx, $0 - back + scale)) }
                var (ff, oo, fo) = (0, 0, 0)
                fTable.withUnsafeBufferPointer { F in
                    oTable.withUnsafeBufferPointer { O in
                        inside.withUnsafeBufferPointer { inside in
                            for y in 0..<ny {
                                let (a, c) = (rowLow[y], rowHigh[y])
                                for x in 0..<nx where inside[y * nx + x] {
                                    let (b, d) = (colLow[x], colHigh[x])
                                    let cf = F[c + d] - F[a + d] - F[c + b] + F[a + b]
                                    let co = O[c + d] - O[a + d] - O[c + b] + O[a + b]
                                    ff += cf * cf
                                    oo += co * co
                                    fo += cf * co
                                }
                            }
                        }
                    }
                }
                let area2 = Double(scale * scale) * Double(scale * scale)
                var entry = Sums()
                (entry.forecastSquared, entry.observedSquared, entry.product) = (Double(ff) / area2, Double(oo) / area2, Double(fo) / area2)
                (entry.observedEvents, entry.pixels) = (Double(events), Double(pixels))
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
