import Foundation

/// Branch-free `exp`, `tanh` and sigmoid on 8-lane vectors: the gate activations of a ConvLSTM cost
/// as much as its convolutions with scalar libm calls, which do not vectorise. The scalar forms run
/// the vector code on one lane, so a tail element gets exactly what a lane would. Each keeps its libm
/// reference (`reference*`); tests hold the two within a few units in the last place.
enum FastMath {
    typealias Vector = SIMD8<Float>

    /// `exp(x)` (Cephes' single-precision polynomial, 2^n built in the exponent bits); relative error
    /// below 3e-7; the input is clamped to [-87.3, 88.3], NaN stays NaN.
    @inline(__always)
    static func exp(_ value: Vector) -> Vector {
        var x = value.replacing(with: -87.3, where: value .< -87.3)
        x.replace(with: 88.3, where: x .> 88.3)
        // Round x / ln 2 to the nearest integer n with the 1.5 * 2^23 trick (no rounding instruction
        // needed): the low mantissa bits of t then hold n.
        let t = x * 1.44269504 + 12_582_912
        let n = t - 12_582_912
        let z = x - n * 0.693359375 + n * 2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * z + 1.3981999507e-3
        p = p * z + 8.3334519073e-3
        p = p * z + 4.1665795894e-2
        p = p * z + 1.6666665459e-1
        p = p * z + 5.0000001201e-1
        let polynomial = p * z * z + z + 1
        let exponent = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127
        return polynomial * unsafeBitCast(exponent &<< 23, to: Vector.self)
    }

    /// Logistic sigmoid `1 / (1 + exp(-x))`.
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

    /// `tanh(x)` as a 13/6 rational function on [-7.9, 7.9] (beyond it tanh is ±1 in Float32); absolute
    /// error below 1e-6, relative precision kept for tiny arguments.
    @inline(__always)
    static func tanh(_ value: Vector) -> Vector {
        var x = value.replacing(with: -7.90531110763549805, where: value .< -7.90531110763549805)
        x.replace(with: 7.90531110763549805, where: x .> 7.90531110763549805)
        let x2 = x * x
        var p = Vector(repeating: -2.76076847742355e-16)
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 - 8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        var q = Vector(repeating: 1.19825839466702e-06)
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        return x * p / q
    }

    @inline(__always) static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }
    @inline(__always) static func sigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }

    static func referenceExp(_ x: Float) -> Float { Foundation.exp(x) }
    static func referenceSigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
    static func referenceTanh(_ x: Float) -> Float { Foundation.tanh(x) }
}

extension FastMath {
    /// The starts of the whole 8-lane vectors in `range`, and the shorter tail after them. Large
    /// kernel bodies are written as a local `@inline(__always) func step(_ k: Int, _ lanes: Int)` and
    /// called as `for k in vectors { step(k, 8) }` then once on the tail: with the lane count a
    /// constant in the loop, the loads and stores are whole vectors (passed through a closure, the
    /// compiler kept the general path in the loop).
    @inline(__always)
    static func vectorSplit(_ range: Range<Int>) -> (vectors: StrideTo<Int>, tail: Range<Int>) {
        let end = range.lowerBound + (range.count / 8) * 8
        return (stride(from: range.lowerBound, to: end, by: 8), end..<range.upperBound)
    }

    /// Calls `body(k, lanes)` for `k` stepping by 8 through `range`; `lanes` is 8 except for a shorter
    /// last step. Bodies load and store with `vector(at:lanes:)` and `store(_:at:lanes:)`; for small
    /// bodies only (see `vectorSplit`).
    @inline(__always)
    static func forEachVector(_ range: Range<Int>, _ body: (_ k: Int, _ lanes: Int) -> Void) {
        let (vectors, tail) = vectorSplit(range)
        for k in vectors { body(k, 8) }
        if !tail.isEmpty { body(tail.lowerBound, tail.count) }
    }

    /// Copies `count` floats with vector loads and stores: for the short runs of an NHWC pixel's
    /// channels, where a `memmove` call costs more than the copy.
    @inline(__always)
    static func copy(_ count: Int, from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>) {
        forEachVector(0..<count) { k, lanes in target.store(source.vector(at: k, lanes: lanes), at: k, lanes: lanes) }
    }
}

extension UnsafePointer where Pointee == Float {
    /// `lanes` (at most 8) floats from `self + offset`, zeros after them; no alignment needed.
    @inline(__always)
    func vector(at offset: Int, lanes: Int = 8) -> SIMD8<Float> {
        if lanes == 8 { return UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>()
        for l in 0..<lanes { v[l] = self[offset + l] }
        return v
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// `lanes` (at most 8) floats from `self + offset`, zeros after them; no alignment needed.
    @inline(__always)
    func vector(at offset: Int, lanes: Int = 8) -> SIMD8<Float> { UnsafePointer(self).vector(at: offset, lanes: lanes) }

    /// Writes the first `lanes` (at most 8) floats of `v` from `self + offset`; no alignment needed.
    @inline(__always)
    func store(_ v: SIMD8<Float>, at offset: Int, lanes: Int = 8) {
        if lanes == 8 { UnsafeMutableRawPointer(self + offset).storeBytes(of: v, as: SIMD8<Float>.self); return }
        for l in 0..<lanes { self[offset + l] = v[l] }
    }
}
