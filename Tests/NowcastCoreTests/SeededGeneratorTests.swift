import NowcastCore
import XCTest

/// The generator's Gaussian values in bulk: standard normal, both halves of each pair independent,
/// the same values from the same state.
final class SeededGeneratorTests: XCTestCase {
    func testBulkGaussiansAreStandardNormalAndReproducible() {
        var a = SeededGenerator(seed: 3, stream: 1), b = SeededGenerator(seed: 3, stream: 1)
        let x = a.gaussians(200_001), y = b.gaussians(200_001)
        XCTAssertEqual(x, y, "same state, same values")
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        // The cosine and sine halves of each pair are uncorrelated.
        let pairs = stride(from: 0, to: x.count - 1, by: 2).map { (Double(x[$0]), Double(x[$0 + 1])) }
        let correlation = pairs.reduce(0.0) { $0 + $1.0 * $1.1 } / Double(pairs.count)
        XCTAssertEqual(correlation, 0, accuracy: 0.01)
        XCTAssertEqual(x.filter { abs($0) > 3 }.count, Int(0.0027 * n), accuracy: Int(0.0006 * n), "tails of a normal")
    }
}
