/// The fused ConvLSTM gate step. From the gate convolution's output `[N, 4H, h, w]` (i, f, g, o in
/// that order, before the bias), the gate bias `[4H]` and the previous cell state `[N, H, h, w]`, it
/// computes in one pass
///
///     c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g),   h = sigmoid(o) * tanh(c)
///
/// and returns h and c as two nodes, with hand-written backward passes: h's passes the gradient to
/// the o gate and on to c; c's (which then holds the gradient from h and from the next step) to the
/// i, f and g gates and to c_prev. Each writes its gates' gradient straight into the gate node's,
/// and the activations are recomputed from the gates rather than stored (the stores would cost
/// more memory traffic than the exp and tanh they save). Folding the bias in spares the
/// convolution a pass over its 4H output channels. The kernels are `ConvLSTMGateKernels`.
extension Variable {
    public static func convLSTMGates(_ gates: Variable, previousCell: Variable, bias: Variable? = nil) throws -> (hidden: Variable, cell: Variable) {
        let s = gates.shape
        guard s.count == 4, s.allSatisfy({ $0 > 0 }), s[1] % 4 == 0, previousCell.shape == [s[0], s[1] / 4, s[2], s[3]] else {
            throw TensorError.shapeMismatch(operation: "convLSTMGates", left: gates.shape, right: previousCell.shape)
        }
        if let bias, bias.shape != [s[1]] { throw TensorError.shapeMismatch(operation: "convLSTMGates bias", left: bias.shape, right: [s[1]]) }
        let geometry = ConvLSTMGateKernels.Geometry(images: s[0], hidden: s[1] / 4, plane: s[2] * s[3])
        let stateShape = previousCell.shape
        let gateValues = gates.value, previous = previousCell.value
        let biasValues = bias?.value ?? Tensor(shape: [s[1]])
        var states = [Tensor(uninitializedShape: stateShape), Tensor(uninitializedShape: stateShape)]
        Tensor.withElements(writing: &states, reading: [gateValues, previous, biasValues]) { out, input in
            ConvLSTMGateKernels.forward(geometry, gates: input[0], bias: input[2], previous: input[1], hidden: out[0], cell: out[1])
        }
        let (hidden, cell) = (states[0], states[1])
        let biasParents = bias.map { [$0] } ?? []
        let cellNode = Variable(cell, parents: [gates, previousCell] + biasParents) { dc in
            // dc holds the gradient from h (added by h's backward pass) and from what used c.
            var gradients = [Tensor(uninitializedShape: [s[0], 3 * geometry.hidden, s[2], s[3]]), Tensor(uninitializedShape: stateShape),
                             Tensor(shape: [s[1]])]
            Tensor.withElements(writing: &gradients, reading: [dc, gateValues, biasValues, previous]) { out, input in
                ConvLSTMGateKernels.cellBackward(geometry, dCell: input[0], gates: input[1], bias: input[2], previous: input[3],
                                                 dGates: out[0], dPrevious: out[1], dBias: out[2])
            }
            gates.accumulate(gradients[0], channels: 0..<(3 * geometry.hidden))
            previousCell.accumulate(gradients[1])
            bias?.accumulate(gradients[2])
        }
        let hiddenNode = Variable(hidden, parents: [gates, cellNode] + biasParents) { dh in
            var gradients = [Tensor(uninitializedShape: stateShape), Tensor(uninitializedShape: stateShape), Tensor(shape: [s[1]])]
            Tensor.withElements(writing: &gradients, reading: [dh, gateValues, biasValues, cell]) { out, input in
                ConvLSTMGateKernels.hiddenBackward(geometry, dHidden: input[0], gates: input[1], bias: input[2], cell: input[3],
                                                   dOutput: out[0], dCell: out[1], dBias: out[2])
            }
            gates.accumulate(gradients[0], channels: (3 * geometry.hidden)..<(4 * geometry.hidden))
            cellNode.accumulate(gradients[1])
            bias?.accumulate(gradients[2])
        }
        return (hiddenNode, cellNode)
    }
}
