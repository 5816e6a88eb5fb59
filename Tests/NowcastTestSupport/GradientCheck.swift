import NowcastNN
import XCTest

/// A seeded source of test values away from zero (ReLU's kink), in ±[0.1, 1.1].
public struct Values {
    public init(state: UInt64) { self.state = state }
    public var state: UInt64
    public mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let u = Float(state >> 40) / Float(1 << 24)
        return (u < 0.5 ? -1 : 1) * (0.1 + 2 * abs(u - 0.5) * 1)
    }
    public mutating func tensor(_ shape: [Int]) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = next() } }
        return t
    }
}

/// Compares analytic gradients of `loss(inputs)` with central finite differences.
public func checkGradients(_ shapes: [[Int]], seed: UInt64 = 1, epsilon: Float = 1e-2, tolerance: Float = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ loss: ([Variable]) throws -> Variable) throws {
    var values = Values(state: seed)
    let tensors = shapes.map { values.tensor($0) }
    let inputs = tensors.map { Variable($0, requiresGrad: true) }
    try loss(inputs).backward()
    for (k, tensor) in tensors.enumerated() {
        let analytic = try XCTUnwrap(inputs[k].grad, "input \(k) has no gradient", file: file, line: line)
        for i in 0..<tensor.count {
            func evaluate(_ delta: Float) throws -> Float {
                var moved = tensor
                moved[i] += delta
                let variables = tensors.enumerated().map { Variable($0.offset == k ? moved : $0.element) }
                return try Gradients.disabled { try loss(variables).value.scalar ?? .nan }
            }
            let numeric = (try evaluate(epsilon) - evaluate(-epsilon)) / (2 * epsilon)
            XCTAssertEqual(analytic[i], numeric, accuracy: tolerance * max(1, abs(numeric)), "input \(k)[\(i)]", file: file, line: line)
        }
    }
}

