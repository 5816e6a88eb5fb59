import Foundation

/// Complex fast Fourier transform of power-of-two lengths (iterative radix 2) on split real and
/// imaginary arrays, in one and two dimensions. `naiveDFT` is the plain reference it is tested against.
/// Internal to NowcastPhysics (its noise generators), whose arrays always have the right size.
struct FFT: Sendable {
    /// Transform length, a power of two.
    let length: Int
    private let cosines: [Double]
    private let sines: [Double]
    private let reversed: [Int]

    /// Prepares twiddle factors and the bit-reversal permutation; nil if `length` is not a power of two.
    init?(length: Int) {
        guard length > 0, length & (length - 1) == 0 else { return nil }
        self.length = length
        cosines = (0..<max(1, length / 2)).map { cos(2 * .pi * Double($0) / Double(length)) }
        sines = (0..<max(1, length / 2)).map { sin(2 * .pi * Double($0) / Double(length)) }
        let bits = length.trailingZeroBitCount
        reversed = (0..<length).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    /// In-place transform of `length` values; `inverse` uses exp(+i...) and divides by `length`.
    func transform(real: UnsafeMutablePointer<Double>, imag: UnsafeMutablePointer<Double>, inverse: Bool) {
        let n = length
        for i in 0..<n {
            let j = reversed[i]
            if j > i {
                swap(&real[i], &real[j])
                swap(&imag[i], &imag[j])
            }
        }
        let sign: Double = inverse ? 1 : -1
        var size = 2
        while size <= n {
            let half = size / 2
            let stride = n / size
            var start = 0
            while start < n {
                for k in 0..<half {
                    let wr = cosines[k * stride], wi = sign * sines[k * stride]
                    let a = start + k, b = a + half
                    let tr = real[b] * wr - imag[b] * wi
                    let ti = real[b] * wi + imag[b] * wr
                    real[b] = real[a] - tr
                    imag[b] = imag[a] - ti
                    real[a] += tr
                    imag[a] += ti
                }
                start += size
            }
            size *= 2
        }
        if inverse {
            let scale = 1 / Double(n)
            for i in 0..<n { real[i] *= scale; imag[i] *= scale }
        }
    }

    /// In-place 2-D transform of a `length` x `length` row-major array.
    func transform2D(real: inout [Double], imag: inout [Double], inverse: Bool) {
        let n = length
        precondition(real.count == n * n && imag.count == n * n, "FFT.transform2D needs length x length arrays")
        var columnReal = [Double](repeating: 0, count: n), columnImag = [Double](repeating: 0, count: n)
        real.withUnsafeMutableBufferPointer { re in
            imag.withUnsafeMutableBufferPointer { im in
                for row in 0..<n { transform(real: re.baseAddress! + row * n, imag: im.baseAddress! + row * n, inverse: inverse) }
                columnReal.withUnsafeMutableBufferPointer { cr in
                    columnImag.withUnsafeMutableBufferPointer { ci in
                        for column in 0..<n {
                            for row in 0..<n { cr[row] = re[row * n + column]; ci[row] = im[row * n + column] }
                            transform(real: cr.baseAddress!, imag: ci.baseAddress!, inverse: inverse)
                            for row in 0..<n { re[row * n + column] = cr[row]; im[row * n + column] = ci[row] }
                        }
                    }
                }
            }
        }
    }

    /// The plain O(n^2) discrete Fourier transform, the reference for tests.
    static func naiveDFT(real: [Double], imag: [Double], inverse: Bool) -> (real: [Double], imag: [Double]) {
        let n = real.count
        let sign: Double = inverse ? 1 : -1
        var outReal = [Double](repeating: 0, count: n), outImag = [Double](repeating: 0, count: n)
        for k in 0..<n {
            for t in 0..<n {
                let angle = sign * 2 * .pi * Double(k * t % n) / Double(n)
                outReal[k] += real[t] * cos(angle) - imag[t] * sin(angle)
                outImag[k] += real[t] * sin(angle) + imag[t] * cos(angle)
            }
            if inverse { outReal[k] /= Double(n); outImag[k] /= Double(n) }
        }
        return (outReal, outImag)
    }
}
