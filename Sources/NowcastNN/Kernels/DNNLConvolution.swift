import CDNNL
import Foundation

/// Convolutions through oneDNN (Debian's `libdnnl`, C API): its JIT kernels for AVX-512/AVX2 run a
/// 3x3 convolution several times faster than im2col + sgemm on the few-channel, large-image layers
/// of a U-Net (figures in docs/PERFORMANCE.md). They want channels-last data: `conv2d` hands
/// them NHWC values and gradients where the layer before left them so (outputs and input gradients
/// stay in NHWC, made NCHW only when read that way) and NCHW ones are reordered here (oneDNN
/// reorders, parallel); weights are reordered to the kernel's own blocked layout each call (they
/// change every step).
///
/// A plan holds the primitives for one geometry, bias and activation; plans are made on first use
/// and cached. Where oneDNN cannot make a primitive, `plan(for:)` returns nil and the caller uses
/// `Conv2DGEMM`. One lock serialises plan creation and every call (they share scratch buffers).
final class DNNLConvolution {
    /// The CPU engine and an in-order stream, or nil when oneDNN cannot start.
    private static let context: (engine: dnnl_engine_t, stream: dnnl_stream_t)? = {
        var engine: dnnl_engine_t?
        var stream: dnnl_stream_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else { return nil }
        return (engine, stream)
    }()

    private struct Key: Hashable {
        var geometry: Conv2DGeometry
        var bias: Bool
        var activation: ConvActivation
    }

    nonisolated(unsafe) private static var plans: [Key: DNNLConvolution?] = [:]
    private static let lock = NSLock()

    /// Whether convolutions use oneDNN: yes (`NOWCAST_CONV=auto`, the default) unless `NOWCAST_CONV=gemm`
    /// is set (benchmarks compare the two) or oneDNN cannot start.
    static let enabled: Bool = EngineSetting.read("NOWCAST_CONV", expected: "auto or gemm", default: true) {
        ["auto": true, "gemm": false][$0]
    } && context != nil

    /// Whether oneDNN is the faster kernel for a geometry (`nowcast bench conv`; figures in
    /// docs/PERFORMANCE.md): it wins on every 3x3 layer of the U-Net, but loses in the backward
    /// passes where many output channels meet large images (the ConvLSTM gate convolution, 128
    /// channels at 64x64 and up: reordering their gradient to NHWC is slow), and its OpenMP
    /// threads spin after each call, taking the cores from the gate kernels that follow; 1x1
    /// convolutions gain nothing. Those go to im2col + sgemm.
    static func prefers(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight * g.kernelWidth > 1 && !(g.outChannels >= 128 && g.outHeight * g.outWidth >= 4096)
    }

    /// The plan for a geometry where oneDNN is enabled and preferred, made on first use; nil where
    /// it is not, or where oneDNN has no primitive for the geometry.
    static func plan(for geometry: Conv2DGeometry, bias: Bool, activation: ConvActivation) -> DNNLConvolution? {
        guard enabled, prefers(geometry) else { return nil }
        let key = Key(geometry: geometry, bias: bias, activation: activation)
        return locked {
            if let cached = plans[key] { return cached }
            let made = DNNLConvolution(key)
            plans[key] = .some(made)
            return made
        }
    }

    /// oneDNN's version and the implementation it chose for a typical layer (for benchmark reports).
    static var description: String {
        let gemm = (Conv2DWinograd.enabled ? "Winograd F(2x2, 3x3) + sgemm for 3x3 layers, " : "") + "im2col + sgemm (\(blasKernelDescription))"
        guard enabled, let typical = try? Conv2DGeometry(input: [8, 32, 64, 64], weight: [32, 32, 3, 3], padding: 1),
              let plan = plan(for: typical, bias: true, activation: .none) else { return gemm }
        let v = dnnl_version().pointee
        return "oneDNN \(v.major).\(v.minor).\(v.patch) \(plan.implementation) (NHWC) where it is faster, else \(gemm)"
    }

    let geometry: Conv2DGeometry
    let implementation: String

    private let forwardPrimitive, backwardDataPrimitive, backwardWeightsPrimitive: dnnl_primitive_t
    private var plain: (x: dnnl_memory_desc_t, w: dnnl_memory_desc_t, y: dnnl_memory_desc_t)
    private var channelsLast: (x: dnnl_memory_desc_t, y: dnnl_memory_desc_t)
    private var kernelWeights: (forward: dnnl_memory_desc_t, backwardData: dnnl_memory_desc_t, backwardWeights: dnnl_memory_desc_t)
    private var biasDescriptor: dnnl_memory_desc_t
    private var reorders: [String: dnnl_primitive_t] = [:]

    /// A plan for `geometry` (no bias, no activation) whether or not oneDNN is preferred for it:
    /// benchmarks and tests compare the kernels.
    convenience init?(forcing geometry: Conv2DGeometry, bias: Bool = false) {
        self.init(Key(geometry: geometry, bias: bias, activation: .none))
    }

    private init?(_ key: Key) {
        guard let (engine, _) = Self.context else { return nil }
        let g = key.geometry
        geometry = g
        let descriptor = Self.descriptor
        let xDims = [g.batch, g.inChannels, g.height, g.width], yDims = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        let wDims = [g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth]
        guard let px = descriptor(xDims, dnnl_nchw), let pw = descriptor(wDims, dnnl_oihw), let py = descriptor(yDims, dnnl_nchw),
              var cx = descriptor(xDims, dnnl_nhwc), var cy = descriptor(yDims, dnnl_nhwc), var anyW = descriptor(wDims, dnnl_format_tag_any),
              var b = descriptor([g.outChannels], dnnl_x) else { return nil }
        let strides: [Int64] = [Int64(g.stride), Int64(g.stride)], dilates: [Int64] = [Int64(g.dilation - 1), Int64(g.dilation - 1)]
        let padLeft: [Int64] = [Int64(g.padding), Int64(g.padding)]
        // Right padding so that the output sizes come out as PyTorch's (floor division).
        let padRight: [Int64] = [
            Int64((g.outHeight - 1) * g.stride + (g.kernelHeight - 1) * g.dilation + 1 - g.height - g.padding),
            Int64((g.outWidth - 1) * g.stride + (g.kernelWidth - 1) * g.dilation + 1 - g.width - g.padding),
        ]
        var attributes: dnnl_primitive_attr_t?
        defer { if let attributes { dnnl_primitive_attr_destroy(attributes) } }
        if key.activation == .relu {
            var postOps: dnnl_post_ops_t?
            guard dnnl_primitive_attr_create(&attributes) == dnnl_success, dnnl_post_ops_create(&postOps) == dnnl_success, let postOps else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success else { return nil }
        }
        var forwardDesc = dnnl_convolution_desc_t(), dataDesc = dnnl_convolution_desc_t(), weightsDesc = dnnl_convolution_desc_t()
        var forwardPD: dnnl_primitive_desc_t?, dataPD: dnnl_primitive_desc_t?, weightsPD: dnnl_primitive_desc_t?
        defer { [forwardPD, dataPD, weightsPD].forEach { if let pd = $0 { dnnl_primitive_desc_destroy(pd) } } }
        let forwardStatus = withUnsafePointer(to: &b) { bias in
            dnnl_dilated_convolution_forward_desc_init(&forwardDesc, dnnl_forward_training, dnnl_convolution_direct, &cx, &anyW,
                                                       key.bias ? bias : nil, &cy, strides, dilates, padLeft, padRight)
        }
        guard forwardStatus == dnnl_success,
              dnnl_primitive_desc_create(&forwardPD, &forwardDesc, attributes, engine, nil) == dnnl_success, let forwardPD,
              dnnl_dilated_convolution_backward_data_desc_init(&dataDesc, dnnl_convolution_direct, &cx, &anyW, &cy,
                                                               strides, dilates, padLeft, padRight) == dnnl_success,
              dnnl_primitive_desc_create(&dataPD, &dataDesc, nil, engine, forwardPD) == dnnl_success, let dataPD,
              dnnl_dilated_convolution_backward_weights_desc_init(&weightsDesc, dnnl_convolution_direct, &cx, &anyW, &b, &cy,
                                                                  strides, dilates, padLeft, padRight) == dnnl_success,
              dnnl_primitive_desc_create(&weightsPD, &weightsDesc, nil, engine, forwardPD) == dnnl_success, let weightsPD
        else { return nil }
        var info: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(forwardPD, dnnl_query_impl_info_str, 0, &info)
        implementation = info.map { String(cString: $0) } ?? "unknown"
        guard let fw = dnnl_primitive_desc_query_md(forwardPD, dnnl_query_weights_md, 0)?.pointee,
              let dw = dnnl_primitive_desc_query_md(dataPD, dnnl_query_weights_md, 0)?.pointee,
              let ww = dnnl_primitive_desc_query_md(weightsPD, dnnl_query_diff_weights_md, 0)?.pointee else { return nil }
        var primitives: [dnnl_primitive_t?] = [nil, nil, nil]
        for (k, pd) in [forwardPD, dataPD, weightsPD].enumerated() {
            guard dnnl_primitive_create(&primitives[k], pd) == dnnl_success else { primitives.compactMap { $0 }.forEach { dnnl_primitive_destroy($0) }; return nil }
        }
        guard let f = primitives[0], let d = primitives[1], let w = primitives[2] else { return nil }
        (forwardPrimitive, backwardDataPrimitive, backwardWeightsPrimitive) = (f, d, w)
        plain = (px, pw, py)
        channelsLast = (cx, cy)
        kernelWeights = (fw, dw, ww)
        biasDescriptor = b
    }

    deinit {
        [forwardPrimitive, backwardDataPrimitive, backwardWeightsPrimitive].forEach { dnnl_primitive_destroy($0) }
        reorders.values.forEach { dnnl_primitive_destroy($0) }
    }

    /// A Float32 memory descriptor of `dims` in layout `tag` (nil when oneDNN refuses).
    private static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t? {
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        return dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag) == dnnl_success ? md : nil
    }

    /// A memory object over `pointer` described by `md` (nil when oneDNN refuses).
    private static func memory(_ md: dnnl_memory_desc_t, _ pointer: UnsafeMutableRawPointer) -> dnnl_memory_t? {
        guard let (engine, _) = context else { return nil }
        var md = md, memory: dnnl_memory_t?
        return dnnl_memory_create(&memory, &md, engine, pointer) == dnnl_success ? memory : nil
    }

    /// Runs `primitive` on (argument, pointer, descriptor) triples; false when oneDNN refuses.
    private static func run(_ primitive: dnnl_primitive_t, _ arguments: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)]) -> Bool {
        guard let (_, stream) = context else { return false }
        var made: [dnnl_memory_t] = []
        defer { made.forEach { dnnl_memory_destroy($0) } }
        var args: [dnnl_exec_arg_t] = []
        for (argument, pointer, md) in arguments {
            guard let m = memory(md, pointer) else { return false }
            made.append(m)
            args.append(dnnl_exec_arg_t(arg: argument, memory: m))
        }
        return dnnl_primitive_execute(primitive, stream, Int32(args.count), args) == dnnl_success && dnnl_stream_wait(stream) == dnnl_success
    }

    /// A reorder primitive from layout `from` to layout `to`; nil when oneDNN cannot make it.
    private static func makeReorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> dnnl_primitive_t? {
        guard let (engine, _) = context else { return nil }
        var from = from, to = to
        var pd: dnnl_primitive_desc_t?, primitive: dnnl_primitive_t?
        guard dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        return dnnl_primitive_create(&primitive, pd) == dnnl_success ? primitive : nil
    }

    /// Copies `source` (layout `from`) into `target` (layout `to`); a plain copy when they are equal.
    private func reorder(_ name: String, from: dnnl_memory_desc_t, to: dnnl_memory_desc_t,
                         _ source: UnsafeMutableRawPointer, _ target: UnsafeMutableRawPointer) -> Bool {
        var from = from, to = to
        if dnnl_memory_desc_equal(&from, &to) != 0 {
            target.copyMemory(from: source, byteCount: dnnl_memory_desc_get_size(&from))
            return true
        }
        if reorders[name] == nil, let made = Self.makeReorder(from: from, to: to) { reorders[name] = made }
        guard let primitive = reorders[name] else { return false }
        return Self.run(primitive, [(DNNL_ARG_FROM, source, from), (DNNL_ARG_TO, target, to)])
    }

    /// Bytes a descriptor's buffer needs.
    private func bytes(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }

    /// Whether NHWC copies are laid out densely (no padding), so a tensor's storage can hold them.
    var channelsLastIsDense: Bool {
        bytes(channelsLast.x) == geometry.batch * geometry.inChannels * geometry.height * geometry.width * 4
            && bytes(channelsLast.y) == geometry.batch * geometry.outChannels * geometry.outHeight * geometry.outWidth * 4
    }

    /// `y = act(conv(x, w) + b)` with y left in NHWC in `yc`: `xc` holds x in NHWC, or x (NCHW) is
    /// given and reordered into it. False when oneDNN failed.
    func forward(x: UnsafePointer<Float>?, xc: UnsafeMutableRawPointer, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                 yc: UnsafeMutableRawPointer) -> Bool {
        Self.locked { forwardLocked(x: x, xc: xc, w: w, b: b, yc: yc) }
    }

    /// `y = act(conv(x, w) + b)` in NCHW, the NHWC copies in scratch buffers.
    func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) -> Bool {
        Self.locked {
            let yc = ScratchSlots.buffer(1, bytes: bytes(channelsLast.y))
            return forwardLocked(x: x, xc: ScratchSlots.buffer(0, bytes: bytes(channelsLast.x)), w: w, b: b, yc: yc)
                && reorder("y", from: channelsLast.y, to: plain.y, yc, UnsafeMutableRawPointer(y))
        }
    }

    /// An output gradient handed to `backward`: NCHW values (reordered into a scratch buffer) or an
    /// NHWC copy used as it is.
    enum Gradient {
        case plain(UnsafePointer<Float>)
        case channelsLast(UnsafeMutableRawPointer)
    }

    /// Gradients for `dy` with the input `xc` in NHWC: `dxc` (NHWC) overwritten when given, `dw` and
    /// `db` (plain) overwritten when given. False when oneDNN failed.
    func backward(xc: UnsafeMutableRawPointer, w: UnsafePointer<Float>, dy: Gradient,
                  dxc: UnsafeMutableRawPointer?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) -> Bool {
        Self.locked { backwardLocked(xc: xc, w: w, dy: dy, dxc: dxc, dw: dw, db: db) }
    }

    /// Gradients with everything in NCHW (NHWC copies in scratch buffers).
    func backward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) -> Bool {
        Self.locked {
            let xc = ScratchSlots.buffer(0, bytes: bytes(channelsLast.x)), dxc = ScratchSlots.buffer(4, bytes: bytes(channelsLast.x))
            return reorder("x", from: plain.x, to: channelsLast.x, UnsafeMutableRawPointer(mutating: x), xc)
                && backwardLocked(xc: xc, w: w, dy: .plain(dy), dxc: dx == nil ? nil : dxc, dw: dw, db: db)
                && (dx.map { reorder("dx", from: channelsLast.x, to: plain.x, dxc, UnsafeMutableRawPointer($0)) } ?? true)
        }
    }

    private static func locked<R>(_ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The forward pass; the lock is held (scratch slot 2 holds the kernel's weights).
    private func forwardLocked(x: UnsafePointer<Float>?, xc: UnsafeMutableRawPointer, w: UnsafePointer<Float>,
                               b: UnsafePointer<Float>?, yc: UnsafeMutableRawPointer) -> Bool {
        let wk = ScratchSlots.buffer(2, bytes: bytes(kernelWeights.forward))
        guard x.map({ reorder("x", from: plain.x, to: channelsLast.x, UnsafeMutableRawPointer(mutating: $0), xc) }) ?? true,
              reorder("w.forward", from: plain.w, to: kernelWeights.forward, UnsafeMutableRawPointer(mutating: w), wk) else { return false }
        var arguments = [(DNNL_ARG_SRC, xc, channelsLast.x), (DNNL_ARG_WEIGHTS, wk, kernelWeights.forward), (DNNL_ARG_DST, yc, channelsLast.y)]
        if let b { arguments.append((DNNL_ARG_BIAS, UnsafeMutableRawPointer(mutating: b), biasDescriptor)) }
        return Self.run(forwardPrimitive, arguments)
    }

    /// The backward passes; the lock is held (scratch slots 1-3 hold dy, weights and bias).
    private func backwardLocked(xc: UnsafeMutableRawPointer, w: UnsafePointer<Float>, dy: Gradient,
                                dxc: UnsafeMutableRawPointer?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) -> Bool {
        let dyc: UnsafeMutableRawPointer
        switch dy {
        case let .channelsLast(ready): dyc = ready
        case let .plain(values):
            dyc = ScratchSlots.buffer(1, bytes: bytes(channelsLast.y))
            guard reorder("dy", from: plain.y, to: channelsLast.y, UnsafeMutableRawPointer(mutating: values), dyc) else { return false }
        }
        if let dxc {
            let wk = ScratchSlots.buffer(2, bytes: bytes(kernelWeights.backwardData))
            guard reorder("w.data", from: plain.w, to: kernelWeights.backwardData, UnsafeMutableRawPointer(mutating: w), wk),
                  Self.run(backwardDataPrimitive, [(DNNL_ARG_DIFF_DST, dyc, channelsLast.y), (DNNL_ARG_WEIGHTS, wk, kernelWeights.backwardData),
                                              (DNNL_ARG_DIFF_SRC, dxc, channelsLast.x)]) else { return false }
        }
        if dw != nil || db != nil {
            let dwk = ScratchSlots.buffer(2, bytes: bytes(kernelWeights.backwardWeights)), dbc = ScratchSlots.buffer(3, bytes: geometry.outChannels * 4)
            let arguments = [(DNNL_ARG_SRC, xc, channelsLast.x), (DNNL_ARG_DIFF_DST, dyc, channelsLast.y),
                             (DNNL_ARG_DIFF_WEIGHTS, dwk, kernelWeights.backwardWeights), (DNNL_ARG_DIFF_BIAS, dbc, biasDescriptor)]
            guard Self.run(backwardWeightsPrimitive, arguments) else { return false }
            if let dw, !reorder("dw", from: kernelWeights.backwardWeights, to: plain.w, dwk, UnsafeMutableRawPointer(dw)) { return false }
            if let db { db.update(from: dbc.assumingMemoryBound(to: Float.self), count: geometry.outChannels) }
        }
        return true
    }

    private struct ReorderKey: Hashable {
        var shape: [Int]
        var toChannelsLast: Bool
    }

    nonisolated(unsafe) private static var layoutReorders: [ReorderKey: dnnl_primitive_t?] = [:]

    /// Reorders the values `from` of NCHW `shape` to NHWC order in `to` (or back); false when oneDNN
    /// is not enabled or cannot make the reorder. Primitives are made on first use and cached.
    static func reorder(shape: [Int], toChannelsLast: Bool, from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) -> Bool {
        guard enabled, shape.count == 4, let plainDesc = descriptor(shape, dnnl_nchw), let lastDesc = descriptor(shape, dnnl_nhwc) else { return false }
        let (source, target) = toChannelsLast ? (plainDesc, lastDesc) : (lastDesc, plainDesc)
        return locked {
            let key = ReorderKey(shape: shape, toChannelsLast: toChannelsLast)
            if layoutReorders[key] == nil { layoutReorders[key] = .some(makeReorder(from: source, to: target)) }
            guard let made = layoutReorders[key], let primitive = made else { return false }
            return run(primitive, [(DNNL_ARG_FROM, UnsafeMutableRawPointer(mutating: from), source), (DNNL_ARG_TO, UnsafeMutableRawPointer(to), target)])
        }
    }
}

/// 64-byte aligned scratch buffers shared by every plan (calls are serialised by the plans' lock),
/// kept between calls and grown to the largest request: fresh multi-megabyte buffers each call
/// cost more in page faults than the convolution itself.
private enum ScratchSlots {
    nonisolated(unsafe) private static var buffers: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    /// Slot `slot`'s buffer of at least `bytes` bytes (call with the lock held).
    static func buffer(_ slot: Int, bytes: Int) -> UnsafeMutableRawPointer {
        while buffers.count <= slot { buffers.append((UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)) }
        if buffers[slot].bytes < bytes {
            buffers[slot].pointer.deallocate()
            buffers[slot] = (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        }
        return buffers[slot].pointer
    }
}
