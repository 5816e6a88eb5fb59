/// The geometry of a 2-D convolution over NCHW input with OIHW weights.
public struct Conv2DGeometry: Hashable, Sendable {
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
        guard input.allSatisfy({ $0 > 0 }), weight.allSatisfy({ $0 > 0 }) else {
            throw TensorError.invalidShape(operation: "conv2d", shape: input, expected: "positive sizes (weights \(weight))")
        }
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

/// An activation applied to a convolution's output in the same pass (no separate tensor, no extra
/// sweep over memory), with its backward folded into the convolution's.
public enum ConvActivation: String, Codable, Sendable {
    case none, relu
}
