import Foundation

/// The pointer kernels of the fused ConvLSTM gate step (`Variable.convLSTMGates`): gates
/// `[N, 4H, plane]` (i, f, g, o in that order, before the bias), bias `[4H]`, states `[N, H, plane]`.
/// Images and hidden channels are spread over the workers; pixels run in 8-float vectors. The
/// activations are recomputed from the gates in each pass rather than stored. `ConvLSTMGateReference`
/// is the plain version they are tested against.
enum ConvLSTMGateKernels {
    /// Sizes of a gate step: `images` x `hidden` channels of `plane` pixels.
    struct Geometry {
        let images, hidden, plane: Int

        /// Calls `body(image, channel)` for every image and hidden channel, spread over the workers.
        func forEachChannel(_ body: (Int, Int) -> Void) {
            Parallel.forEachRange(images * hidden, grain: max(1, Elementwise.grain / max(1, plane))) { r in
                for index in r { body(index / hidden, index % hidden) }
            }
        }

        /// As `forEachChannel`, with `count` per-channel sums of vectors the body accumulates (a bias
        /// gradient); returns the sums, `[count][hidden]`, added over the images in a fixed order.
        func forEachChannel(sumsPerChannel count: Int,
                            _ body: (Int, Int, inout (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) -> Void) -> [[Float]] {
            var perImage = [Float](repeating: 0, count: images * hidden * count)
            perImage.withUnsafeMutableBufferPointer { sums in
                guard let sp = sums.baseAddress else { return }
                forEachChannel { b, channel in
                    var totals = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                    body(b, channel, &totals)
                    let base = (b * hidden + channel) * count
                    sp[base] = totals.0.sum()
                    if count > 1 { sp[base + 1] = totals.1.sum() }
                    if count > 2 { sp[base + 2] = totals.2.sum() }
                }
            }
            var result = [[Float]](repeating: [Float](repeating: 0, count: hidden), count: count)
            for b in 0..<images { for channel in 0..<hidden { for k in 0..<count { result[k][channel] += perImage[(b * hidden + channel) * count + k] } } }
            return result
        }

        /// Calls `step(k, lanes)` over one channel's pixels: vectors of 8, then the tail.
        @inline(__always)
        func forEachVector(_ step: (Int, Int) -> Void) {
            let (vectors, tail) = FastMath.vectorSplit(0..<plane)
            for k in vectors { step(k, 8) }
            if !tail.isEmpty { step(tail.lowerBound, tail.count) }
        }
    }

    /// c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g) and h = sigmoid(o) * tanh(c).
    static func forward(_ geometry: Geometry, gates: UnsafePointer<Float>, bias: UnsafePointer<Float>, previous: UnsafePointer<Float>,
                        hidden: UnsafeMutablePointer<Float>, cell: UnsafeMutablePointer<Float>) {
        geometry.forEachChannel { b, channel in
            let gate = GateRows(geometry, gates, bias, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
            geometry.forEachVector { k, lanes in
                let (i, f, g, o) = gate.activations(k, lanes)
                let c = f * previous.vector(at: at + k, lanes: lanes) + i * g
                hidden.store(o * FastMath.tanh(c), at: at + k, lanes: lanes)
                cell.store(c, at: at + k, lanes: lanes)
            }
        }
    }

    /// c's backward pass: from `dCell` (the gradient from h and from whatever else used c), the i,
    /// f and g gates' gradient into `dGates` `[N, 3H, plane]`, c_prev's into `dPrevious` and the
    /// three gates' bias gradient into `dBias[0..<3H]`.
    static func cellBackward(_ geometry: Geometry, dCell: UnsafePointer<Float>, gates: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                             previous: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>, dPrevious: UnsafeMutablePointer<Float>,
                             dBias: UnsafeMutablePointer<Float>) {
        let sums = geometry.forEachChannel(sumsPerChannel: 3) { b, channel, totals in
            let gate = GateRows(geometry, gates, bias, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
            let block = geometry.hidden * geometry.plane, out = dGates + b * 3 * block + channel * geometry.plane
            geometry.forEachVector { k, lanes in
                let (i, f, g, _) = gate.activations(k, lanes)
                let dc = dCell.vector(at: at + k, lanes: lanes)
                let (di, df, dg) = (dc * g * i * (1 - i), dc * previous.vector(at: at + k, lanes: lanes) * f * (1 - f), dc * i * (1 - g * g))
                out.store(di, at: k, lanes: lanes)
                out.store(df, at: block + k, lanes: lanes)
                out.store(dg, at: 2 * block + k, lanes: lanes)
                dPrevious.store(dc * f, at: at + k, lanes: lanes)
                totals.0 += di
                totals.1 += df
                totals.2 += dg
            }
        }
        for channel in 0..<geometry.hidden { for gate in 0..<3 { dBias[gate * geometry.hidden + channel] = sums[gate][channel] } }
    }

    /// h's backward pass: from `dHidden`, the o gate's gradient into `dOutput` `[N, H, plane]`, the
    /// gradient passed on to c into `dCell` and the o gate's bias gradient into `dBias[3H..<4H]`.
    static func hiddenBackward(_ geometry: Geometry, dHidden: UnsafePointer<Float>, gates: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               cell: UnsafePointer<Float>, dOutput: UnsafeMutablePointer<Float>, dCell: UnsafeMutablePointer<Float>,
                               dBias: UnsafeMutablePointer<Float>) {
        let sums = geometry.forEachChannel(sumsPerChannel: 1) { b, channel, totals in
            let gate = GateRows(geometry, gates, bias, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
            geometry.forEachVector { k, lanes in
                let o = gate.output(k, lanes), tc = FastMath.tanh(cell.vector(at: at + k, lanes: lanes))
                let upstream = dHidden.vector(at: at + k, lanes: lanes)
                let dO = upstream * tc * o * (1 - o)
                dOutput.store(dO, at: at + k, lanes: lanes)
                dCell.store(upstream * o * (1 - tc * tc), at: at + k, lanes: lanes)
                totals.0 += dO
            }
        }
        for channel in 0..<geometry.hidden { dBias[3 * geometry.hidden + channel] = sums[0][channel] }
    }

    /// One image's and hidden channel's four gate rows and their biases.
    private struct GateRows {
        let i, f, g, o: UnsafePointer<Float>
        let bi, bf, bg, bo: SIMD8<Float>

        @inline(__always)
        init(_ geometry: Geometry, _ gates: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ image: Int, _ channel: Int) {
            let block = geometry.hidden * geometry.plane, base = gates + image * 4 * block + channel * geometry.plane
            (i, f, g, o) = (base, base + block, base + 2 * block, base + 3 * block)
            let h = geometry.hidden
            (bi, bf, bg, bo) = (SIMD8(repeating: bias[channel]), SIMD8(repeating: bias[h + channel]),
                                SIMD8(repeating: bias[2 * h + channel]), SIMD8(repeating: bias[3 * h + channel]))
        }

        /// sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) at pixel `k`.
        @inline(__always)
        func activations(_ k: Int, _ lanes: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            (FastMath.sigmoid(i.vector(at: k, lanes: lanes) + bi), FastMath.sigmoid(f.vector(at: k, lanes: lanes) + bf),
             FastMath.tanh(g.vector(at: k, lanes: lanes) + bg), output(k, lanes))
        }

        /// sigmoid(o) at pixel `k`.
        @inline(__always)
        func output(_ k: Int, _ lanes: Int) -> SIMD8<Float> { FastMath.sigmoid(o.vector(at: k, lanes: lanes) + bo) }
    }
}

/// The gate step in plain scalar loops with libm's functions, forward and backward: what the fused
/// kernels are tested against.
enum ConvLSTMGateReference {
    private static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// The activations i, f, g, o at element `p` of channel `channel` of image `b`.
    private static func activations(_ gates: [Float], _ bias: [Float], _ geometry: ConvLSTMGateKernels.Geometry,
                                    _ b: Int, _ channel: Int, _ p: Int) -> (i: Double, f: Double, g: Double, o: Double) {
        let (h, plane) = (geometry.hidden, geometry.plane)
        func raw(_ gate: Int) -> Double {
            Double(gates[(b * 4 * h + gate * h + channel) * plane + p]) + Double(bias[gate * h + channel])
        }
        return (sigmoid(raw(0)), sigmoid(raw(1)), tanh(raw(2)), sigmoid(raw(3)))
    }

    /// h and c, `[N, H, plane]` each.
    static func forward(_ geometry: ConvLSTMGateKernels.Geometry, gates: [Float], bias: [Float], previous: [Float]) -> (hidden: [Float], cell: [Float]) {
        let count = geometry.images * geometry.hidden * geometry.plane
        var hidden = [Float](repeating: 0, count: count), cell = hidden
        for b in 0..<geometry.images { for channel in 0..<geometry.hidden { for p in 0..<geometry.plane {
            let (i, f, g, o) = activations(gates, bias, geometry, b, channel, p)
            let at = (b * geometry.hidden + channel) * geometry.plane + p
            let c = f * Double(previous[at]) + i * g
            (hidden[at], cell[at]) = (Float(o * tanh(c)), Float(c))
        } } }
        return (hidden, cell)
    }

    /// The gradients of the gates `[N, 4H, plane]`, of c_prev and of the bias `[4H]` from those of
    /// h (`dHidden`) and of c from outside the step (`dCell`).
    static func backward(_ geometry: ConvLSTMGateKernels.Geometry, gates: [Float], bias: [Float], previous: [Float],
                         dHidden: [Float], dCell: [Float]) -> (dGates: [Float], dPrevious: [Float], dBias: [Float]) {
        let (h, plane) = (geometry.hidden, geometry.plane)
        var dGates = [Float](repeating: 0, count: geometry.images * 4 * h * plane)
        var dPrevious = [Float](repeating: 0, count: geometry.images * h * plane), dBias = [Double](repeating: 0, count: 4 * h)
        for b in 0..<geometry.images { for channel in 0..<h { for p in 0..<plane {
            let (i, f, g, o) = activations(gates, bias, geometry, b, channel, p)
            let at = (b * h + channel) * plane + p
            let c = f * Double(previous[at]) + i * g, tc = tanh(c)
            let dh = Double(dHidden[at]), dc = Double(dCell[at]) + dh * o * (1 - tc * tc)
            let d = [dc * g * i * (1 - i), dc * Double(previous[at]) * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)]
            for gate in 0..<4 {
                dGates[(b * 4 * h + gate * h + channel) * plane + p] = Float(d[gate])
                dBias[gate * h + channel] += d[gate]
            }
            dPrevious[at] = Float(dc * f)
        } } }
        return (dGates, dPrevious, dBias.map { Float($0) })
    }
}
