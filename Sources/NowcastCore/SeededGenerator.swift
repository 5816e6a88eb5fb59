import Foundation

/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64): the
/// same seed gives the same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The generator of stream `stream` of `seed` (an ensemble member, a worker): each stream is
    /// fixed by the pair alone, so any one can be recomputed without the others.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ ((stream &+ 1) &* 0xD1B5_4A32_D192_ED03))
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A Laplace value of unit variance (scale 1/sqrt 2), by inversion.
    public mutating func laplace() -> Double {
        let u = uniform() - 0.5
        return -(u < 0 ? -1 : 1) * log(max(1 - 2 * abs(u), 1e-300)) / 2.0.squareRoot()
    }

    /// A standard normal value (Box-Muller).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// `count` standard normal values, both of each Box-Muller pair used (half the logarithms and
    /// cosines of `gaussian()` calls; a different stream of values from the same state).
    public mutating func gaussians(_ count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let radius = (-2 * log(max(uniform(), 1e-300))).squareRoot()
            let angle = 2 * Double.pi * uniform()
            values[i] = Float(radius * cos(angle))
            if i + 1 < count { values[i + 1] = Float(radius * sin(angle)) }
            i += 2
        }
        return values
    }
}
