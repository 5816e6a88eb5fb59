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
        let done = Tensor.withElements(reading: [w]) { input in
            b.withOptionalPointer { plan.forward(x: plainInput, xc: UnsafeMutableRawPointer(xc.pointer), w: input[0], b: $0, yc: UnsafeMutableRawPointer(yc.pointer)) }
        }
        guard done else { return nil }
        if cached == nil, keepInput { x.attachChannelsLast(xc) }
        return Tensor(shape: outputShape, channelsLast: yc)
    }

    /// The convolution on sgemm (Winograd or im2col, `Conv2DGEMM`) in NCHW.
    private static func forwardGEMM(_ g: Conv2DGeometry, x: Tensor, w: Tensor, b: Tensor?, activation: ConvActivation) -> Tensor {
        var outputs = [Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])]
        let count = outputs[0].count
        Tensor.withElements(writing: &outputs, reading: [x, w]) { out, input in
            b.withOptionalPointer { Conv2DGEMM.forward(g, x: input[0], w: input[1], b: $0, y: out[0]) }
            if activation == .relu { Elementwise.relu(UnsafeMutableBufferPointer(start: out[0], count: count)) }
        }
        return outputs[0]
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
        var weightGradients = [dw, db]
        (dw, db) = (nil, nil)  // `weightGradients` holds the only references, so writing does not copy
        let done = Tensor.withElements(writing: &weightGradients, reading: [w]) { out, input in
            plan.backward(xc: UnsafeMutableRawPointer(xc.pointer), w: input[0], dy: dy, dxc: dxc.map { UnsafeMutableRawPointer($0.pointer) },
                          dw: out[0], db: out[1])
        }
        (dw, db) = (weightGradients[0], weightGradients[1])
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
        var gradients = [inputGradient ? Tensor(uninitializedShape: x.shape) : nil, dw, db]
        (dw, db) = (nil, nil)  // `gradients` holds the only references, so writing does not copy
        Tensor.withElements(writing: &gradients, reading: [dy, x, w]) { out, input in
            Conv2DGEMM.backward(g, x: input[1], w: input[2], dy: input[0], dx: out[0], dw: out[1], db: out[2])
        }
        (dw, db) = (gradients[1], gradients[2])
        return gradients[0]
    }
}
