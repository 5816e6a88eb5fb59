import Foundation
import NowcastCore
@testable import NowcastPhysics
import XCTest

final class NoiseTests: XCTestCase {
    func testFieldsHaveUnitVarianceAndAreReproducible() throws {
        var a = try XCTUnwrap(PowerLawNoise(size: 32)), b = try XCTUnwrap(PowerLawNoise(size: 32))
        var ra = SeededGenerator(seed: 4), rb = SeededGenerator(seed: 4)
        for _ in 0..<3 {
            let x = a.next(using: &ra), y = b.next(using: &rb)
            XCTAssertEqual(x, y)
            XCTAssertEqual(x.count, 32 * 32)
            let mean = x.reduce(0, +) / Double(x.count)
            XCTAssertEqual(mean, 0, accuracy: 1e-12)
            XCTAssertEqual(x.reduce(0) { $0 + $1 * $1 } / Double(x.count), 1, accuracy: 1e-9)
        }
        XCTAssertNil(PowerLawNoise(size: 48), "48 is not a power of two")
    }

    func testThePairFromOneTransformIsUncorrelated() throws {
        var noise = try XCTUnwrap(PowerLawNoise(size: 64, exponent: 1))
        var random = SeededGenerator(seed: 8)
        let first = noise.next(using: &random), second = noise.next(using: &random)
        let correlation = zip(first, second).reduce(0) { $0 + $1.0 * $1.1 } / Double(first.count)
        XCTAssertLessThan(abs(correlation), 0.1)
    }

    func testThePowerSpectrumFallsWithTheRequestedExponent() throws {
        let n = 128
        let fft = try XCTUnwrap(FFT(length: n))
        for exponent in [2.0, 3.0] {
            var noise = try XCTUnwrap(PowerLawNoise(size: n, exponent: exponent))
            var random = SeededGenerator(seed: 21)
            // Radially averaged power over 8 fields, in shells of integer wavenumber.
            var power = [Double](repeating: 0, count: n / 2), modes = [Double](repeating: 0, count: n / 2)
            for _ in 0..<8 {
                var real = noise.next(using: &random), imag = [Double](repeating: 0, count: n * n)
                fft.transform2D(real: &real, imag: &imag, inverse: false)
                for row in 0..<n {
                    for column in 0..<n {
                        let ky = Double(row <= n / 2 ? row : row - n), kx = Double(column <= n / 2 ? column : column - n)
                        let shell = Int((kx * kx + ky * ky).squareRoot().rounded())
                        guard shell < n / 2 else { continue }
                        power[shell] += real[row * n + column] * real[row * n + column] + imag[row * n + column] * imag[row * n + column]
                        modes[shell] += 1
                    }
                }
            }
            // Least-squares slope of log power against log wavenumber above the flat large scales.
            let points = (8..<(n / 2)).map { (log(Double($0)), log(power[$0] / modes[$0])) }
            let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
            let slope = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
            XCTAssertEqual(slope, -exponent, accuracy: 0.2, "exponent \(exponent)")
            // Below the flat scale (4 of 128 wavenumbers) the spectrum is flat: shells 1...3 differ
            // by the sampling noise only.
            let flat = (1...3).map { power[$0] / modes[$0] }
            XCTAssertLessThan((flat.max() ?? 0) / (flat.min() ?? 1), 2.5)
        }
    }
}

final class FourierFilterNoiseTests: XCTestCase {
    /// Lag-1 correlation along rows.
    private func lagCorrelation(_ field: [Float], ny: Int, nx: Int) -> Double {
        var sum = 0.0, count = 0.0
        for y in 0..<ny { for x in 0..<(nx - 1) { sum += Double(field[y * nx + x] * field[y * nx + x + 1]); count += 1 } }
        return sum / count
    }

    func testNoiseTakesTheObservedFieldsSpectrum() throws {
        let (ny, nx) = (40, 56)  // not a power of two: padded inside
        var random = SeededGenerator(seed: 2)
        let smooth = (0..<(ny * nx)).map { i -> Float in
            let (y, x) = (Double(i / nx), Double(i % nx))
            return Float(max(0, 10 * sin(x / 9) * cos(y / 7))) - 15 + (sin(x / 9) * cos(y / 7) > 0 ? 5 : 0)
        }
        let rough = (0..<(ny * nx)).map { _ in Float(random.uniform() < 0.5 ? -15 : random.uniform() * 20) }
        let a = try XCTUnwrap(FourierFilterNoise(field: smooth, ny: ny, nx: nx, noRain: -15))
        let b = try XCTUnwrap(FourierFilterNoise(field: rough, ny: ny, nx: nx, noRain: -15))
        var ra = SeededGenerator(seed: 5), rb = SeededGenerator(seed: 5)
        let fieldA = a.next(using: &ra), fieldB = b.next(using: &rb)
        XCTAssertEqual(fieldA.count, ny * nx)
        let mean = fieldA.reduce(0.0) { $0 + Double($1) } / Double(fieldA.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(fieldA.reduce(0.0) { $0 + Double($1 * $1) } / Double(fieldA.count), 1, accuracy: 1e-4)
        XCTAssertGreaterThan(lagCorrelation(fieldA, ny: ny, nx: nx), 0.8, "smooth rain gives smooth noise")
        XCTAssertLessThan(lagCorrelation(fieldB, ny: ny, nx: nx), 0.3, "speckled rain gives rough noise")
        var again = SeededGenerator(seed: 5)
        XCTAssertEqual(a.next(using: &again), fieldA, "same generator state, same bits")
        XCTAssertNil(FourierFilterNoise(field: [Float](repeating: -15, count: ny * nx), ny: ny, nx: nx, noRain: -15), "no rain, no spectrum")
    }
}
