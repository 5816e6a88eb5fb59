/// Sums and means, over everything or along one axis, with their backward passes (sums accumulate in
/// Double, so the result does not depend on how large the tensor is).
extension Variable {
    /// Sum of all elements (a scalar).
    public func sum() -> Variable {
        let total = value.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } }
        return Variable(Tensor(scalar: Float(total)), parents: [self]) { [self] g in
            accumulate(Tensor(shape: shape, repeating: g.scalar ?? 0))
        }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Variable {
        let n = Float(value.count)
        let total = value.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } }
        return Variable(Tensor(scalar: Float(total) / n), parents: [self]) { [self] g in
            accumulate(Tensor(shape: shape, repeating: (g.scalar ?? 0) / n))
        }
    }

    /// Sum along `axis`, which disappears from the shape (`[N, C, H, W]` summed along 1 is `[N, H, W]`).
    public func sum(alongAxis axis: Int) throws -> Variable {
        try reduce(alongAxis: axis, scale: 1)
    }

    /// Mean along `axis`, which disappears from the shape.
    public func mean(alongAxis axis: Int) throws -> Variable {
        guard axis >= 0, axis < shape.count, shape[axis] > 0 else {
            throw TensorError.invalidShape(operation: "mean(alongAxis: \(axis))", shape: shape, expected: "a non-empty axis \(axis)")
        }
        return try reduce(alongAxis: axis, scale: 1 / Float(shape[axis]))
    }

    private func reduce(alongAxis axis: Int, scale: Float) throws -> Variable {
        guard axis >= 0, axis < shape.count else {
            throw TensorError.invalidShape(operation: "reduce along axis \(axis)", shape: shape, expected: "an axis in 0..<\(shape.count)")
        }
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var reducedShape = shape
        reducedShape.remove(at: axis)
        var out = Tensor(shape: reducedShape)
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            for a in 0..<outer { for i in 0..<inner {
                var total = 0.0
                for k in 0..<length { total += Double(x[(a * length + k) * inner + i]) }
                o[a * inner + i] = Float(total) * scale
            } }
        } }
        let fullShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(uninitializedShape: fullShape)
            gradient.withUnsafeMutableBufferPointer { o in g.withUnsafeBufferPointer { gp in
                for a in 0..<outer { for k in 0..<length { for i in 0..<inner { o[(a * length + k) * inner + i] = gp[a * inner + i] * scale } } }
            } }
            accumulate(gradient)
        }
    }
}
