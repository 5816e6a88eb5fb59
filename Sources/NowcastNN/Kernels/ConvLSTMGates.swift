/// The fused ConvLSTM gate step: from the convolution's gates `[N, 4H, h, w]` (i, f, g, o in that
/// order) and the previous cell state `[N, H, h, w]`, computes `c = sigmoid(f) * c_prev +
/// sigmoid(i) * tanh(g)` and `h = sigmoid(o) * tanh(c)` in one pass, with a hand-written backward.
/// The result is `[N, 2H, h, w]`: hidden state in channels `0..<H`, cell state in `H..<2H`.
extension Variable {
    public static func convLSTMGates(_ gates: Variable, previousCell: Variable) throws -> Variable {
        let s = gates.shape
        guard s.count == 4, s[1] % 4 == 0, previousCell.shape == [s[0], s[1] / 4, s[2], s[3]] else {
            throw TensorError.shapeMismatch(operation: "convLSTMGates", left: gates.shape, right: previousCell.shape)
        }
        let (n, hidden, plane) = (s[0], s[1] / 4, s[2] * s[3])
        let block = hidden * plane
        var out = Tensor(uninitializedShape: [n, 2 * hidden, s[2], s[3]])
        // Saved for the backward pass: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o), tanh(c) per image.
        let record = Gradients.enabled && (gates.requiresGrad || previousCell.requiresGrad)
        var saved = Tensor(uninitializedShape: record ? [n, 5, block] : [0])
        out.withUnsafeMutableBufferPointer { o in gates.value.withUnsafeBufferPointer { gp in previousCell.value.withUnsafeBufferPointer { cp in
            saved.withUnsafeMutableBufferPointer { a in
                let (o, gp, cp, a) = (o.baseAddress!, gp.baseAddress!, cp.baseAddress!, a.baseAddress!)
                forEachSegment(images: n, block: block) { b, range in
                    let gate = gp + b * 4 * block, cell = cp + b * block, result = o + b * 2 * block, keep = a + b * 5 * block
                    for k in range {
                        let i = FastMath.sigmoid(gate[k]), f = FastMath.sigmoid(gate[block + k])
                        let g = FastMath.tanh(gate[2 * block + k]), og = FastMath.sigmoid(gate[3 * block + k])
                        let c = f * cell[k] + i * g
                        let tc = FastMath.tanh(c)
                        result[k] = og * tc
                        result[block + k] = c
                        if record {
                            (keep[k], keep[block + k], keep[2 * block + k], keep[3 * block + k], keep[4 * block + k]) = (i, f, g, og, tc)
                        }
                    }
                }
            }
        } } }
        let previous = previousCell.value
        return Variable(out, parents: [gates, previousCell]) { dy in
            var dGates = Tensor(uninitializedShape: s), dPrevious = Tensor(uninitializedShape: previousCell.shape)
            dGates.withUnsafeMutableBufferPointer { dg in dPrevious.withUnsafeMutableBufferPointer { dc in
                dy.withUnsafeBufferPointer { d in previous.withUnsafeBufferPointer { cp in saved.withUnsafeBufferPointer { a in
                    let (dg, dc, d, cp, a) = (dg.baseAddress!, dc.baseAddress!, d.baseAddress!, cp.baseAddress!, a.baseAddress!)
                    forEachSegment(images: n, block: block) { b, range in
                        let keep = a + b * 5 * block, upstream = d + b * 2 * block, cell = cp + b * block
                        let gate = dg + b * 4 * block, previousGradient = dc + b * block
                        for k in range {
                            let (i, f, g, og, tc) = (keep[k], keep[block + k], keep[2 * block + k], keep[3 * block + k], keep[4 * block + k])
                            let dh = upstream[k]
                            // Gradient reaching c: through h = o * tanh(c), plus directly from the output c.
                            let dcell = upstream[block + k] + dh * og * (1 - tc * tc)
                            gate[k] = dcell * g * i * (1 - i)
                            gate[block + k] = dcell * cell[k] * f * (1 - f)
                            gate[2 * block + k] = dcell * i * (1 - g * g)
                            gate[3 * block + k] = dh * tc * og * (1 - og)
                            previousGradient[k] = dcell * f
                        }
                    }
                } } }
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
