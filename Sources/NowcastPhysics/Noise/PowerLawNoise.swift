import Foundation
import NowcastCore

/// Unit-variance Gaussian fields on an `size` x `size` periodic domain whose power spectrum falls as
/// k^-`exponent` (rain fields show about k^-3) from the grid scale up to `1 / flatBelow` of the
/// domain, and is flat at larger scales. Made by filtering white noise in Fourier space; each
/// inverse FFT gives two independent fields (its real and imaginary parts), the second kept for the
/// next call. Deterministic for a given generator state.
public struct PowerLawNoise {
    /// Side of the periodic domain, a power of two.
    public let size: Int
    private let fft: FFT
    private let amplitude: [Double]
    private var spare: [Double]?

    /// Nil when `size` is not a power of two.
    public init?(size: Int, exponent: Double = 3, flatBelow fraction: Double = 4) {
        guard let fft = FFT(length: size) else { return nil }
        self.size = size
        self.fft = fft
        var amplitude = [Double](repeating: 0, count: size * size)
        let n = Double(size)
        for row in 0..<size {
            let ky = Double(row <= size / 2 ? row : row - size) / n
            for column in 0..<size {
                let kx = Double(column <= size / 2 ? column : column - size) / n
                let k = (kx * kx + ky * ky).squareRoot()
                amplitude[row * size + column] = k == 0 ? 0 : pow(max(k, fraction / n), -exponent / 2)
            }
        }
        self.amplitude = amplitude
    }

    /// The next field, `size * size` values row-major, mean 0 and variance 1.
    public mutating func next(using random: inout SeededGenerator) -> [Double] {
        if let field = spare {
            spare = nil
            return field
        }
        let count = size * size
        var real = [Double](repeating: 0, count: count), imag = [Double](repeating: 0, count: count)
        for i in 0..<count {
            real[i] = random.gaussian() * amplitude[i]
            imag[i] = random.gaussian() * amplitude[i]
        }
        fft.transform2D(real: &real, imag: &imag, inverse: true)
        spare = Self.normalised(imag)
        return Self.normalised(real)
    }

    private static func normalised(_ values: [Double]) -> [Double] {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        let scale = variance > 0 ? 1 / variance.squareRoot() : 0
        return values.map { ($0 - mean) * scale }
    }
}
