import Foundation

/// An AR(2) model of one cascade level's evolution, as STEPS uses it (Bowler, Pierce and Seed 2006;
/// pySTEPS's `estimate_ar_params_yw` with `adjust_lag2_corrcoef2`): from the lag-1 and lag-2
/// correlations of the level's successive fields, x(t) = phi1 x(t-1) + phi2 x(t-2) + phi0 e(t)
/// with unit-variance noise e. The lag-2 correlation is first moved into the region where the
/// Yule-Walker solution is a stationary process.
public struct AutoRegression2: Equatable, Sendable {
    public let phi1: Double, phi2: Double
    /// The noise's weight: sqrt(1 - gamma1 phi1 - gamma2 phi2), 0 if that is negative.
    public let phi0: Double
    /// The correlations it was estimated from (gamma2 after the adjustment).
    public let gamma1: Double, gamma2: Double

    /// Yule-Walker estimates from lag-1 and lag-2 correlations (|gamma1| < 1).
    public init(gamma1: Double, gamma2 rawGamma2: Double) throws {
        guard gamma1.isFinite, rawGamma2.isFinite, abs(gamma1) < 1 else {
            throw PhysicsError.input(expected: "lag correlations with |gamma1| < 1", found: "gamma1 \(gamma1), gamma2 \(rawGamma2)")
        }
        let g2 = Self.adjustedLag2(gamma1: gamma1, gamma2: rawGamma2)
        phi1 = gamma1 * (1 - g2) / (1 - gamma1 * gamma1)
        phi2 = (g2 - gamma1 * gamma1) / (1 - gamma1 * gamma1)
        let c = 1 - gamma1 * phi1 - g2 * phi2
        phi0 = c > 0 ? c.squareRoot() : 0
        (self.gamma1, gamma2) = (gamma1, g2)
    }

    /// pySTEPS's `adjust_lag2_corrcoef2`: gamma2 raised to at least 2 gamma1 gamma2 - 1 and to the
    /// lower bound (3 gamma1^2 - 2 + 2 (1 - gamma1^2)^1.5) / gamma1^2 of a stationary AR(2).
    public static func adjustedLag2(gamma1: Double, gamma2: Double) -> Double {
        var g2 = max(gamma2, 2 * gamma1 * gamma2 - 1)
        if gamma1 != 0 {
            g2 = max(g2, (3 * gamma1 * gamma1 - 2 + 2 * pow(1 - gamma1 * gamma1, 1.5)) / (gamma1 * gamma1))
        }
        return g2
    }

    /// True when both roots of z^2 - phi1 z - phi2 lie inside the unit circle.
    public var isStationary: Bool { abs(phi2) < 1 && phi2 + phi1 < 1 && phi2 - phi1 < 1 }

    /// The next value from the two before it and a noise value.
    @inlinable
    public func step(previous: Float, beforePrevious: Float, noise: Float) -> Float {
        Float(phi1) * previous + Float(phi2) * beforePrevious + Float(phi0) * noise
    }

    /// Pearson correlation of two fields over the pixels where both are finite (NaN with fewer
    /// than two such pixels or no variance): how lag correlations are measured.
    public static func correlation(_ a: [Float], _ b: [Float]) -> Double {
        var (n, sa, sb, saa, sbb, sab) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        for i in 0..<min(a.count, b.count) where a[i].isFinite && b[i].isFinite {
            let (x, y) = (Double(a[i]), Double(b[i]))
            n += 1; sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
        }
        guard n >= 2 else { return .nan }
        let cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : .nan
    }
}
