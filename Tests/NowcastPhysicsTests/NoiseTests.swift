import Foundation
import NowcastCore
@testable import NowcastPhysics
import XCTest

final class NoiseFilterTests: XCTestCase {
    /// Radially averaged power of `fields` (each `ny * nx`).
    private func radialPower(_ fields: [[Float]], ny: Int, nx: Int) throws -> [Double] {
        let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
        var power = [Double](repeating: 0, count: fft.spectrumCount / 2)
        for field in fields {
            let s = fft.forward(field)
            for k in power.indices { power[k] += Double(s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1]) / Double(fields.count) }
        }
        return RadialSpectrum(ny: ny, nx: nx).average(power)
    }

    /// Lag-1 correlation along rows.
    private func lagCorrelation(_ field: [Float], ny: Int, nx: Int) -> Double {
        var sum = 0.0, count = 0.0
        for y in 0..<ny { for x in 0..<(nx - 1) { sum += Double(field[y * nx + x] * field[y * nx + x + 1]); count += 1 } }
        return sum / count
    }

    func testFieldsHaveUnitVarianceAndAreReproducible() throws {
        let (ny, nx) = (32, 48)  // any size: FFTW needs no power of two
        let filter = try XCTUnwrap(NoiseFilter.powerLaw(ny: ny, nx: nx))
        let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
        var ra = SeededGenerator(seed: 4), rb = SeededGenerator(seed: 4)
        var previous: [Float]?
        for _ in 0..<3 {
            let x = filter.next(using: &ra, fft: fft), y = filter.next(using: &rb, fft: fft)
            XCTAssertEqual(x, y, "same generator state, same bits")
            XCTAssertEqual(x.count, ny * nx)
            XCTAssertEqual(x.reduce(0.0) { $0 + Double($1) } / Double(x.count), 0, accuracy: 1e-5)
            XCTAssertEqual(x.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count), 1, accuracy: 1e-4)
            if let previous {
                let correlation = zip(previous, x).reduce(0.0) { $0 + Double($1.0 * $1.1) } / Double(x.count)
                XCTAssertLessThan(abs(correlation), 0.15, "successive fields are independent draws")
            }
            previous = x
        }
        XCTAssertNil(NoiseFilter(ny: 4, nx: 4, amplitude: [1, 0, 0]), "amplitudes of another grid")
        XCTAssertNil(NoiseFilter(ny: 2, nx: 2, amplitude: [1, 0, 0, 0]), "nothing but the mean passes")
    }

    func testThePowerLawSpectrumFallsWithTheRequestedExponent() throws {
        let n = 128
        let fft = try XCTUnwrap(RealFFT2D(ny: n, nx: n))
        for exponent in [2.0, 3.0] {
            let filter = try XCTUnwrap(NoiseFilter.powerLaw(ny: n, nx: n, exponent: exponent))
            var random = SeededGenerator(seed: 21)
            let power = try radialPower((0..<8).map { _ in filter.next(using: &random, fft: fft) }, ny: n, nx: n)
            // Least-squares slope of log power against log wavenumber above the flat large scales.
            let points = (8..<(n / 2)).map { (log(Double($0)), log(power[$0])) }
            let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
            let slope = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
            XCTAssertEqual(slope, -exponent, accuracy: 0.2, "exponent \(exponent)")
            // Below the flat scale (4 cycles per domain) the spectrum is flat: rings 1...3 differ
            // by the sampling noise only.
            let flat = (1...3).map { power[$0] }
            XCTAssertLessThan((flat.max() ?? 0) / (flat.min() ?? 1), 2.5)
        }
    }

    func testNonparametricNoiseHasTheFieldsSpectrum() throws {
        let (ny, nx) = (64, 64)
        // A field whose power falls steeply with wavenumber: smooth blobs over a dry floor.
        let field = (0..<(ny * nx)).map { i -> Float in
            let (y, x) = (Double(i / nx), Double(i % nx))
            return max(-15, Float(20 * sin(x / 7) * cos(y / 9) + 5 * sin(x / 2.3 + y / 3.1)))
        }
        let noise = try XCTUnwrap(NoiseFilter.nonparametric(fields: [field, field], ny: ny, nx: nx))
        let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
        var random = SeededGenerator(seed: 5)
        let fields = (0..<40).map { _ in noise.next(using: &random, fft: fft) }
        // Radially averaged: the noise's power against the filter's squared amplitude, both scaled to
        // the same total over rings 1..<24; each ring within a factor of 1.6 (40 fields, a few dozen
        // coefficients per ring).
        let noiseRing = try radialPower(fields, ny: ny, nx: nx)
        let targetRing = RadialSpectrum(ny: ny, nx: nx).average(noise.amplitude.map { Double($0 * $0) })
        let (sn, st) = ((1..<24).reduce(0) { $0 + noiseRing[$1] }, (1..<24).reduce(0) { $0 + targetRing[$1] })
        for r in 1..<24 where targetRing[r] > 1e-6 * st {
            let ratio = (noiseRing[r] / sn) / (targetRing[r] / st)
            XCTAssertGreaterThan(ratio, 1 / 1.6, "ring \(r)")
            XCTAssertLessThan(ratio, 1.6, "ring \(r)")
        }
        XCTAssertNil(NoiseFilter.nonparametric(fields: [[Float](repeating: -15, count: ny * nx)], ny: ny, nx: nx), "a dry grid has no spectrum")
        XCTAssertNil(NoiseFilter.nonparametric(fields: [[.nan] + field.dropFirst()], ny: ny, nx: nx), "values must be finite")
    }

    func testSmoothRainGivesSmoothNoiseAndSpeckledRainRoughNoise() throws {
        let (ny, nx) = (40, 56)
        var random = SeededGenerator(seed: 2)
        let smooth = (0..<(ny * nx)).map { i -> Float in
            let (y, x) = (Double(i / nx), Double(i % nx))
            return Float(max(0, 10 * sin(x / 9) * cos(y / 7))) - 15 + (sin(x / 9) * cos(y / 7) > 0 ? 5 : 0)
        }
        let rough = (0..<(ny * nx)).map { _ in Float(random.uniform() < 0.5 ? -15 : random.uniform() * 20) }
        let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
        for method in ["nonparametric", "parametric"] {
            func filter(_ field: [Float]) throws -> NoiseFilter {
                try XCTUnwrap(method == "parametric" ? NoiseFilter.parametric(fields: [field], ny: ny, nx: nx)?.filter
                    : NoiseFilter.nonparametric(fields: [field], ny: ny, nx: nx), method)
            }
            var ra = SeededGenerator(seed: 5), rb = SeededGenerator(seed: 5)
            let fieldA = try filter(smooth).next(using: &ra, fft: fft), fieldB = try filter(rough).next(using: &rb, fft: fft)
            XCTAssertGreaterThan(lagCorrelation(fieldA, ny: ny, nx: nx), 0.8, "\(method): smooth rain gives smooth noise")
            // pySTEPS's bounds keep the parametric slopes at -1 or steeper, never white: a little smoother.
            XCTAssertLessThan(lagCorrelation(fieldB, ny: ny, nx: nx), method == "parametric" ? 0.45 : 0.3, "\(method): speckled rain gives rough noise")
        }
    }

    func testTheParametricFilterFitsTheFieldsSlopes() throws {
        let n = 256
        let fft = try XCTUnwrap(RealFFT2D(ny: n, nx: n))
        // Fields of a known k^-3 power law (flat only below wavenumber 1): both fitted slopes near -3.
        let source = try XCTUnwrap(NoiseFilter.powerLaw(ny: n, nx: n, exponent: 3, flatBelow: 1))
        var random = SeededGenerator(seed: 3)
        let fields = (0..<3).map { _ in source.next(using: &random, fft: fft) }
        let (filter, fit) = try XCTUnwrap(NoiseFilter.parametric(fields: fields, ny: n, nx: n))
        XCTAssertEqual(fit.smallScaleSlope, -3, accuracy: 0.15)
        XCTAssertEqual(fit.largeScaleSlope, -3, accuracy: 0.5)
        // The filter's amplitude is the fitted power's square root: its radial power has the slope.
        let ring = RadialSpectrum(ny: n, nx: n).average(filter.amplitude.map { Double($0 * $0) })
        XCTAssertEqual(log(ring[100] / ring[50]) / log(2.0), fit.logPower(atLogWavenumber: log(100)) / log(2.0) - fit.logPower(atLogWavenumber: log(50)) / log(2.0), accuracy: 0.05)
    }

    func testThePowerSpectrumFitRecoversTwoSlopesWithinItsBounds() throws {
        let truth = PowerSpectrumFit(breakLogWavenumber: log(14), logPowerAtBreak: 9, largeScaleSlope: -1.6, smallScaleSlope: -3.3)
        let exact = [Double.nan] + (1..<128).map { exp(truth.logPower(atLogWavenumber: log(Double($0)))) }
        let fit = try XCTUnwrap(PowerSpectrumFit(radialPower: exact))
        XCTAssertEqual(fit.breakLogWavenumber, truth.breakLogWavenumber, accuracy: 1e-4)
        XCTAssertEqual(fit.logPowerAtBreak, truth.logPowerAtBreak, accuracy: 1e-3)
        XCTAssertEqual(fit.largeScaleSlope, truth.largeScaleSlope, accuracy: 1e-3)
        XCTAssertEqual(fit.smallScaleSlope, truth.smallScaleSlope, accuracy: 1e-3)
        // Slopes steeper than pySTEPS's bound of -4 are held at it; so is the power at the break.
        let steep = [Double.nan] + (1..<128).map { exp(30 - 6 * log(Double($0))) }
        let bounded = try XCTUnwrap(PowerSpectrumFit(radialPower: steep))
        XCTAssertEqual(bounded.smallScaleSlope, -4, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(bounded.logPowerAtBreak, 20)
        XCTAssertGreaterThanOrEqual(bounded.breakLogWavenumber, 2)
        XCTAssertNil(PowerSpectrumFit(radialPower: [1, 1, 0, .nan]), "too few usable rings")
    }

    func testRadialAveragesCoverTheWholeSpectrum() throws {
        // Against the full DFT's power on an odd and an even side: every ring the same mean.
        for (ny, nx) in [(6, 9), (7, 8)] {
            var random = SeededGenerator(seed: UInt64(ny))
            let field = (0..<(ny * nx)).map { _ in Float(random.gaussian()) }
            let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
            let half = fft.forward(field)
            let power = (0..<(half.count / 2)).map { (k: Int) -> Double in
                let (re, im) = (Double(half[2 * k]), Double(half[2 * k + 1]))
                return re * re + im * im
            }
            let ours = RadialSpectrum(ny: ny, nx: nx).average(power)
            let rings = max(ny, nx) % 2 == 1 ? max(ny, nx) / 2 + 1 : max(ny, nx) / 2
            var sums = [Double](repeating: 0, count: rings), counts = sums
            for ky in 0..<ny {
                for kx in 0..<nx {
                    var (re, im) = (0.0, 0.0)
                    for y in 0..<ny {
                        for x in 0..<nx {
                            let angle = -2 * Double.pi * (Double(ky * y) / Double(ny) + Double(kx * x) / Double(nx))
                            (re, im) = (re + Double(field[y * nx + x]) * cos(angle), im + Double(field[y * nx + x]) * sin(angle))
                        }
                    }
                    let fy = Double(ky <= (ny - 1) / 2 ? ky : ky - ny), fx = Double(kx <= (nx - 1) / 2 ? kx : kx - nx)
                    let ring = Int((fy * fy + fx * fx).squareRoot().rounded())
                    if ring < rings { sums[ring] += re * re + im * im; counts[ring] += 1 }
                }
            }
            XCTAssertEqual(ours.count, rings)
            for r in 0..<rings { XCTAssertEqual(ours[r], sums[r] / counts[r], accuracy: 1e-3 * max(1, sums[r] / counts[r]), "\(ny) x \(nx) ring \(r)") }
        }
    }
}
