import Foundation
import NowcastCore
import NowcastPhysics
import XCTest

/// STEPS's pieces: FFTW's transforms against the plain DFT, filters that sum to one, a cascade
/// that adds back up to its field, and AR(2) estimates that recover a known process.
final class CascadeTests: XCTestCase {
    private func field(ny: Int, nx: Int, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return (0..<(ny * nx)).map { i in Float(sin(Double(i % nx) / 3) * cos(Double(i / nx) / 2) + 0.3 * random.gaussian()) }
    }

    func testFFTWEqualsThePlainDFTAndInvertsOnAnyGridSize() throws {
        for (ny, nx) in [(6, 10), (7, 9), (8, 8), (1, 5)] {
            let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
            let x = field(ny: ny, nx: nx, seed: UInt64(ny * nx))
            let spectrum = fft.forward(x)
            let reference = RealFFT2D.referenceSpectrum(x, ny: ny, nx: nx)
            let scale = reference.map(abs).max() ?? 1
            for (a, b) in zip(spectrum, reference) { XCTAssertEqual(Double(a), b, accuracy: 1e-5 * scale, "\(ny) x \(nx)") }
            let back = fft.inverse(spectrum)
            for (a, b) in zip(back, x) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(ny) x \(nx)") }
        }
        XCTAssertNil(RealFFT2D(ny: 0, nx: 4))
    }

    func testFilterWeightsSumToOneAtEveryWavenumber() throws {
        let filters = try XCTUnwrap(BandpassFilters(ny: 64, nx: 48, levels: 6))
        XCTAssertEqual(filters.weights.count, 6)
        for i in 0..<filters.weights[0].count {
            let sum = filters.weights.reduce(Float(0)) { $0 + $1[i] }
            XCTAssertEqual(sum, 1, accuracy: 1e-5, "position \(i)")
        }
        XCTAssertEqual(filters.weights[0][0], 1, "the mean belongs to the first level")
        // Central wavenumbers rise geometrically from about 1 to the Nyquist range (L / 2 = 32).
        XCTAssertEqual(filters.centralWavenumbers.count, 6)
        XCTAssertTrue(zip(filters.centralWavenumbers, filters.centralWavenumbers.dropFirst()).allSatisfy { $0 < $1 })
        XCTAssertLessThan(filters.centralWavenumbers[5], 32)
        XCTAssertNil(BandpassFilters(ny: 64, nx: 64, levels: 2), "fewer than 3 levels")
        XCTAssertNil(BandpassFilters(ny: 8, nx: 8, levels: 20), "more levels than an 8 x 8 grid resolves")
    }

    func testTheCascadeAddsBackUpToItsField() throws {
        let (ny, nx) = (40, 56)
        let x = field(ny: ny, nx: nx, seed: 9).map { $0 * 4 + 10 }
        let filters = try XCTUnwrap(BandpassFilters(ny: ny, nx: nx, levels: 5))
        let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
        let cascade = try CascadeDecomposition(field: x, filters: filters, fft: fft)
        for (a, b) in zip(cascade.recomposed, x) { XCTAssertEqual(a, b, accuracy: 1e-4 * 14) }
        XCTAssertEqual(cascade.means[0], Double(x.reduce(0, +)) / Double(x.count), accuracy: 1e-3, "the mean is in level 1")
        for k in 1..<5 { XCTAssertEqual(cascade.means[k], 0, accuracy: 1e-4, "level \(k + 1) has no mean") }
        let level = cascade.normalised(3)
        let mean = level.reduce(0, +) / Float(level.count)
        let deviation = (level.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(level.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
        XCTAssertEqual(deviation, 1, accuracy: 1e-4)
        var holed = x
        holed[17] = .nan
        XCTAssertThrowsError(try CascadeDecomposition(field: holed, filters: filters, fft: fft)) {
            XCTAssertTrue("\($0)".contains("row 0, column 17"), "\($0)")
        }
    }

    func testYuleWalkerRecoversAKnownAR2Process() throws {
        let (phi1, phi2) = (0.6, 0.25)
        var random = SeededGenerator(seed: 4)
        var series = [0.0, 0.0]
        for _ in 0..<60_000 { series.append(phi1 * series[series.count - 1] + phi2 * series[series.count - 2] + random.gaussian()) }
        series.removeFirst(1000)
        let x = series.map(Float.init)
        let gamma1 = AutoRegression2.correlation(Array(x.dropFirst()), Array(x.dropLast()))
        let gamma2 = AutoRegression2.correlation(Array(x.dropFirst(2)), Array(x.dropLast(2)))
        let model = try AutoRegression2(gamma1: gamma1, gamma2: gamma2)
        XCTAssertEqual(model.phi1, phi1, accuracy: 0.02)
        XCTAssertEqual(model.phi2, phi2, accuracy: 0.02)
        XCTAssertTrue(model.isStationary)
        // Innovation weight of a unit-variance process: 1 - gamma1 phi1 - gamma2 phi2, as pySTEPS.
        XCTAssertEqual(model.phi0 * model.phi0, 1 - gamma1 * model.phi1 - model.gamma2 * model.phi2, accuracy: 1e-12)
        // A lag-2 correlation no stationary AR(2) can have is moved to the edge of the region.
        let adjusted = try AutoRegression2(gamma1: 0.9, gamma2: 0.2)
        XCTAssertGreaterThan(adjusted.gamma2, 0.2)
        XCTAssertTrue(adjusted.isStationary || abs(adjusted.phi2 + adjusted.phi1 - 1) < 1e-9)
        XCTAssertThrowsError(try AutoRegression2(gamma1: 1, gamma2: 0.5))
    }
}
