import Foundation

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
        var out = Tensor(shape: [n, 2 * hidden, s[2], s[3]])
        // Saved activations for the backward pass: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o), tanh(c).
        var saved = [Float](repeating: 0, count: n * 5 * block)
        out.withUnsafeMutableBufferPointer { o in gates.value.withUnsafeBufferPointer { gp in previousCell.value.withUnsafeBufferPointer { cp in
            saved.withUnsafeMutableBufferPointer { a in
                for b in 0..<n { for k in 0..<block {
                    let base = b * 4 * block
                    let i = 1 / (1 + exp(-gp[base + k])), f = 1 / (1 + exp(-gp[base + block + k]))
                    let g = Foundation.tanh(gp[base + 2 * block + k]), og = 1 / (1 + exp(-gp[base + 3 * block + k]))
                    let c = f * cp[b * block + k] + i * g
                    let tc = Foundation.tanh(c)
                    o[b * 2 * block + k] = og * tc
                    o[b * 2 * block + block + k] = c
                    let sv = b * 5 * block + k
                    (a[sv], a[sv + block], a[sv + 2 * block], a[sv + 3 * block], a[sv + 4 * block]) = (i, f, g, og, tc)
                } }
            }
        } } }
        let previous = previousCell.value
        return Variable(out, parents: [gates, previousCell]) { dy in
            var dGates = Tensor(shape: s), dPrevious = Tensor(shape: previousCell.shape)
            dGates.withUnsafeMutableBufferPointer { dg in dPrevious.withUnsafeMutableBufferPointer { dc in
                dy.withUnsafeBufferPointer { d in previous.withUnsafeBufferPointer { cp in saved.withUnsafeBufferPointer { a in
                    for b in 0..<n { for k in 0..<block {
                        let sv = b * 5 * block + k
                        let (i, f, g, og, tc) = (a[sv], a[sv + block], a[sv + 2 * block], a[sv + 3 * block], a[sv + 4 * block])
                        let dh = d[b * 2 * block + k]
                        // Gradient reaching c: through h = o * tanh(c), plus directly from the output c.
                        let dcell = d[b * 2 * block + block + k] + dh * og * (1 - tc * tc)
                        let base = b * 4 * block
                        dg[base + k] = dcell * g * i * (1 - i)
                        dg[base + block + k] = dcell * cp[b * block + k] * f * (1 - f)
                        dg[base + 2 * block + k] = dcell * i * (1 - g * g)
                        dg[base + 3 * block + k] = dh * tc * og * (1 - og)
                        dc[b * block + k] = dcell * f
                    } }
                } } }
            } }
            gates.accumulate(dGates)
            previousCell.accumulate(dPrevious)
        }
    }
}
