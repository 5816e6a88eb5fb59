/// The fused ConvLSTM gate step: from the convolution's gates `[N, 4H, h, w]` (i, f, g, o in that
/// order) and the previous cell state `[N, H, h, w]`, computes `c = sigmoid(f) * c_prev +
/// sigmoid(i) * tanh(g)` and `h = sigmoid(o) * tanh(c)` in one pass, with a hand-written backward.
/// The result is `[N, 2H, h, w]`: hidden state in channels `0..<H`, cell state in `H..<2H`.
/// The backward pass recomputes the activations from the gates (kept by the graph anyway) and the
/// new cell state rather than storing five activation tensors: at 128 x 128 the stores cost more
/// memory traffic than the exp and tanh they would save.
extension Variable {
    public static func convLSTMGates(_ gates: Variable, previousCell: Variable) throws -> Variable {
        let s = gates.shape
        guard s.count == 4, s[1] % 4 == 0, previousCell.shape == [s[0], s[1] / 4, s[2], s[3]] else {
            throw TensorError.shapeMismatch(operation: "convLSTMGates", left: gates.shape, right: previousCell.shape)
        }
        let (n, hidden, plane) = (s[0], s[1] / 4, s[2] * s[3])
        let block = hidden * plane
        var out = Tensor(uninitializedShape: [n, 2 * hidden, s[2], s[3]])
        let gateValues = gates.value, previous = previousCell.value
        out.withUnsafeMutableBufferPointer { o in gateValues.withUnsafeBufferPointer { gp in previous.withUnsafeBufferPointer { cp in
            let (o, gp, cp) = (o.baseAddress!, gp.baseAddress!, cp.baseAddress!)
            forEachSegment(images: n, block: block) { b, range in
                let gate = gp + b * 4 * block, cell = cp + b * block, result = o + b * 2 * block
                @inline(__always) func step(_ k: Int, _ lanes: Int) {
                    let i = FastMath.sigmoid(gate.vector(at: k, lanes: lanes)), f = FastMath.sigmoid(gate.vector(at: block + k, lanes: lanes))
                    let g = FastMath.tanh(gate.vector(at: 2 * block + k, lanes: lanes))
                    let og = FastMath.sigmoid(gate.vector(at: 3 * block + k, lanes: lanes))
                    let c = f * cell.vector(at: k, lanes: lanes) + i * g
                    result.store(og * FastMath.tanh(c), at: k, lanes: lanes)
                    result.store(c, at: block + k, lanes: lanes)
                }
                let (vectors, tail) = FastMath.vectorSplit(range)
                for k in vectors { step(k, 8) }
                if !tail.isEmpty { step(tail.lowerBound, tail.count) }
            }
        } } }
        let output = out
        return Variable(out, parents: [gates, previousCell]) { dy in
            var dGates = Tensor(uninitializedShape: s), dPrevious = Tensor(uninitializedShape: previousCell.shape)
            dGates.withUnsafeMutableBufferPointer { dg in dPrevious.withUnsafeMutableBufferPointer { dc in
                dy.withUnsafeBufferPointer { d in previous.withUnsafeBufferPointer { cp in
                    gateValues.withUnsafeBufferPointer { gp in output.withUnsafeBufferPointer { op in
                        let (dg, dc, d, cp, gp, op) = (dg.baseAddress!, dc.baseAddress!, d.baseAddress!, cp.baseAddress!, gp.baseAddress!, op.baseAddress!)
                        forEachSegment(images: n, block: block) { b, range in
                            let upstream = d + b * 2 * block, cell = cp + b * block, gate = gp + b * 4 * block, newCell = op + b * 2 * block + block
                            let gateGradient = dg + b * 4 * block, previousGradient = dc + b * block
                            @inline(__always) func step(_ k: Int, _ lanes: Int) {
                                let i = FastMath.sigmoid(gate.vector(at: k, lanes: lanes)), f = FastMath.sigmoid(gate.vector(at: block + k, lanes: lanes))
                                let g = FastMath.tanh(gate.vector(at: 2 * block + k, lanes: lanes))
                                let og = FastMath.sigmoid(gate.vector(at: 3 * block + k, lanes: lanes))
                                let tc = FastMath.tanh(newCell.vector(at: k, lanes: lanes))
                                let dh = upstream.vector(at: k, lanes: lanes)
                                // Gradient reaching c: through h = o * tanh(c), plus directly from the output c.
                                let dcell = upstream.vector(at: block + k, lanes: lanes) + dh * og * (1 - tc * tc)
                                gateGradient.store(dcell * g * i * (1 - i), at: k, lanes: lanes)
                                gateGradient.store(dcell * cell.vector(at: k, lanes: lanes) * f * (1 - f), at: block + k, lanes: lanes)
                                gateGradient.store(dcell * i * (1 - g * g), at: 2 * block + k, lanes: lanes)
                                gateGradient.store(dh * tc * og * (1 - og), at: 3 * block + k, lanes: lanes)
                                previousGradient.store(dcell * f, at: k, lanes: lanes)
                            }
                            let (vectors, tail) = FastMath.vectorSplit(range)
                            for k in vectors { step(k, 8) }
                            if !tail.isEmpty { step(tail.lowerBound, tail.count) }
                        }
                    } }
                } }
            } }
            gates.accumulate(dGates)
            previousCell.accumulate(dPrevious)
        }
    }

    /// Calls `body(image, range)` over every element index of `images` blocks of `block` elements,
    /// split over the workers.
    private static func forEachSegment(images: Int, block: Int, _ body: (Int, Range<Int>) -> Void) {
        Parallel.forEachRange(images * block, grain: Elementwise.grain) { r in
            var index = r.lowerBound
            while index < r.upperBound {
                let (b, k) = index.quotientAndRemainder(dividingBy: block)
                let end = min(block, k + r.upperBound - index)
                body(b, k..<end)
                index += end - k
            }
        }
    }
}
