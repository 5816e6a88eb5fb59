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

/// STEPS's mask and probability matching.
final class StepsPiecesTests: XCTestCase {
    func testTheDilatedMaskEqualsRepeatedDilations() {
        var random = SeededGenerator(seed: 12)
        let (ny, nx) = (23, 31)
        for (radius, rim) in [(1, 3), (2, 10), (4, 0)] {
            let wet = (0..<(ny * nx)).map { _ in random.gaussian() > 2.2 }
            XCTAssertEqual(DilatedMask.weights(wet: wet, ny: ny, nx: nx, radius: radius, rim: rim),
                           DilatedMask.referenceWeights(wet: wet, ny: ny, nx: nx, radius: radius, rim: rim), "radius \(radius), rim \(rim)")
        }
        XCTAssertEqual(Set(DilatedMask.weights(wet: [Bool](repeating: false, count: 12), ny: 3, nx: 4, radius: 1, rim: 2)), [0])
    }

    func testProbabilityMatchingKeepsRanksAndTakesTheTargetsValues() throws {
        var random = SeededGenerator(seed: 2)
        let forecast = (0..<400).map { i -> Float in i % 3 == 0 ? -15 : Float(random.gaussian()) }
        let target = (0..<400).map { i -> Float in i % 2 == 0 ? -15 : Float(random.gaussian() * 4 + 10) }
        let matched = try XCTUnwrap(ProbabilityMatching.matchEmpiricalCDF(forecast, to: target))
        // The forecast's dry pixels stay dry; the wet ones keep their order with the target's wet values.
        for i in matched.indices where forecast[i] == -15 { XCTAssertEqual(matched[i], -15) }
        let wet = matched.indices.filter { forecast[$0] > -15 }
        for a in wet { for b in wet where forecast[a] < forecast[b] { XCTAssertLessThanOrEqual(matched[a], matched[b]) } }
        XCTAssertEqual(matched.max(), target.max(), "the largest value is the target's")
        XCTAssertEqual(matched.filter { $0 > -15 }.count, 200, "as wet as the target (which is drier than the forecast)")
        XCTAssertNil(ProbabilityMatching.matchEmpiricalCDF([1, .nan], to: [1, 2]))
        // The radix order is the comparison sort's, ties and negative values included.
        let values = (0..<5000).map { (i: Int) -> Float in
            if i % 7 == 0 { return -15 }
            if i % 11 == 0 { return 0 }
            return Float((i * 7919) % 1000) / 37 - 10
        }
        XCTAssertEqual(ProbabilityMatching.ascendingOrder(values), ProbabilityMatching.referenceOrder(values))
    }

    func testMatchingByTheMeanShiftsTheWetValuesOnly() {
        var field: [Float] = [-15, -15, 1, 3, 8, -15]
        ProbabilityMatching.matchWetMean(&field, threshold: 0, mean: 10)
        XCTAssertEqual(field, [-15, -15, 7, 9, 14, -15], "the wet mean 4 moved to 10, the dry pixels kept")
        var dry: [Float] = [-15, -15]
        ProbabilityMatching.matchWetMean(&dry, threshold: 0, mean: 10)
        XCTAssertEqual(dry, [-15, -15])
    }
}

final class SpectralMomentsTests: XCTestCase {
    func testMomentsFromTheSpectrumEqualThoseOfTheField() throws {
        var random = SeededGenerator(seed: 8)
        for (ny, nx) in [(16, 20), (9, 7), (12, 13)] {
            let fft = try XCTUnwrap(RealFFT2D(ny: ny, nx: nx))
            let field = (0..<(ny * nx)).map { _ in Float(random.gaussian() * 3 + 2) }
            let mean = field.reduce(0.0) { $0 + Double($1) } / Double(field.count)
            let deviation = (field.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(field.count)).squareRoot()
            let spectrum = fft.forward(field)
            let moments = spectrum.withUnsafeBufferPointer { fft.moments($0) }
            XCTAssertEqual(moments.mean, mean, accuracy: 1e-5, "\(ny) x \(nx)")
            XCTAssertEqual(moments.deviation, deviation, accuracy: 1e-4, "\(ny) x \(nx)")
        }
    }
}
