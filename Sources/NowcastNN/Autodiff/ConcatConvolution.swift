extension Variable {
    /// `concatChannels(parts).conv2d(weight:bias:padding:)` without the concatenated copy: the
    /// convolution reads each part in place and its input gradient is written into each part's own
    /// gradient (Winograd or im2col on sgemm; recurrent cells use it for concat(x, h)). Where Winograd
    /// does not apply and the kernel rule picks oneDNN, it concatenates and convolves there instead.
    /// Winograd is preferred to oneDNN here: a recurrent cell's gate kernel reads the gates in NCHW,
    /// and with the reorders that costs, oneDNN ran 1.2-2.3x slower than Winograd on the gate
    /// convolutions of ConvLSTM [16, 16] and [32, 32] at 32 x 32 to 128 x 128 (`nowcast bench conv`).
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
        var y = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
        withExtendedLifetime(values) {
            // The parts are read in place: their storage stays alive with `values`.
            let source = Conv2DGEMM.Parts(parts: zip(values, channels).map { (UnsafePointer($0.storage.pointer), $1) }, plane: plane)
            y.withUnsafeMutableBufferPointer { yp in w.withUnsafeBufferPointer { wp in
                if let b {
                    b.withUnsafeBufferPointer { Conv2DGEMM.forward(g, input: source, w: wp.baseAddress!, b: $0.baseAddress!, y: yp.baseAddress!) }
                } else {
                    Conv2DGEMM.forward(g, input: source, w: wp.baseAddress!, b: nil, y: yp.baseAddress!)
                }
            } }
        }
        return Variable(y, parents: parts + [weight] + (bias.map { [$0] } ?? [])) { upstream in
            let inputGradients = parts.contains(where: \.requiresGrad)
            // Fresh, unshared tensors: the kernel writes them through their storage.
            let dx = inputGradients ? values.map { Tensor(uninitializedShape: $0.shape) } : []
            var dw = weight.requiresGrad ? Tensor(shape: w.shape) : nil
            var db = bias?.requiresGrad == true ? Tensor(shape: [g.outChannels]) : nil
            withExtendedLifetime((values, dx)) {
                let source = Conv2DGEMM.Parts(parts: zip(values, channels).map { (UnsafePointer($0.storage.pointer), $1) }, plane: plane)
                let targets = inputGradients ? Conv2DGEMM.Parts(parts: zip(dx, channels).map { ($0.storage.pointer, $1) }, plane: plane) : nil
                upstream.withUnsafeBufferPointer { gp in w.withUnsafeBufferPointer { wp in
                    dw.withOptionalMutablePointer { dwp in db.withOptionalMutablePointer { dbp in
                        Conv2DGEMM.backward(g, input: source, w: wp.baseAddress!, dy: gp.baseAddress!, dx: targets, dw: dwp, db: dbp)
                    } }
                } }
            }
            for (part, gradient) in zip(parts, dx) where part.requiresGrad { part.accumulate(gradient) }
            if let dw { weight.accumulate(dw) }
            if let db { bias?.accumulate(db) }
        }
    }
}
