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

extension Variable {
    /// 2-D convolution of `[N, C, H, W]` by weights `[O, C, kh, kw]` plus an optional bias `[O]`,
    /// optionally followed by `activation`.
    public func conv2d(weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       activation: ConvActivation = .none) throws -> Variable {
        let g = try Conv2DGeometry(input: shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(operation: "conv2d bias", left: bias.shape, right: [g.outChannels])
        }
        let x = value, w = weight.value, b = bias?.value
        var y = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
        let plan = DNNLConvolution.plan(for: g, bias: b != nil, activation: activation).flatMap { $0.channelsLastIsDense ? $0 : nil }
        let recording = Gradients.enabled && (requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        // oneDNN works on NHWC copies. A copy of x left by the convolution that produced it is used
        // as it is; one made here stays with x for the backward pass. The output's copy stays with
        // the output for the next convolution.
        var outputChannelsLast: TensorStorage?
        y.withUnsafeMutableBufferPointer { yp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            func run(_ bp: UnsafePointer<Float>?) {
                if let plan {
                    let cached = x.channelsLastCopy, xc = cached ?? TensorStorage(count: x.count), yc = TensorStorage(count: yp.count)
                    if plan.forward(x: xp.baseAddress!, xc: UnsafeMutableRawPointer(xc.pointer), xcReady: cached != nil, w: wp.baseAddress!, b: bp,
                                    yc: UnsafeMutableRawPointer(yc.pointer), y: yp.baseAddress!) {
                        if cached == nil, recording { x.attachChannelsLast(xc) }
                        outputChannelsLast = yc
                        return
                    }
                }
                Conv2DGEMM.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, b: bp, y: yp.baseAddress!)
                if activation == .relu { Elementwise.relu(yp) }
            }
            if let b { b.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        } } }
        if let outputChannelsLast { y.attachChannelsLast(outputChannelsLast) }
        let parents = [self, weight] + (bias.map { [$0] } ?? [])
        let output = y
        return Variable(y, parents: parents) { [self] upstream in
            var dy = upstream
            if activation == .relu { dy = Elementwise.reluBackward(upstream, output: output) }
            var dx = requiresGrad ? Tensor(uninitializedShape: x.shape) : nil
            var dw = weight.requiresGrad ? Tensor(shape: w.shape) : nil
            var db = bias?.requiresGrad == true ? Tensor(shape: [g.outChannels]) : nil
            dy.withUnsafeBufferPointer { gp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                dx.withOptionalMutablePointer { dxp in dw.withOptionalMutablePointer { dwp in db.withOptionalMutablePointer { dbp in
                    if let plan {
                        let done = x.channelsLastCopy.map { plan.backward(xc: UnsafeMutableRawPointer($0.pointer), w: wp.baseAddress!, dy: gp.baseAddress!,
                                                                          dx: dxp, dw: dwp, db: dbp) }
                            ?? plan.backward(x: xp.baseAddress!, w: wp.baseAddress!, dy: gp.baseAddress!, dx: dxp, dw: dwp, db: dbp)
                        if done { return }
                        // oneDNN failed (it may have written part): start the gradients afresh.
                        dwp?.update(repeating: 0, count: w.count)
                        dbp?.update(repeating: 0, count: g.outChannels)
                    }
                    Conv2DGEMM.backward(g, x: xp.baseAddress!, w: wp.baseAddress!, dy: gp.baseAddress!, dx: dxp, dw: dwp, db: dbp)
                } } }
            } } }
            if let dx { accumulate(dx) }
            if let dw { weight.accumulate(dw) }
            if let db { bias?.accumulate(db) }
        }
    }
}

extension Optional where Wrapped == Tensor {
    /// The elements' base address when there is a tensor, nil otherwise.
    mutating func withOptionalMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
        guard var tensor = self else { return body(nil) }
        self = nil  // keep the storage uniquely referenced, so writing does not copy it
        defer { self = tensor }
        return tensor.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
