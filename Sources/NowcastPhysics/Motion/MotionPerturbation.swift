import Foundation
import NowcastCore

/// Motion perturbations of Bowler, Pierce and Seed (2006), as pySTEPS's `noise.motion` "bps": each
/// ensemble member draws two unit-variance Laplace numbers once, and at lead time t (minutes) its
/// motion is the estimated one plus g_par(t) eps_par along the local motion direction and g_perp(t)
/// eps_perp across it, with g(t) = a t^b + c in km/h (defaults fitted by the authors on UK radar:
/// along (10.88, 0.23, -7.68), across (5.76, 0.31, -2.72)).
public struct MotionPerturbation: Sendable, Equatable {
    /// The coefficients (a, b, c) of g(t) = a t^b + c, km/h with t in minutes.
    public struct Growth: Sendable, Equatable, Codable {
        public var a: Double, b: Double, c: Double
        public init(a: Double, b: Double, c: Double) { (self.a, self.b, self.c) = (a, b, c) }
        public func callAsFunction(_ minutes: Double) -> Double { a * pow(minutes, b) + c }
        public static let along = Growth(a: 10.88, b: 0.23, c: -7.68)
        public static let across = Growth(a: 5.76, b: 0.31, c: -2.72)
    }

    public let along: Double
    public let across: Double
    public let growthAlong: Growth
    public let growthAcross: Growth

    /// A member's perturbation drawn from `random`.
    public init(using random: inout SeededGenerator, along growthAlong: Growth = .along, across growthAcross: Growth = .across) {
        along = random.laplace()
        across = random.laplace()
        (self.growthAlong, self.growthAcross) = (growthAlong, growthAcross)
    }

    /// `motion` perturbed for lead time `minutes`, on a grid of `kilometresPerPixel` with steps of
    /// `stepMinutes`.
    public func perturbed(_ motion: MotionField, minutes: Double, kilometresPerPixel: Double, stepMinutes: Double) -> MotionField {
        // km/h -> pixels per step.
        let scale = stepMinutes / (60 * kilometresPerPixel)
        let dAlong = Float(growthAlong(minutes) * along * scale), dAcross = Float(growthAcross(minutes) * across * scale)
        var result = motion
        for i in motion.u.indices {
            let (u, v) = (motion.u[i], motion.v[i])
            let speed = (u * u + v * v).squareRoot()
            guard speed > 1e-12 else { continue }
            let (eu, ev) = (u / speed, v / speed)
            result.u[i] = u + dAlong * eu - dAcross * ev
            result.v[i] = v + dAlong * ev + dAcross * eu
        }
        return result
    }
}
