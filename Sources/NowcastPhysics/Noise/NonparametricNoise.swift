import Foundation
import NowcastCore

/// Gaussian noise with the observed fields' power spectrum, as pySTEPS's nonparametric Fourier
/// filter (`initialize_nonparam_2d_fft_filter` and `generate_noise_2d_fft_filter`) on the grid
/// itself through FFTW: the fields' wet values are shifted down to their no-rain floor (so the
/// rain edge does not dominate), each field's minimum is subtracted, a radial Tukey window
/// (alpha 0.2, zero outside the inscribed ellipse) tapers it, and the amplitude of the mean of the
/// fields' spectra filters white noise. Each noise field has mean 0 and standard deviation 1.
public struct NonparametricNoise: Sendable {
    public let ny: Int, nx: Int
    /// The filter's amplitude per half-spectrum position.
    public let amplitude: [Float]

    /// The filter of `fields` (finite values, `ny * nx` each, at least one); nil when they carry no
    /// variation (a dry grid) or FFTW cannot plan the grid.
    public init?(fields: [[Float]], ny: Int, nx: Int) {
        guard !fields.isEmpty, fields.allSatisfy({ $0.count == ny * nx && $0.allSatisfy(\.isFinite) }), let fft = RealFFT2D(ny: ny, nx: nx) else { return nil }
        let floor = fields.map { $0.min() ?? 0 }.min() ?? 0
        let wetMinimum = fields.flatMap { $0.filter { $0 > floor } }.min()
        guard let wetMinimum else { return nil }
        let window = Self.tukey(ny: ny, nx: nx)
        var mean = [Double](repeating: 0, count: fft.spectrumCount)
        for field in fields {
            let shifted = field.map { $0 > floor ? $0 - (wetMinimum - floor) : $0 }
            let low = shifted.min() ?? 0
            let tapered = (0..<(ny * nx)).map { (shifted[$0] - low) * window[$0] }
            for (i, v) in fft.forward(tapered).enumerated() { mean[i] += Double(v) / Double(fields.count) }
        }
        let amplitude = (0..<(fft.spectrumCount / 2)).map { (k: Int) -> Float in
            let (re, im) = (mean[2 * k], mean[2 * k + 1])
            return Float((re * re + im * im).squareRoot())
        }
        guard amplitude.dropFirst().contains(where: { $0 > 0 }) else { return nil }
        (self.ny, self.nx, self.amplitude) = (ny, nx, amplitude)
    }

    /// The next noise field's half spectrum before normalisation (white noise drawn from `random`,
    /// filtered): what a cascade in the spectral domain takes.
    public func nextSpectrum(using random: inout SeededGenerator, fft: RealFFT2D) -> [Float] {
        let white = random.gaussians(ny * nx)
        var spectrum = fft.forward(white)
        for i in 0..<amplitude.count {
            spectrum[2 * i] *= amplitude[i]
            spectrum[2 * i + 1] *= amplitude[i]
        }
        return spectrum
    }

    /// The next noise field, drawn from `random` and made with `fft` (this grid's transform).
    public func next(using random: inout SeededGenerator, fft: RealFFT2D) -> [Float] {
        let field = fft.inverse(nextSpectrum(using: &random, fft: fft))
        let mean = field.reduce(0.0) { $0 + Double($1) } / Double(field.count)
        let deviation = (field.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(field.count)).squareRoot()
        return field.map { deviation > 0 ? Float((Double($0) - mean) / deviation) : 0 }
    }

    /// pySTEPS's radial Tukey window: 1 inside radius 0.4 of the normalised grid, a cosine taper to 0
    /// at radius 0.5, 0 beyond.
    static func tukey(ny: Int, nx: Int, alpha: Double = 0.2) -> [Float] {
        (0..<(ny * nx)).map { i in
            let (y, x) = (Double(i / nx), Double(i % nx))
            let r = ((x / Double(nx) - 0.5) * (x / Double(nx) - 0.5) + (y / Double(ny) - 0.5) * (y / Double(ny) - 0.5)).squareRoot()
            if r >= 0.5 { return 0 }
            if r > 0.5 * (1 - alpha) { return Float(0.5 * (1 + cos(.pi * (r / (alpha * 0.5) - 1 / alpha + 1)))) }
            return 1
        }
    }
}
