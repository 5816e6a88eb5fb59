import CFFTW
import Foundation

/// Real-to-complex 2-D Fourier transforms of `ny` x `nx` fields through FFTW (single precision,
/// any sizes), with the plans made once and reused. The spectrum is FFTW's half spectrum: `ny` rows
/// of `nx / 2 + 1` complex values, interleaved real and imaginary parts, unnormalised; `inverse`
/// divides by `ny * nx`, so that inverse(forward(x)) == x.
///
/// Plans are made with `FFTW_ESTIMATE`: timing trials (`FFTW_MEASURE`) could pick another
/// algorithm on a busy machine and change the last bits of results, and forecasts must be the same
/// bits for the same seed. Making a plan is not thread-safe in FFTW and happens under a lock;
/// transforming is, so each thread uses its own `RealFFT2D` (each owns aligned work buffers).
public final class RealFFT2D: @unchecked Sendable {
    public let ny: Int, nx: Int
    /// Complex values per spectrum row.
    public var width: Int { nx / 2 + 1 }
    /// Floats in a spectrum (twice the complex values).
    public var spectrumCount: Int { 2 * ny * width }
    private let forwardPlan: fftwf_plan
    private let inversePlan: fftwf_plan
    private let real: UnsafeMutablePointer<Float>
    private let complex: UnsafeMutablePointer<fftwf_complex>

    private static let planning = NSLock()

    /// Nil for an empty grid, or when FFTW cannot plan it.
    public init?(ny: Int, nx: Int) {
        guard ny > 0, nx > 0, ny < Int(Int32.max), nx < Int(Int32.max) else { return nil }
        let width = nx / 2 + 1
        guard let realBuffer = fftwf_alloc_real(ny * nx), let complexBuffer = fftwf_alloc_complex(ny * width) else { return nil }
        Self.planning.lock()
        let forward = fftwf_plan_dft_r2c_2d(Int32(ny), Int32(nx), realBuffer, complexBuffer, nk_fftw_estimate())
        let inverse = fftwf_plan_dft_c2r_2d(Int32(ny), Int32(nx), complexBuffer, realBuffer, nk_fftw_estimate() | nk_fftw_destroy_input())
        Self.planning.unlock()
        guard let forward, let inverse else {
            Self.planning.lock()
            if let forward { fftwf_destroy_plan(forward) }
            if let inverse { fftwf_destroy_plan(inverse) }
            Self.planning.unlock()
            fftwf_free(realBuffer)
            fftwf_free(complexBuffer)
            return nil
        }
        (self.ny, self.nx, forwardPlan, inversePlan, real, complex) = (ny, nx, forward, inverse, realBuffer, complexBuffer)
    }

    deinit {
        Self.planning.lock()
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
        Self.planning.unlock()
        fftwf_free(real)
        fftwf_free(complex)
    }

    /// The half spectrum of `field` (`ny * nx` values) into `spectrum` (`spectrumCount` floats).
    public func forward(_ field: UnsafeBufferPointer<Float>, into spectrum: UnsafeMutableBufferPointer<Float>) {
        precondition(field.count >= ny * nx && spectrum.count >= spectrumCount, "RealFFT2D.forward: buffers too small")
        real.update(from: field.baseAddress!, count: ny * nx)
        fftwf_execute_dft_r2c(forwardPlan, real, complex)
        UnsafeMutableRawPointer(complex).withMemoryRebound(to: Float.self, capacity: spectrumCount) { spectrum.baseAddress!.update(from: $0, count: spectrumCount) }
    }

    /// The field of a half spectrum, divided by `ny * nx`.
    public func inverse(_ spectrum: UnsafeBufferPointer<Float>, into field: UnsafeMutableBufferPointer<Float>) {
        precondition(field.count >= ny * nx && spectrum.count >= spectrumCount, "RealFFT2D.inverse: buffers too small")
        UnsafeMutableRawPointer(complex).withMemoryRebound(to: Float.self, capacity: spectrumCount) { $0.update(from: spectrum.baseAddress!, count: spectrumCount) }
        fftwf_execute_dft_c2r(inversePlan, complex, real)
        let scale = 1 / Float(ny * nx)
        for i in 0..<(ny * nx) { field[i] = real[i] * scale }
    }

    /// `forward` on arrays.
    public func forward(_ field: [Float]) -> [Float] {
        var spectrum = [Float](repeating: 0, count: spectrumCount)
        field.withUnsafeBufferPointer { f in spectrum.withUnsafeMutableBufferPointer { forward(f, into: $0) } }
        return spectrum
    }

    /// `inverse` on arrays.
    public func inverse(_ spectrum: [Float]) -> [Float] {
        var field = [Float](repeating: 0, count: ny * nx)
        spectrum.withUnsafeBufferPointer { s in field.withUnsafeMutableBufferPointer { inverse(s, into: $0) } }
        return field
    }

    /// Mean and standard deviation (population) of the field whose half spectrum is `spectrum`, by
    /// Parseval's theorem, without transforming back: the columns between 0 and nx / 2 stand for
    /// their conjugates too.
    public func moments(_ spectrum: UnsafeBufferPointer<Float>) -> (mean: Double, deviation: Double) {
        let n = Double(ny * nx)
        var power = 0.0
        for row in 0..<ny {
            for column in 0..<width {
                let k = 2 * (row * width + column)
                let magnitude = Double(spectrum[k]) * Double(spectrum[k]) + Double(spectrum[k + 1]) * Double(spectrum[k + 1])
                let twice = column > 0 && !(nx % 2 == 0 && column == nx / 2)
                power += twice ? 2 * magnitude : magnitude
            }
        }
        let mean = Double(spectrum[0]) / n
        return (mean, max(0, power / (n * n) - mean * mean).squareRoot())
    }

    /// The plain O((ny nx)^2) discrete Fourier transform's half spectrum, in double precision: the
    /// reference for tests.
    public static func referenceSpectrum(_ field: [Float], ny: Int, nx: Int) -> [Double] {
        let width = nx / 2 + 1
        var out = [Double](repeating: 0, count: 2 * ny * width)
        for ky in 0..<ny {
            for kx in 0..<width {
                var (re, im) = (0.0, 0.0)
                for y in 0..<ny {
                    for x in 0..<nx {
                        let angle = -2 * Double.pi * (Double(ky * y % ny) / Double(ny) + Double(kx * x % nx) / Double(nx))
                        re += Double(field[y * nx + x]) * cos(angle)
                        im += Double(field[y * nx + x]) * sin(angle)
                    }
                }
                out[2 * (ky * width + kx)] = re
                out[2 * (ky * width + kx) + 1] = im
            }
        }
        return out
    }
}
