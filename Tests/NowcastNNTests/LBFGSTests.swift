import XCTest
@testable import NowcastNN

final class LBFGSTests: XCTestCase {
    /// An ill-conditioned quadratic: plain gradient descent would need thousands of steps.
    func testAnIllConditionedQuadraticReachesItsMinimum() throws {
        let scales: [Float] = [1, 10, 100, 1000]
        let target: [Float] = [3, -2, 0.5, 1]
        var x = [Float](repeating: 0, count: 4)
        let result = try LBFGS(iterations: 100).minimize(&x) { x in
            var cost = 0.0, gradient = [Float](repeating: 0, count: 4)
            for i in 0..<4 {
                let d = x[i] - target[i]
                cost += Double(scales[i] * d * d)
                gradient[i] = 2 * scales[i] * d
            }
            return (cost, gradient)
        }
        for i in 0..<4 { XCTAssertEqual(x[i], target[i], accuracy: 1e-3) }
        XCTAssertLessThan(result.cost, 1e-5)
    }

    func testRosenbrockIsMinimisedFromTheUsualStart() throws {
        var x: [Float] = [-1.2, 1]
        _ = try LBFGS(iterations: 200, relativeTolerance: 1e-12).minimize(&x) { x in
            let (a, b) = (Double(x[0]), Double(x[1]))
            let cost = (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
            return (cost, [Float(-2 * (1 - a) - 400 * a * (b - a * a)), Float(200 * (b - a * a))])
        }
        XCTAssertEqual(x[0], 1, accuracy: 0.01)
        XCTAssertEqual(x[1], 1, accuracy: 0.02)
    }
}
