import Foundation

/// Branch-free `exp`, `tanh` and sigmoid that the compiler vectorises (the libm calls do not): the
/// gate activations of a ConvLSTM cost as much as its convolutions with libm. Each keeps its libm
/// reference in `FastMath.reference*`; tests hold the two within a few units in the last place.
enum FastMath {
    /// `exp(x)` (Cephes' single-precision polynomial, 2^n built in the exponent bits); relative error
    /// below 2e-7 for x in [-87, 88]; the input is clamped to that range.
    @inline(__always)
    static func exp(_ value: Float) -> Float {
        let x = min(max(value, -87.3), 88.3)
        // Round x / ln 2 to the nearest integer n with the 1.5 * 2^23 trick (no rounding instruction
        // needed): the low mantissa bits of t then hold n.
        let t = x * 1.44269504 + 12_582_912
        let n = t - 12_582_912
        let z = x - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * z + 1.3981999507e-3
        p = p * z + 8.3334519073e-3
        p = p * z + 4.1665795894e-2
        p = p * z + 1.6666665459e-1
        p = p * z + 5.0000001201e-1
        let polynomial = p * z * z + z + 1
        let exponent = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 127
        return polynomial * Float(bitPattern: UInt32(bitPattern: exponent &<< 23))
    }

    /// Logistic sigmoid `1 / (1 + exp(-x))`.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// `tanh(x)` as a 13/6 rational function on [-7.9, 7.9] (beyond it tanh is ±1 in Float32); absolute
    /// error below 1e-6.
    @inline(__always)
    static func tanh(_ value: Float) -> Float {
        let x = min(max(value, -7.90531110763549805), 7.90531110763549805)
        let x2 = x * x
        var p: Float = -2.76076847742355e-16
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 - 8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        var q: Float = 1.19825839466702e-06
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        return x * p / q
    }

    static func referenceExp(_ x: Float) -> Float { Foundation.exp(x) }
    static func referenceSigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
    static func referenceTanh(_ x: Float) -> Float { Foundation.tanh(x) }
}
