/// The geometry of a 2-D convolution over NCHW input with OIHW weights.
public struct Conv2DGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var stride, padding, dilation: Int

    /// Output rows.
    public var outHeight: Int { (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1 }
    /// Output columns.
    public var outWidth: Int { (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1 }
    /// Rows of the im2col matrix (one per weight of an output channel).
    var patchSize: Int { inChannels * kernelHeight * kernelWidth }

    /// The geometry of `input` `[N, C, H, W]` convolved with `weight` `[O, C, kh, kw]`; throws on a mismatch.
    public init(input: [Int], weight: [Int], stride: Int = 1, padding: Int = 0, dilation: Int = 1) throws {
        guard input.count == 4, weight.count == 4, input[1] == weight[1] else {
            throw TensorError.shapeMismatch(operation: "conv2d", left: input, right: weight)
        }
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
        guard stride >= 1, padding >= 0, dilation >= 1, outHeight >= 1, outWidth >= 1 else {
            throw TensorError.invalidShape(operation: "conv2d", shape: input,
                                           expected: "room for a \(kernelHeight)x\(kernelWidth) kernel (stride \(stride), padding \(padding), dilation \(dilation))")
        }
    }
}

/// Direct-loop convolution, forward and both backward passes: the reference the fast kernels are
/// tested against.
enum Conv2DReference {
    static func forward(_ g: Conv2DGeometry, x: [Float], w: [Float], b: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        for n in 0..<g.batch { for o in 0..<g.outChannels { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            var sum = b?[o] ?? 0
            for c in 0..<g.inChannels { for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
                let iy = oy * g.stride - g.padding + i * g.dilation, ix = ox * g.stride - g.padding + j * g.dilation
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                sum += x[((n * g.inChannels + c) * g.height + iy) * g.width + ix] * w[((o * g.inChannels + c) * g.kernelHeight + i) * g.kernelWidth + j]
            } } }
            y[((n * g.outChannels + o) * g.outHeight + oy) * g.outWidth + ox] = sum
        } } } }
        return y
    }

    /// Gradients of input, weight and bias for output gradient `dy`.
    static func backward(_ g: Conv2DGeometry, x: [Float], w: [Float], dy: [Float]) -> (dx: [Float], dw: [Float], db: [Float]) {
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count), db = [Float](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch { for o in 0..<g.outChannels { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            let grad = dy[((n * g.outChannels + o) * g.outHeight + oy) * g.outWidth + ox]
            db[o] += grad
            for c in 0..<g.inChannels { for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
                let iy = oy * g.stride - g.padding + i * g.dilation, ix = ox * g.stride - g.padding + j * g.dilation
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                let xi = ((n * g.inChannels + c) * g.height + iy) * g.width + ix, wi = ((o * g.inChannels + c) * g.kernelHeight + i) * g.kernelWidth + j
                dx[xi] += grad * w[wi]
                dw[wi] += grad * x[xi]
            } } }
        } } } }
        return (dx, dw, db)
    }
}

/// Convolution as im2col + sgemm (OpenBLAS), per image: `Y[O, P] = W[O, CKK] * cols[CKK, P]`.
enum Conv2DGEMM {
    /// Lays the receptive fields of image `x` (`C x H x W`) out as columns `[C*kh*kw, oh*ow]`.
    static func im2col(_ g: Conv2DGeometry, _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        for c in 0..<g.inChannels { for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
            let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * oh * ow
            for oy in 0..<oh {
                let iy = oy * g.stride - g.padding + i * g.dilation
                for ox in 0..<ow {
                    let ix = ox * g.stride - g.padding + j * g.dilation
                    row[oy * ow + ox] = (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width) ? x[(c * g.height + iy) * g.width + ix] : 0
                }
            }
        } } }
    }

    /// Adds columns back into image gradient `dx` (the transpose of `im2col`).
    static func col2im(_ g: Conv2DGeometry, _ cols: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        for c in 0..<g.inChannels { for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
            let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * oh * ow
            for oy in 0..<oh {
                let iy = oy * g.stride - g.padding + i * g.dilation
                guard iy >= 0, iy < g.height else { continue }
                for ox in 0..<ow {
                    let ix = ox * g.stride - g.padding + j * g.dilation
                    if ix >= 0 && ix < g.width { dx[(c * g.height + iy) * g.width + ix] += row[oy * ow + ox] }
                }
            }
        } } }
    }
}

extension Variable {
    /// 2-D convolution of `[N, C, H, W]` by weights `[O, C, kh, kw]` plus an optional bias `[O]`.
    public func conv2d(weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1) throws -> Variable {
        let g = try Conv2DGeometry(input: shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(operation: "conv2d bias", left: bias.shape, right: [g.outChannels])
        }
        let x = value, w = weight.value, b = bias?.value
        let (plane, patches) = (g.outHeight * g.outWidth, g.patchSize)
        let imageIn = g.inChannels * g.height * g.width, imageOut = g.outChannels * plane
        var cols = [Float](repeating: 0, count: patches * plane)
        var y = Tensor(shape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
        y.withUnsafeMutableBufferPointer { yp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            cols.withUnsafeMutableBufferPointer { cp in
                for n in 0..<g.batch {
                    Conv2DGEMM.im2col(g, xp.baseAddress! + n * imageIn, cp.baseAddress!)
                    let out = yp.baseAddress! + n * imageOut
                    if let b { b.withUnsafeBufferPointer { bp in for o in 0..<g.outChannels { (out + o * plane).initialize(repeating: bp[o], count: plane) } } }
                    sgemm(transposeA: false, transposeB: false, m: g.outChannels, n: plane, k: patches, a: wp.baseAddress!, lda: patches,
                          b: cp.baseAddress!, ldb: plane, beta: b == nil ? 0 : 1, c: out, ldc: plane)
                }
            }
        } } }
        let parents = [self, weight] + (bias.map { [$0] } ?? [])
        return Variable(y, parents: parents) { [self] dy in
            var dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: [g.outChannels])
            var cols = [Float](repeating: 0, count: patches * plane), dcols = cols
            dy.withUnsafeBufferPointer { gp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                    cols.withUnsafeMutableBufferPointer { cp in dcols.withUnsafeMutableBufferPointer { dcp in
                        for n in 0..<g.batch {
                            let gn = gp.baseAddress! + n * imageOut
                            for o in 0..<g.outChannels { for p in 0..<plane { dbp[o] += gn[o * plane + p] } }
                            // dW += dY_n * cols_n^T
                            Conv2DGEMM.im2col(g, xp.baseAddress! + n * imageIn, cp.baseAddress!)
                            sgemm(transposeA: false, transposeB: true, m: g.outChannels, n: patches, k: plane, a: gn, lda: plane,
                                  b: cp.baseAddress!, ldb: plane, beta: 1, c: dwp.baseAddress!, ldc: patches)
                            // dX_n = col2im(W^T * dY_n)
                            sgemm(transposeA: true, transposeB: false, m: patches, n: plane, k: g.outChannels, a: wp.baseAddress!, lda: patches,
                                  b: gn, ldb: plane, beta: 0, c: dcp.baseAddress!, ldc: plane)
                            Conv2DGEMM.col2im(g, dcp.baseAddress!, dxp.baseAddress! + n * imageIn)
                        }
                    } }
                } } }
            } } }
            accumulate(dx)
            weight.accumulate(dw)
            bias?.accumulate(db)
        }
    }
}
