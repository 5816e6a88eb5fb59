/// The fused ConvLSTM gate step. From the gate convolution's output `[N, 4H, h, w]` (i, f, g, o in
/// that order, before the bias), the gate bias `[4H]` and the previous cell state `[N, H, h, w]`, it
/// computes in one pass
///
///     c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g),   h = sigmoid(o) * tanh(c)
///
/// and returns h and c as two nodes, with hand-written backward passes: h's passes the gradient to
/// the o gate and on to c; c's (which then holds the gradient from h and from the next step) to the
/// i, f and g gates and to c_prev. Each writes its gates' gradient straight into the gate node's,
/// and the activations are recomputed from the gates rather than stored (at 128 x 128 the stores
/// cost more memory traffic than the exp and tanh they would save). Folding the bias in spares the
/// convolution a pass over its 4H output channels.
extension Variable {
    public static func convLSTMGates(_ gates: Variable, previousCell: Variable, bias: Variable? = nil) throws -> (hidden: Variable, cell: Variable) {
        let s = gates.shape
        guard s.count == 4, s.allSatisfy({ $0 > 0 }), s[1] % 4 == 0, previousCell.shape == [s[0], s[1] / 4, s[2], s[3]] else {
            throw TensorError.shapeMismatch(operation: "convLSTMGates", left: gates.shape, right: previousCell.shape)
        }
        if let bias, bias.shape != [s[1]] { throw TensorError.shapeMismatch(operation: "convLSTMGates bias", left: bias.shape, right: [s[1]]) }
        let geometry = GateGeometry(images: s[0], hidden: s[1] / 4, plane: s[2] * s[3])
        let stateShape = previousCell.shape
        let gateValues = gates.value, previous = previousCell.value
        let biasValues = bias?.value ?? Tensor(shape: [s[1]])
        var hidden = Tensor(uninitializedShape: stateShape), cell = Tensor(uninitializedShape: stateShape)
        hidden.withUnsafeMutableBufferPointer { hp in cell.withUnsafeMutableBufferPointer { cp in
            gateValues.withUnsafeBufferPointer { gp in previous.withUnsafeBufferPointer { pp in biasValues.withUnsafeBufferPointer { bp in
                let (hp, cp, gp, pp, bp) = (hp.baseAddress!, cp.baseAddress!, gp.baseAddress!, pp.baseAddress!, bp.baseAddress!)
                geometry.forEachChannel { b, channel in
                    let gate = GatePointers(geometry, gp, bp, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
                    @inline(__always) func step(_ k: Int, _ lanes: Int) {
                        let (i, f, g, o) = gate.activations(k, lanes)
                        let c = f * pp.vector(at: at + k, lanes: lanes) + i * g
                        hp.store(o * FastMath.tanh(c), at: at + k, lanes: lanes)
                        cp.store(c, at: at + k, lanes: lanes)
                    }
                    let (vectors, tail) = FastMath.vectorSplit(0..<geometry.plane)
                    for k in vectors { step(k, 8) }
                    if !tail.isEmpty { step(tail.lowerBound, tail.count) }
                }
            } } }
        } }
        let biasParents = bias.map { [$0] } ?? []
        let cellNode = Variable(cell, parents: [gates, previousCell] + biasParents) { dc in
            // dc holds the gradient from h (added by h's backward pass) and from what used c.
            var dGates = Tensor(uninitializedShape: [s[0], 3 * geometry.hidden, s[2], s[3]]), dPrevious = Tensor(uninitializedShape: stateShape)
            var dBias = Tensor(shape: [s[1]])
            dGates.withUnsafeMutableBufferPointer { dg in dPrevious.withUnsafeMutableBufferPointer { dpp in dBias.withUnsafeMutableBufferPointer { db in
                dc.withUnsafeBufferPointer { d in gateValues.withUnsafeBufferPointer { gp in previous.withUnsafeBufferPointer { pp in
                    biasValues.withUnsafeBufferPointer { bp in
                        let (dg, dpp, d, gp, pp, bp) = (dg.baseAddress!, dpp.baseAddress!, d.baseAddress!, gp.baseAddress!, pp.baseAddress!, bp.baseAddress!)
                        let sums = geometry.forEachChannel(sumsPerChannel: 3) { b, channel, totals in
                            let gate = GatePointers(geometry, gp, bp, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
                            let block = geometry.hidden * geometry.plane, out = dg + b * 3 * block + channel * geometry.plane
                            @inline(__always) func step(_ k: Int, _ lanes: Int) {
                                let (i, f, g, _) = gate.activations(k, lanes)
                                let dcell = d.vector(at: at + k, lanes: lanes)
                                let (di, df, dgg) = (dcell * g * i * (1 - i), dcell * pp.vector(at: at + k, lanes: lanes) * f * (1 - f), dcell * i * (1 - g * g))
                                out.store(di, at: k, lanes: lanes)
                                out.store(df, at: block + k, lanes: lanes)
                                out.store(dgg, at: 2 * block + k, lanes: lanes)
                                dpp.store(dcell * f, at: at + k, lanes: lanes)
                                totals.0 += di
                                totals.1 += df
                                totals.2 += dgg
                            }
                            let (vectors, tail) = FastMath.vectorSplit(0..<geometry.plane)
                            for k in vectors { step(k, 8) }
                            if !tail.isEmpty { step(tail.lowerBound, tail.count) }
                        }
                        for channel in 0..<geometry.hidden { for gate in 0..<3 { db[gate * geometry.hidden + channel] = sums[gate][channel] } }
                    }
                } } }
            } } }
            gates.accumulate(dGates, channels: 0..<(3 * geometry.hidden))
            previousCell.accumulate(dPrevious)
            bias?.accumulate(dBias)
        }
        let hiddenNode = Variable(hidden, parents: [gates, cellNode] + biasParents) { dh in
            var dOutput = Tensor(uninitializedShape: stateShape), dCell = Tensor(uninitializedShape: stateShape), dBias = Tensor(shape: [s[1]])
            dOutput.withUnsafeMutableBufferPointer { dop in dCell.withUnsafeMutableBufferPointer { dcp in dBias.withUnsafeMutableBufferPointer { db in
                dh.withUnsafeBufferPointer { d in gateValues.withUnsafeBufferPointer { gp in cell.withUnsafeBufferPointer { cp in
                    biasValues.withUnsafeBufferPointer { bp in
                        let (dop, dcp, d, gp, cp, bp) = (dop.baseAddress!, dcp.baseAddress!, d.baseAddress!, gp.baseAddress!, cp.baseAddress!, bp.baseAddress!)
                        let sums = geometry.forEachChannel(sumsPerChannel: 1) { b, channel, totals in
                            let gate = GatePointers(geometry, gp, bp, b, channel), at = (b * geometry.hidden + channel) * geometry.plane
                            @inline(__always) func step(_ k: Int, _ lanes: Int) {
                                let o = gate.output(k, lanes), tc = FastMath.tanh(cp.vector(at: at + k, lanes: lanes))
                                let upstream = d.vector(at: at + k, lanes: lanes)
                                let dO = upstream * tc * o * (1 - o)
                                dop.store(dO, at: at + k, lanes: lanes)
                                dcp.store(upstream * o * (1 - tc * tc), at: at + k, lanes: lanes)
                                totals.0 += dO
                            }
                            let (vectors, tail) = FastMath.vectorSplit(0..<geometry.plane)
                            for k in vectors { step(k, 8) }
                            if !tail.isEmpty { step(tail.lowerBound, tail.count) }
                        }
                        for channel in 0..<geometry.hidden { db[3 * geometry.hidden + channel] = sums[0][channel] }
                    }
                } } }
            } } }
            gates.accumulate(dOutput, channels: (3 * geometry.hidden)..<(4 * geometry.hidden))
            cellNode.accumulate(dCell)
            bias?.accumulate(dBias)
        }
        return (hiddenNode, cellNode)
    }
}

/// Sizes of a gate step: `images` x `hidden` channels of `plane` pixels.
private struct GateGeometry {
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
            let sp = sums.baseAddress!
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
}

/// One image's and hidden channel's four gate rows and their biases.
private struct GatePointers {
    let i, f, g, o: UnsafePointer<Float>
    let bi, bf, bg, bo: SIMD8<Float>

    @inline(__always)
    init(_ geometry: GateGeometry, _ gates: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ image: Int, _ channel: Int) {
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
