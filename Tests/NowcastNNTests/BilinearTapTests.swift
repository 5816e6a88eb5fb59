import NowcastNN
import XCTest

final class BilinearTapTests: XCTestCase {
    // A 3 x 4 grid whose value is 10 * row + column.
    private let grid: [Double] = (0..<12).map { Double(10 * ($0 / 4) + $0 % 4) }

    private func sample(_ y: Double, _ x: Double, _ boundary: BilinearTap<Double>.Boundary) -> Double {
        grid.withUnsafeBufferPointer { BilinearTap(y: y, x: x, height: 3, width: 4, boundary: boundary).sample($0.baseAddress!) }
    }

    func testInsideTheGridBothBoundariesInterpolateLinearly() {
        for boundary in [BilinearTap<Double>.Boundary.zero, .periodic, .clamped] {
            XCTAssertEqual(sample(0, 0, boundary), 0)
            XCTAssertEqual(sample(1.25, 2.5, boundary), 15, accuracy: 1e-12)
            XCTAssertEqual(sample(2, 3, boundary), 23, accuracy: 1e-12)
        }
    }

    func testOutsideTheGridZeroReadsZeroAndPeriodicWraps() {
        XCTAssertEqual(sample(0, -1, .zero), 0)
        XCTAssertEqual(sample(0, -0.5, .zero), 0, "half of the zero outside and half of the value 0")
        XCTAssertEqual(sample(1, 3.5, .zero), 6.5, accuracy: 1e-12, "half of 13, half of zero")
        XCTAssertEqual(sample(-40, 9, .zero), 0)
        XCTAssertEqual(sample(.nan, 1, .zero), 0)
        // Periodic: column 3.5 lies between column 3 and column 0; row -1 is row 2.
        XCTAssertEqual(sample(1, 3.5, .periodic), 0.5 * 13 + 0.5 * 10, accuracy: 1e-12)
        XCTAssertEqual(sample(-1, 0, .periodic), 20, accuracy: 1e-12)
        XCTAssertEqual(sample(1 + 30, 2 - 8, .periodic), sample(1, 2, .periodic), accuracy: 1e-12)
    }

    func testClampedHoldsPositionsToTheGrid() {
        XCTAssertEqual(sample(1, -3, .clamped), 10, accuracy: 1e-12, "column 0 continues to the left")
        XCTAssertEqual(sample(1.5, 7, .clamped), 18, accuracy: 1e-12, "half of 13 and half of 23 continue to the right")
        XCTAssertEqual(sample(9, 1.5, .clamped), 21.5, accuracy: 1e-12)
        XCTAssertEqual(sample(-2, -2, .clamped), 0, accuracy: 1e-12)
        XCTAssertEqual(sample(.nan, 2, .clamped), 2, accuracy: 1e-12, "a NaN row reads row 0, never NaN")
    }

    func testSlopesAndScatterAreTheDerivativesOfSample() {
        let tap = BilinearTap<Double>(row: 1, column: 1, dx: 0.3, dy: 0.6, height: 3, width: 4)
        let slopes = grid.withUnsafeBufferPointer { tap.slopes($0.baseAddress!) }
        XCTAssertEqual(slopes.x, 1, accuracy: 1e-12)
        XCTAssertEqual(slopes.y, 10, accuracy: 1e-12)
        // The scattered weights are d(sample)/d(value): they sum to one and rebuild the sample.
        var weights = [Double](repeating: 0, count: 12)
        weights.withUnsafeMutableBufferPointer { tap.scatter(1, into: $0.baseAddress!) }
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(zip(weights, grid).reduce(0) { $0 + $1.0 * $1.1 }, sample(1.6, 1.3, .zero), accuracy: 1e-12)
        // Outside neighbours take no gradient.
        var edge = [Double](repeating: 0, count: 12)
        edge.withUnsafeMutableBufferPointer { BilinearTap<Double>(row: 2, column: 3, dx: 0.5, dy: 0.5, height: 3, width: 4).scatter(1, into: $0.baseAddress!) }
        XCTAssertEqual(edge.reduce(0, +), 0.25, accuracy: 1e-12)
    }
}
