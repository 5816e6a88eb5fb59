import Foundation

/// Elementwise operations with their backward passes, side by side.
extension Variable {
    static func checkSame(_ operation: String, _ a: Variable, _ b: Variable) throws {
        guard a.shape == b.shape else { throw TensorError.shapeMismatch(operation: operation, left: a.shape, right: b.shape) }
    }

    /// `a + b` (same shapes).
    public static func + (a: Variable, b: Variable) throws -> Variable {
        try checkSame("add", a, b)
        return Variable(Tensor.zip(a.value, b.value, +), parents: [a, b]) { g in
            a.accumulate(g)
            b.accumulate(g)
        }
    }

    /// `a - b` (same shapes).
    public static func - (a: Variable, b: Variable) throws -> Variable {
        try checkSame("sub", a, b)
        return Variable(Tensor.zip(a.value, b.value, -), parents: [a, b]) { g in
            a.accumulate(g)
            b.accumulate(g.map { -$0 })
        }
    }

    /// `a * b` elementwise (same shapes).
    public static func * (a: Variable, b: Variable) throws -> Variable {
        try checkSame("mul", a, b)
        return Variable(Tensor.zip(a.value, b.value, *), parents: [a, b]) { g in
            a.accumulate(Tensor.zip(g, b.value, *))
            b.accumulate(Tensor.zip(g, a.value, *))
        }
    }

    /// `a / b` elementwise (same shapes).
    public static func / (a: Variable, b: Variable) throws -> Variable {
        try checkSame("div", a, b)
        return Variable(Tensor.zip(a.value, b.value, /), parents: [a, b]) { g in
            a.accumulate(Tensor.zip(g, b.value, /))
            b.accumulate(Elementwise.map(g, a.value, b.value) { g, a, b in -g * a / (b * b) })
        }
    }

    /// `s * x` for a constant `s`.
    public func scaled(by s: Float) -> Variable {
        Variable(value.map { $0 * s }, parents: [self]) { [self] g in accumulate(g.map { $0 * s }) }
    }

    /// `x + c` for a constant `c`.
    public func shifted(by c: Float) -> Variable {
        Variable(value.map { $0 + c }, parents: [self]) { [self] g in accumulate(g) }
    }

    /// `e^x`.
    public func exp() -> Variable {
        let y = value.map { Foundation.exp($0) }
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y, *)) }
    }

    /// Natural logarithm (NaN for negative values, -inf at 0, as IEEE has it).
    public func log() -> Variable {
        let x = value
        return Variable(x.map { Foundation.log($0) }, parents: [self]) { [self] g in accumulate(Tensor.zip(g, x, /)) }
    }

    /// Square root (NaN for negative values; the gradient at 0 is infinite, as IEEE has it).
    public func squareRoot() -> Variable {
        let y = value.map { $0.squareRoot() }
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y) { g, y in g / (2 * y) }) }
    }

    /// |x| (the gradient at 0 taken as 0).
    public func magnitude() -> Variable {
        let x = value
        return Variable(x.map { Swift.abs($0) }, parents: [self]) { [self] g in
            accumulate(Tensor.zip(g, x) { g, x in x > 0 ? g : x < 0 ? -g : 0 })
        }
    }

    /// A one-element value repeated to `shape` (a trainable scalar coefficient times a field); the
    /// gradient is the sum over the copies.
    public func broadcast(to shape: [Int]) throws -> Variable {
        guard let scalar = value.scalar else {
            throw TensorError.invalidShape(operation: "broadcast", shape: self.shape, expected: "one element")
        }
        return Variable(Tensor(shape: shape, repeating: scalar), parents: [self]) { [self] g in
            let total = g.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } }
            accumulate(Tensor(shape: self.shape, repeating: Float(total)))
        }
    }

    /// Leaky ReLU: `x` where positive, `slope * x` elsewhere.
    public func leakyRelu(slope: Float = 0.01) -> Variable {
        let x = value
        return Variable(x.map { $0 > 0 ? $0 : slope * $0 }, parents: [self]) { [self] g in
            accumulate(Tensor.zip(g, x) { g, x in x > 0 ? g : slope * g })
        }
    }

    /// GELU, the exact form `x * Φ(x)` with Φ the standard normal distribution function (PyTorch's default).
    public func gelu() -> Variable {
        let x = value
        return Variable(x.map { 0.5 * $0 * (1 + erf($0 * 0.70710678)) }, parents: [self]) { [self] g in
            accumulate(Tensor.zip(g, x) { g, x in g * (0.5 * (1 + erf(x * 0.70710678)) + x * 0.39894228 * Foundation.exp(-0.5 * x * x)) })
        }
    }

    /// Logistic sigmoid.
    public func sigmoid() -> Variable {
        let y = Elementwise.mapVectors(value) { FastMath.sigmoid($0) }
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y) { g, y in g * y * (1 - y) }) }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Variable {
        let y = Elementwise.mapVectors(value) { FastMath.tanh($0) }
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y) { g, y in g * (1 - y * y) }) }
    }

    /// Rectified linear unit.
    public func relu() -> Variable {
        let x = value
        let y = x.map { max(0, $0) }
        return Variable(y, parents: [self]) { [self] g in accumulate(Elementwise.reluBackward(g, output: y)) }
    }
}
