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

    /// Logistic sigmoid.
    public func sigmoid() -> Variable {
        let y = value.map(FastMath.sigmoid)
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y) { g, y in g * y * (1 - y) }) }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Variable {
        let y = value.map(FastMath.tanh)
        return Variable(y, parents: [self]) { [self] g in accumulate(Tensor.zip(g, y) { g, y in g * (1 - y * y) }) }
    }

    /// Rectified linear unit.
    public func relu() -> Variable {
        let x = value
        let y = x.map { max(0, $0) }
        return Variable(y, parents: [self]) { [self] g in accumulate(Elementwise.reluBackward(g, output: y)) }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Variable {
        let n = Float(value.count)
        let total = value.withUnsafeBufferPointer { $0.reduce(0, +) }
        return Variable(Tensor(scalar: total / n), parents: [self]) { [self] g in
            accumulate(Tensor(shape: shape, repeating: (g.scalar ?? 0) / n))
        }
    }

    /// Mean squared error against a target of the same shape (a scalar).
    public func meanSquaredError(_ target: Variable) throws -> Variable {
        try Self.checkSame("meanSquaredError", self, target)
        let difference = Tensor.zip(value, target.value, -)
        let n = Float(value.count)
        let loss = difference.withUnsafeBufferPointer { $0.reduce(0) { $0 + $1 * $1 } } / n
        return Variable(Tensor(scalar: loss), parents: [self, target]) { [self] g in
            let scale = 2 * (g.scalar ?? 0) / n
            let gradient = difference.map { $0 * scale }
            accumulate(gradient)
            target.accumulate(gradient.map { -$0 })
        }
    }
}

extension Tensor {
    /// Elementwise `f(a, b)` of two tensors of the same shape (callers check the shapes).
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor { Elementwise.map(a, b, f) }

    /// Elementwise `f(x)`.
    @inline(__always)
    func map(_ f: (Float) -> Float) -> Tensor { Elementwise.map(self, f) }
}
