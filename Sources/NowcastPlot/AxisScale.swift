import Foundation

/// An axis: linear or logarithmic, its range, and where its ticks go.
struct AxisScale {
    let low: Double, high: Double
    let logarithmic: Bool
    let ticks: [Double]

    /// A range covering `values` with round ticks (1, 2, 5 times a power of ten); `fixed` overrides
    /// the range, `ticks` the tick positions (e.g. the scales a score was computed at).
    init(values: [Double], logarithmic: Bool, fixed: ClosedRange<Double>?, ticks given: [Double]?) {
        self.logarithmic = logarithmic
        let finite = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        var (lo, hi) = fixed.map { ($0.lowerBound, $0.upperBound) } ?? (finite.min() ?? 0, finite.max() ?? 1)
        if hi <= lo { (lo, hi) = logarithmic ? (lo / 2, lo * 2) : (lo - 0.5, hi + 0.5) }
        if logarithmic {
            if lo <= 0 { lo = 1 }
            if fixed == nil { (lo, hi) = (lo / 1.25, hi * 1.25) }
            (low, high) = (lo, hi)
            ticks = given ?? Self.decades(lo, hi)
        } else {
            let step = Self.niceStep((hi - lo) / 5)
            if fixed == nil {
                lo = (lo / step).rounded(.down) * step
                hi = (hi / step).rounded(.up) * step
            }
            (low, high) = (lo, hi)
            ticks = given ?? stride(from: lo, through: hi + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
        }
    }

    /// Position of `value` from 0 (low) to 1 (high).
    func fraction(_ value: Double) -> Double {
        logarithmic ? (log(value) - log(low)) / (log(high) - log(low)) : (value - low) / (high - low)
    }

    /// A tick's label: few digits, no trailing zeros.
    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.0e", value) }
        return String(format: "%g", (value * 1e6).rounded() / 1e6)
    }

    private static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, floor(log10(rough)))
        let fraction = rough / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }

    private static func decades(_ lo: Double, _ hi: Double) -> [Double] {
        let first = Int(floor(log10(lo))), last = Int(ceil(log10(hi)))
        var ticks: [Double] = []
        for e in first...max(first, last) {
            for m in [1.0, 2, 5] {
                let v = m * pow(10, Double(e))
                if v >= lo * 0.999, v <= hi * 1.001 { ticks.append(v) }
            }
        }
        return ticks
    }
}
