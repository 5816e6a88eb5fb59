extension Variable {
    /// Matrix product of `[m, k]` and `[k, n]`.
    public func matmul(_ other: Variable) throws -> Variable {
        guard shape.count == 2, other.shape.count == 2, shape[1] == other.shape[0] else {
            throw TensorError.shapeMismatch(operation: "matmul", left: shape, right: other.shape)
        }
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        let a = value, b = other.value
        var out = Tensor(shape: [m, n])
        out.withUnsafeMutableBufferPointer { c in
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
                parallelSgemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: x.baseAddress!, lda: k, b: y.baseAddress!, ldb: n,
                      beta: 0, c: c.baseAddress!, ldc: n)
            } }
        }
        return Variable(out, parents: [self, other]) { [self] g in
            var ga = Tensor(shape: [m, k]), gb = Tensor(shape: [k, n])
            g.withUnsafeBufferPointer { gp in
                ga.withUnsafeMutableBufferPointer { o in b.withUnsafeBufferPointer { y in
                    parallelSgemm(transposeA: false, transposeB: true, m: m, n: k, k: n, a: gp.baseAddress!, lda: n, b: y.baseAddress!, ldb: n,
                          beta: 0, c: o.baseAddress!, ldc: k)
                } }
                gb.withUnsafeMutableBufferPointer { o in a.withUnsafeBufferPointer { x in
                    parallelSgemm(transposeA: true, transposeB: false, m: k, n: n, k: m, a: x.baseAddress!, lda: k, b: gp.baseAddress!, ldb: n,
                          beta: 0, c: o.baseAddress!, ldc: n)
                } }
            }
            accumulate(ga)
            other.accumulate(gb)
        }
    }
}
