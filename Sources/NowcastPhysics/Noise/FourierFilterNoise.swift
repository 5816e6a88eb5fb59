import Foundation
import NowcastCore

/// Gaussian noise fields with the power spectrum of an observed field (pySTEPS's nonparametric
/// Fourier filter, `initialize_nonparam_2d_fft_filter`): the field's no-rain floor is lifted to the
/// smallest wet value and subtracted (so the rain/no-rain edge does not dominate the spectrum), the
/// field is tapered by a Tukey window (alpha 0.2) and zero-padded to a power-of-two square, and the
/// amplitude of its Fourier transform filters white noise. Each field is cut back to the grid and
/// normalised to mean 0 and standard deviation 1; fields drawn from the same generator state are
/// the same bits.
public struct FourierFilterNoise {
    public let ny: Int
    public let nx: Int
    private let size: Int
    private let fft: FFT
    private let amplitude: [Double]

    /// The filter of `field` (`ny * nx` values, NaN read as `noRain`); nil for a field without
    /// any variation to take a spectrum from.
    public init?(field: [Float], ny: Int, nx: Int, noRain: Float) {
        guard field.count == ny * nx, ny > 1, nx > 1 else { return nil }
        var size = 1
        while size < max(ny, nx) { size *= 2 }
        guard let fft = FFT(length: size) else { return nil }
        let values = field.map { $0.isNaN ? noRain : $0 }
        let floor = values.min() ?? noRain
        let smallestWet = values.filter { $0 > floor }.min()
        guard let smallestWet else { return nil }
        var real = [Double](repeating: 0, count: size * size), imag = real
        for y in 0..<ny {
            let wy = Self.tukey(y, ny)
            for x in 0..<nx {
                let v = values[y * nx + x]
                let lifted = v > floor ? Double(v - smallestWet) : 0
                real[y * size + x] = lifted * wy * Self.tukey(x, nx)
            }
        }
        fft.transform2D(real: &real, imag: &imag, inverse: false)
        var amplitude = (0..<(size * size)).map { (real[$0] * real[$0] + imag[$0] * imag[$0]).squareRoot() }
        amplitude[0] = 0  // the mean is set by normalisation
        guard amplitude.contains(where: { $0 > 0 }) else { return nil }
        (self.ny, self.nx, self.size, self.fft, self.amplitude) = (ny, nx, size, fft, amplitude)
    }

    /// The next noise field, `ny * nx` values.
    public func next(using random: inout SeededGenerator) -> [Float] {
        let count = size * size
        var real = (0..<count).map { _ in random.gaussian() }, imag = [Double](repeating: 0, count: count)
        fft.transform2D(real: &real, imag: &imag, inverse: false)
        for i in 0..<count {
            real[i] *= amplitude[i]
            imag[i] *= amplitude[i]
        }
        fft.transform2D(real: &real, imag: &imag, inverse: true)
        var field = [Double](repeating: 0, count: ny * nx)
        for y in 0..<ny { for x in 0..<nx { field[y * nx + x] = real[y * size + x] } }
        let mean = field.reduce(0, +) / Double(field.count)
        let std = (field.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(field.count)).squareRoot()
        return field.map { Float(std > 0 ? ($0 - mean) / std : 0) }
    }

    /// Tukey window (alpha 0.2) over `n` samples at `i`: flat in the middle, cosine tapers at the ends.
    static func tukey(_ i: Int, _ n: Int) -> Double {
        let alpha = 0.2, position = Double(i) / Double(max(1, n - 1))
        if position < alpha / 2 { return 0.5 * (1 + cos(.pi * (2 * position / alpha - 1))) }
        if position > 1 - alpha / 2 { return 0.5 * (1 + cos(.pi * (2 * position / alpha - 2 / alpha + 1))) }
        return 1
    }
}
