import Foundation
import NowcastCore

/// Gaussian noise fields with a prescribed power spectrum: white noise drawn on the grid,
/// transformed (FFTW), multiplied by an amplitude per half-spectrum position, transformed back and
/// normalised to mean 0 and standard deviation 1 (pySTEPS's `generate_noise_2d_fft_filter`).
/// Fields drawn from the same generator state are the same bits. The amplitude comes from one of
/// three recipes:
/// - `nonparametric`: the observed fields' own spectrum (pySTEPS's `initialize_nonparam_2d_fft_filter`,
///   the STEPS default);
/// - `parametric`: a two-slope power law fitted to their radially averaged spectrum
///   (`initialize_param_2d_fft_filter`, `PowerSpectrumFit`);
/// - `powerLaw`: a given exponent, for synthetic rain.
public struct NoiseFilter: Sendable {
    public let ny: Int, nx: Int
    /// The filter's amplitude per half-spectrum position (row-major, `nx / 2 + 1` per row).
    public let amplitude: [Float]

    /// A filter of the given amplitudes; nil when the sizes do not fit or nothing but the mean passes.
    public init?(ny: Int, nx: Int, amplitude: [Float]) {
        guard ny > 0, nx > 0, amplitude.count == ny * (nx / 2 + 1), amplitude.allSatisfy({ $0.isFinite && $0 >= 0 }),
              amplitude.dropFirst().contains(where: { $0 > 0 }) else { return nil }
        (self.ny, self.nx, self.amplitude) = (ny, nx, amplitude)
    }

    /// The mean spectrum's amplitude of `fields` (finite values, `ny * nx` each, at least one), as
    /// pySTEPS prepares it: the wet values shifted down to the no-rain floor (so the rain edge does
    /// not dominate), each field's minimum subtracted, a radial Tukey window (alpha 0.2, zero outside
    /// the inscribed ellipse). Nil for a dry grid or one FFTW cannot plan.
    public static func nonparametric(fields: [[Float]], ny: Int, nx: Int) -> NoiseFilter? {
        guard let mean = meanSpectrum(fields, ny: ny, nx: nx, prepare: { shifted in
            let low = shifted.min() ?? 0
            let window = tukey(ny: ny, nx: nx)
            return (0..<(ny * nx)).map { (shifted[$0] - low) * window[$0] }
        }) else { return nil }
        return NoiseFilter(ny: ny, nx: nx, amplitude: squaredMagnitudes(mean).map { Float($0.squareRoot()) })
    }

    /// The two-slope power law `PowerSpectrumFit` fits to the radially averaged power of the mean
    /// spectrum of `fields` (as pySTEPS's parametric filter with its defaults: no window, no shift
    /// of the rain edge), with the fit. Nil for a dry grid or one FFTW cannot plan.
    public static func parametric(fields: [[Float]], ny: Int, nx: Int) -> (filter: NoiseFilter, fit: PowerSpectrumFit)? {
        guard let mean = meanSpectrum(fields, ny: ny, nx: nx, shiftRainEdge: false, prepare: { $0 }) else { return nil }
        let power = squaredMagnitudes(mean).map { $0 / Double(ny * nx) }
        let rings = RadialSpectrum(ny: ny, nx: nx)
        guard let fit = PowerSpectrumFit(radialPower: rings.average(power)) else { return nil }
        let amplitude = rings.radii.map { r in r == 0 ? 1 : Float(exp(fit.logPower(atLogWavenumber: log(r)) / 2)) }
        return NoiseFilter(ny: ny, nx: nx, amplitude: amplitude).map { ($0, fit) }
    }

    /// Power falling as k^-`exponent` from the grid scale up to wavenumber `flatBelow` (in cycles
    /// per domain), flat at larger scales: rain fields show about k^-3.
    public static func powerLaw(ny: Int, nx: Int, exponent: Double = 3, flatBelow: Double = 4) -> NoiseFilter? {
        NoiseFilter(ny: ny, nx: nx, amplitude: RadialSpectrum(ny: ny, nx: nx).radii.map { r in
            r == 0 ? 0 : Float(pow(max(r, flatBelow), -exponent / 2))
        })
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

    /// The mean half spectrum of `fields` after `prepare`, in double precision; with `shiftRainEdge`
    /// the wet values (above the fields' common floor) are first lowered so the smallest meets it.
    private static func meanSpectrum(_ fields: [[Float]], ny: Int, nx: Int, shiftRainEdge: Bool = true,
                                     prepare: ([Float]) -> [Float]) -> [Double]? {
        guard !fields.isEmpty, fields.allSatisfy({ $0.count == ny * nx && $0.allSatisfy(\.isFinite) }), let fft = RealFFT2D(ny: ny, nx: nx) else { return nil }
        let floor = fields.map { $0.min() ?? 0 }.min() ?? 0
        guard let wetMinimum = fields.lazy.flatMap({ $0.lazy.filter { $0 > floor } }).min() else { return nil }
        var mean = [Double](repeating: 0, count: fft.spectrumCount)
        for field in fields {
            let shifted = shiftRainEdge ? field.map { $0 > floor ? $0 - (wetMinimum - floor) : $0 } : field
            for (i, v) in fft.forward(prepare(shifted)).enumerated() { mean[i] += Double(v) / Double(fields.count) }
        }
        return mean
    }

    /// |z|^2 of each complex value of an interleaved spectrum.
    private static func squaredMagnitudes(_ spectrum: [Double]) -> [Double] {
        (0..<(spectrum.count / 2)).map { (k: Int) -> Double in
            let (re, im) = (spectrum[2 * k], spectrum[2 * k + 1])
            return re * re + im * im
        }
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
