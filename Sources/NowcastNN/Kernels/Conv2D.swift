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
        let outputShape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        let plan = DNNLConvolution.plan(for: g, bias: b != nil, activation: activation).flatMap { $0.channelsLastIsDense ? $0 : nil }
        let recording = Gradients.enabled && (requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        let y = plan.flatMap { Self.forwardChannelsLast($0, x: x, w: w, b: b, outputShape: outputShape, keepInput: recording) }
            ?? Self.forwardGEMM(g, x: x, w: w, b: b, activation: activation)
        let parents = [self, weight] + (bias.map { [$0] } ?? [])
        return Variable(y, parents: parents) { [self] upstream in
            var dw = weight.requiresGrad ? Tensor(shape: w.shape) : nil
            var db = bias?.requiresGrad == true ? Tensor(shape: [g.outChannels]) : nil
            let dx: Tensor?
            if let plan, let done = Self.backwardChannelsLast(plan, x: x, w: w, output: y, upstream: upstream, activation: activation,
                                                              inputGradient: requiresGrad, dw: &dw, db: &db) {
                dx = done
            } else {
                dx = Self.backwardGEMM(g, x: x, w: w, output: y, upstream: upstream, activation: activation, inputGradient: requiresGrad,
                                       dw: &dw, db: &db)
            }
            if let dx { accumulate(dx) }
            if let dw { weight.accumulate(dw) }
            if let db { bias?.accumulate(db) }
        }
    }

    /// The convolution through oneDNN in NHWC: x's NHWC copy is read where a convolution left one,
    /// else made (and kept with x for the backward pass when `keepInput`); the output holds its
    /// values in NHWC and makes NCHW ones only when read that way. Nil when oneDNN failed.
    private static func forwardChannelsLast(_ plan: DNNLConvolution, x: Tensor, w: Tensor, b: Tensor?, outputShape: [Int],
                                            keepInput: Bool) -> Tensor? {
        let cached = x.channelsLastCopy, xc = cached ?? TensorStorage(count: x.count), yc = TensorStorage(count: outputShape.reduce(1, *))
        let plainInput = cached == nil ? UnsafePointer(x.storage.pointer) : nil
        let done = w.withUnsafeBufferPointer { wp in
            func run(_ bp: UnsafePointer<Float>?) -> Bool { plan.forward(x: plainInput, xc: UnsafeMutableRawPointer(xc.pointer), w: wp.baseAddress!, b: bp,
                                                                         yc: UnsafeMutableRawPointer(yc.pointer)) }
            return b.map { $0.withUnsafeBufferPointer { run($0.baseAddress!) } } ?? run(nil)
        }
        guard done else { return nil }
        if cached == nil, keepInput { x.attachChannelsLast(xc) }
        return Tensor(shape: outputShape, channelsLast: yc)
    }

    /// The convolution on sgemm (Winograd or im2col, `Conv2DGEMM`) in NCHW.
    private static func forwardGEMM(_ g: Conv2DGeometry, x: Tensor, w: Tensor, b: Tensor?, activation: ConvActivation) -> Tensor {
        var y = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
        y.withUnsafeMutableBufferPointer { yp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            func run(_ bp: UnsafePointer<Float>?) {
                Conv2DGEMM.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, b: bp, y: yp.baseAddress!)
                if activation == .relu { Elementwise.relu(yp) }
            }
            if let b { b.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        } } }
        return y
    }

    /// The backward passes through oneDNN in NHWC. An upstream gradient that arrives in NHWC only (from
    /// the next convolution) is used as it is, with the ReLU's gradient taken in NHWC as well; the input
    /// gradient is returned in NHWC, made NCHW only when read that way. Returns `.some(dx)` (`.some(nil)`
    /// when no input gradient is wanted), or nil when oneDNN failed (`dw`, `db` are then zeroed).
    private static func backwardChannelsLast(_ plan: DNNLConvolution, x: Tensor, w: Tensor, output: Tensor, upstream: Tensor,
                                             activation: ConvActivation, inputGradient: Bool,
                                             dw: inout Tensor?, db: inout Tensor?) -> Tensor?? {
        var keep: [Any] = []  // storages the oneDNN call reads, alive until it returns
        let dy: DNNLConvolution.Gradient
        if let upstreamNHWC = upstream.pendingChannelsLast, activation == .none || output.channelsLastCopy != nil {
            if activation == .relu, let outputNHWC = output.channelsLastCopy {
                let masked = TensorStorage(count: upstream.count)
                Elementwise.reluBackward(upstreamNHWC.pointer, output: outputNHWC.pointer, into: masked.pointer, count: upstream.count)
                keep.append(masked)
                dy = .channelsLast(UnsafeMutableRawPointer(masked.pointer))
            } else {
                keep.append(upstreamNHWC)
                dy = .channelsLast(UnsafeMutableRawPointer(upstreamNHWC.pointer))
            }
        } else {
            let plainGradient = activation == .relu ? Elementwise.reluBackward(upstream, output: output) : upstream
            keep.append(plainGradient)
            dy = .plain(UnsafePointer(plainGradient.storage.pointer))
        }
        let xc: TensorStorage
        if let cached = x.channelsLastCopy {
            xc = cached
        } else {
            xc = TensorStorage(count: x.count)
            ChannelsLast.toChannelsLast(shape: x.shape, from: x.storage.pointer, to: xc.pointer)
        }
        let dxc = inputGradient ? TensorStorage(count: x.count) : nil
        let done = w.withUnsafeBufferPointer { wp in dw.withOptionalMutablePointer { dwp in db.withOptionalMutablePointer { dbp in
            plan.backward(xc: UnsafeMutableRawPointer(xc.pointer), w: wp.baseAddress!, dy: dy, dxc: dxc.map { UnsafeMutableRawPointer($0.pointer) },
                          dw: dwp, db: dbp)
        } } }
        withExtendedLifetime(keep) {}
        guard done else {
            // oneDNN failed (it may have written part): the caller starts the gradients afresh.
            if dw != nil { dw = Tensor(shape: w.shape) }
            if db != nil { db = Tensor(shape: [plan.geometry.outChannels]) }
            return nil
        }
        return .some(dxc.map { Tensor(shape: x.shape, channelsLast: $0) })
    }

    /// The backward passes on sgemm (Winograd or im2col) in NCHW; returns the input gradient when wanted.
    private static func backwardGEMM(_ g: Conv2DGeometry, x: Tensor, w: Tensor, output: Tensor, upstream: Tensor, activation: ConvActivation,
                                     inputGradient: Bool, dw: inout Tensor?, db: inout Tensor?) -> Tensor? {
        let dy = activation == .relu ? Elementwise.reluBackward(upstream, output: output) : upstream
        var dx = inputGradient ? Tensor(uninitializedShape: x.shape) : nil
        dy.withUnsafeBufferPointer { gp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            dx.withOptionalMutablePointer { dxp in dw.withOptionalMutablePointer { dwp in db.withOptionalMutablePointer { dbp in
                Conv2DGEMM.backward(g, x: xp.baseAddress!, w: wp.baseAddress!, dy: gp.baseAddress!, dx: dxp, dw: dwp, db: dbp)
            } } }
        } } }
        return dx
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
