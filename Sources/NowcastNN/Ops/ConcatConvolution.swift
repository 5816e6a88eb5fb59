extension Variable {
    /// `concatChannels(parts).conv2d(weight:bias:padding:)` without the concatenated copy: the
    /// convolution reads each part in place and its input gradient is written into each part's own
    /// gradient (Winograd or im2col on sgemm; recurrent cells use it for concat(x, h)). Where Winograd
    /// does not apply and the kernel rule picks oneDNN, it concatenates and convolves there instead.
    /// Winograd is preferred to oneDNN here: a recurrent cell's gate kernel reads the gates in NCHW,
    /// and the reorders that costs make oneDNN the slower of the two on the gate convolutions
    /// (figures in docs/PERFORMANCE.md).
    public static func conv2d(concatenating parts: [Variable], weight: Variable, bias: Variable? = nil, padding: Int = 0) throws -> Variable {
        guard let first = parts.first, first.shape.count == 4 else {
            throw TensorError.invalidShape(operation: "conv2d(concatenating:)", shape: parts.first?.shape ?? [], expected: "[N, C, H, W] tensors")
        }
        for part in parts where part.shape.count != 4 || part.shape[0] != first.shape[0] || part.shape[2...] != first.shape[2...] {
            throw TensorError.shapeMismatch(operation: "conv2d(concatenating:)", left: first.shape, right: part.shape)
        }
        if parts.count == 1 { return try first.conv2d(weight: weight, bias: bias, padding: padding) }
        let channels = parts.map { $0.shape[1] }
        let input = [first.shape[0], channels.reduce(0, +), first.shape[2], first.shape[3]]
        let g = try Conv2DGeometry(input: input, weight: weight.shape, padding: padding)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(operation: "conv2d bias", left: bias.shape, right: [g.outChannels])
        }
        if !Conv2DWinograd.applies(g), DNNLConvolution.plan(for: g, bias: bias != nil, activation: .none)?.channelsLastIsDense == true {
            return try concatChannels(parts).conv2d(weight: weight, bias: bias, padding: padding)
        }
        let values = parts.map(\.value), w = weight.value, b = bias?.value
        let plane = g.height * g.width
        var outputs = [Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])]
        // The parts are read in place, each as one input.
        Tensor.withElements(writing: &outputs, reading: [w] + values) { out, input in
            let source = Conv2DGEMM.Parts(parts: Array(zip(input.dropFirst(), channels)), plane: plane)
            b.withOptionalPointer { Conv2DGEMM.forward(g, input: source, w: input[0], b: $0, y: out[0]) }
        }
        return Variable(outputs[0], parents: parts + [weight] + (bias.map { [$0] } ?? [])) { upstream in
            let inputGradients = parts.contains(where: \.requiresGrad)
            // The weight and bias gradients (nil where not wanted), then one per part when wanted.
            var gradients = [weight.requiresGrad ? Tensor(shape: w.shape) : nil, bias?.requiresGrad == true ? Tensor(shape: [g.outChannels]) : nil]
                + (inputGradients ? values.map { Tensor(uninitializedShape: $0.shape) } : [])
            Tensor.withElements(writing: &gradients, reading: [upstream, w] + values) { out, input in
                let source = Conv2DGEMM.Parts(parts: Array(zip(input.dropFirst(2), channels)), plane: plane)
                let targets = inputGradients ? Conv2DGEMM.Parts(parts: Array(zip(out.dropFirst(2).compactMap { $0 }, channels)), plane: plane) : nil
                Conv2DGEMM.backward(g, input: source, w: input[1], dy: input[0], dx: targets, dw: out[0], db: out[1])
            }
            for (part, gradient) in zip(parts, gradients.dropFirst(2)) where part.requiresGrad { gradient.map { part.accumulate($0) } }
            if let dw = gradients[0] { weight.accumulate(dw) }
            if let db = gradients[1] { bias?.accumulate(db) }
        }
    }
}
