import CBLAS

/// `C = alpha * op(A) * op(B) + beta * C`, row-major, through OpenBLAS.
func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    _ = Parallel.workers  // OpenBLAS runs one thread per call from the first call on (see `Parallel`)
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `sgemm` with the rows of C split over the workers (each a single-threaded OpenBLAS call).
func parallelSgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    Parallel.forEachRange(m, grain: 64) { rows in
        sgemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k,
              a: a + (transposeA ? rows.lowerBound : rows.lowerBound * lda), lda: lda, b: b, ldb: ldb,
              beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
    }
}

/// The plain triple loop `sgemm` is tested against.
func sgemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                sum += (transposeA ? a[p * lda + i] : a[i * lda + p]) * (transposeB ? b[j * ldb + p] : b[p * ldb + j])
            }
            c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}

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
