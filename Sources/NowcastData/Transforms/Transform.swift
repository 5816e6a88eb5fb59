import Foundation

/// One invertible step from physical values to what a model sees, with its parameters recorded.
/// NaN (missing) stays NaN through every transform. Values are `Float32`; arithmetic is `Double`.
public enum Transform: Codable, Equatable, Sendable {
    /// Accumulation over `minutes` (mm per period) to rate (mm/h): `x * 60 / minutes`.
    case accumulationToRate(minutes: Double)
    /// Values below `threshold` become `below` (e.g. rates under 0.1 mm/h to 0); values above `maximum`
    /// are capped. Not invertible below the threshold or above the cap; the inverse is the identity.
    case clip(threshold: Double, below: Double, maximum: Double?)
    /// Decibel rain rate: `10 log10(R)` for `R >= threshold`, else `zeroValue` (e.g. threshold 0.1,
    /// zero value -15). The inverse maps values at or below `zeroValue` back to 0.
    case decibel(threshold: Double, zeroValue: Double)
    /// `log(x + epsilon)`.
    case log(epsilon: Double)
    /// Box-Cox: `((x + epsilon)^lambda - 1) / lambda`, or `log(x + epsilon)` when lambda is 0.
    case boxCox(lambda: Double, epsilon: Double)
    /// `(x - mean) / std`; mean and std are fitted on the training data (nil until then).
    case zScore(mean: Double?, std: Double?)
    /// `(x - minimum) / (maximum - minimum)`; fitted on the training data (nil until then).
    case minMax(minimum: Double?, maximum: Double?)

    /// True when the transform needs statistics of the data before it can be applied.
    public var needsFitting: Bool {
        switch self {
        case let .zScore(mean, std): return mean == nil || std == nil
        case let .minMax(minimum, maximum): return minimum == nil || maximum == nil
        default: return false
        }
    }

    /// The transform with parameters taken from `statistics` of its input.
    public func fitted(to statistics: RunningStatistics) -> Transform {
        switch self {
        case .zScore: return .zScore(mean: statistics.mean, std: max(statistics.standardDeviation, 1e-12))
        case .minMax:
            let range = statistics.maximum - statistics.minimum
            return .minMax(minimum: statistics.minimum, maximum: statistics.minimum + (range > 0 ? range : 1))
        default: return self
        }
    }

    /// True when every parameter set so far is finite.
    public var parametersAreFinite: Bool {
        let values: [Double?]
        switch self {
        case let .accumulationToRate(minutes): values = [minutes]
        case let .clip(threshold, below, maximum): values = [threshold, below, maximum]
        case let .decibel(threshold, zeroValue): values = [threshold, zeroValue]
        case let .log(epsilon): values = [epsilon]
        case let .boxCox(lambda, epsilon): values = [lambda, epsilon]
        case let .zScore(mean, std): values = [mean, std]
        case let .minMax(minimum, maximum): values = [minimum, maximum]
        }
        return values.allSatisfy { $0?.isFinite ?? true }
    }

    /// A short name for reports, e.g. `dBR(0.1, -15)`.
    public var summary: String {
        func n(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "?" }
        switch self {
        case let .accumulationToRate(minutes): return "rate(\(n(minutes)) min)"
        case let .clip(threshold, below, maximum): return "clip(<\(n(threshold)) -> \(n(below))\(maximum.map { ", max \(n($0))" } ?? ""))"
        case let .decibel(threshold, zeroValue): return "dBR(\(n(threshold)), \(n(zeroValue)))"
        case let .log(epsilon): return "log(x + \(n(epsilon)))"
        case let .boxCox(lambda, epsilon): return "boxcox(\(n(lambda)), \(n(epsilon)))"
        case let .zScore(mean, std): return "zscore(\(n(mean)), \(n(std)))"
        case let .minMax(minimum, maximum): return "minmax(\(n(minimum)), \(n(maximum)))"
        }
    }

    /// Applies the transform in place (Float arithmetic: the data are Float32).
    public func forward(_ values: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case let .accumulationToRate(minutes):
            let factor = Float(60 / minutes)
            map(values) { $0 * factor }
        case let .clip(threshold, below, maximum):
            let (t, b, cap) = (Float(threshold), Float(below), Float(maximum ?? .infinity))
            map(values) { $0 < t ? b : min($0, cap) }
        case let .decibel(threshold, zeroValue):
            let (t, zero) = (Float(threshold), Float(zeroValue))
            map(values) { $0 >= t ? 10 * log10($0) : zero }
        case let .log(epsilon):
            let e = Float(epsilon)
            map(values) { Foundation.log($0 + e) }
        case let .boxCox(lambda, epsilon):
            let (l, e) = (Float(lambda), Float(epsilon))
            if lambda == 0 { map(values) { Foundation.log($0 + e) } } else { map(values) { (pow($0 + e, l) - 1) / l } }
        case let .zScore(mean, std):
            let (m, scale) = (Float(mean ?? 0), Float(1 / (std ?? 1)))
            map(values) { ($0 - m) * scale }
        case let .minMax(minimum, maximum):
            let low = Float(minimum ?? 0), scale = Float(1 / ((maximum ?? 1) - (minimum ?? 0)))
            map(values) { ($0 - low) * scale }
        }
    }

    /// Undoes the transform in place (exactly, within float rounding, where it is invertible).
    public func inverse(_ values: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case let .accumulationToRate(minutes):
            let factor = Float(minutes / 60)
            map(values) { $0 * factor }
        case .clip:
            break
        case let .decibel(_, zeroValue):
            let zero = Float(zeroValue)
            map(values) { $0 <= zero ? 0 : pow(10, $0 / 10) }
        case let .log(epsilon):
            let e = Float(epsilon)
            map(values) { exp($0) - e }
        case let .boxCox(lambda, epsilon):
            let (l, e) = (Float(lambda), Float(epsilon))
            if lambda == 0 { map(values) { exp($0) - e } } else { map(values) { pow($0 * l + 1, 1 / l) - e } }
        case let .zScore(mean, std):
            let (m, s) = (Float(mean ?? 0), Float(std ?? 1))
            map(values) { $0 * s + m }
        case let .minMax(minimum, maximum):
            let low = Float(minimum ?? 0), span = Float((maximum ?? 1) - (minimum ?? 0))
            map(values) { $0 * span + low }
        }
    }

    /// Applies `f` to every valid value; NaN stays NaN.
    @inline(__always)
    private func map(_ values: UnsafeMutableBufferPointer<Float>, _ f: (Float) -> Float) {
        for i in 0..<values.count {
            let v = values[i]
            if !v.isNaN { values[i] = f(v) }
        }
    }

    /// Parses the compact form used on the command line: `rate:10`, `clip:0.1:0[:300]`, `dbr:0.1:-15`,
    /// `log:0.01`, `boxcox:0.5:0.01`, `zscore`, `minmax`. Parameters that would make infinite or
    /// undefined values from valid data are refused here, naming the transform: `rate` needs
    /// MIN > 0, `dbr` a threshold > 0 and a finite zero value, `log` EPS > 0, `boxcox` a finite
    /// lambda and EPS > 0, `clip` MAX > T; no transform takes more parameters than it has.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        let name = parts.first?.lowercased() ?? ""
        func refuse(_ expected: String) -> NowcastDataError {
            .invalidSetting(key: "transforms", expected: expected, found: "'\(text)'")
        }
        func arity(_ most: Int, _ form: String) throws {
            guard parts.count - 1 <= most else { throw refuse("\(form): \(most == 0 ? "no" : "at most \(most)") parameters") }
        }
        func number(_ i: Int, _ what: String, _ rule: String = "finite", _ ok: (Double) -> Bool = { _ in true }) throws -> Double {
            guard i < parts.count, let v = Double(parts[i]), v.isFinite, ok(v) else {
                throw refuse("\(what) as parameter \(i), \(rule)")
            }
            return v
        }
        switch name {
        case "rate":
            try arity(1, "rate:MIN")
            self = .accumulationToRate(minutes: try number(1, "the accumulation minutes", "above 0") { $0 > 0 })
        case "clip":
            try arity(3, "clip:T:BELOW[:MAX]")
            let threshold = try number(1, "a threshold")
            let below = try number(2, "the value below it")
            let maximum = parts.count > 3 ? try number(3, "a maximum", "above the threshold \(formatValue(threshold))") { $0 > threshold } : nil
            self = .clip(threshold: threshold, below: below, maximum: maximum)
        case "dbr":
            try arity(2, "dbr:T:ZERO")
            self = .decibel(threshold: try number(1, "a threshold in mm/h", "above 0 (10 log10 of 0 is -infinity)") { $0 > 0 },
                            zeroValue: try number(2, "the no-rain value in dBR"))
        case "log":
            try arity(1, "log:EPS")
            self = .log(epsilon: try number(1, "epsilon", "above 0 (log of 0 is -infinity)") { $0 > 0 })
        case "boxcox":
            try arity(2, "boxcox:LAMBDA:EPS")
            self = .boxCox(lambda: try number(1, "lambda"), epsilon: try number(2, "epsilon", "above 0") { $0 > 0 })
        case "zscore":
            try arity(0, "zscore")
            self = .zScore(mean: nil, std: nil)
        case "minmax":
            try arity(0, "minmax")
            self = .minMax(minimum: nil, maximum: nil)
        default:
            throw refuse("a known transform (rate:MIN, clip:T:BELOW[:MAX], dbr:T:ZERO, log:EPS, boxcox:LAMBDA:EPS, zscore, minmax)")
        }
    }
}

private func formatValue(_ value: Double) -> String { String(format: "%g", value) }
