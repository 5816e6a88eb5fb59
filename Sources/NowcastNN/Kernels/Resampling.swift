/// 2x2 max pooling and x2 nearest upsampling of NCHW tensors, forward and backward.
extension Variable {
    /// Max over non-overlapping 2x2 windows (odd trailing rows and columns are dropped, as PyTorch does).
    public func maxPool2x2() throws -> Variable {
        guard shape.count == 4, shape[2] >= 2, shape[3] >= 2 else {
            throw TensorError.invalidShape(operation: "maxPool2x2", shape: shape, expected: "[N, C, H >= 2, W >= 2]")
        }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h / 2, w / 2)
        var out = Tensor(shape: [shape[0], shape[1], oh, ow])
        var argmax = [Int](repeating: 0, count: nc * oh * ow)
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            for p in 0..<nc { for y in 0..<oh { for xo in 0..<ow {
                var best = -Float.infinity, at = 0
                for dy in 0..<2 { for dx in 0..<2 {
                    let i = (p * h + 2 * y + dy) * w + 2 * xo + dx
                    if x[i] > best || (x[i].isNaN && !best.isNaN) { best = x[i]; at = i }
                } }
                o[(p * oh + y) * ow + xo] = best
                argmax[(p * oh + y) * ow + xo] = at
            } } }
        } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(shape: inputShape)
            gradient.withUnsafeMutableBufferPointer { o in g.withUnsafeBufferPointer { gp in for k in 0..<gp.count { o[argmax[k]] += gp[k] } } }
            accumulate(gradient)
        }
    }

    /// Each value repeated over a 2x2 block (nearest-neighbour upsampling by 2).
    public func upsampleNearest2x() throws -> Variable {
        guard shape.count == 4 else { throw TensorError.invalidShape(operation: "upsampleNearest2x", shape: shape, expected: "[N, C, H, W]") }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        var out = Tensor(shape: [shape[0], shape[1], 2 * h, 2 * w])
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            for p in 0..<nc { for y in 0..<(2 * h) { for xo in 0..<(2 * w) { o[(p * 2 * h + y) * 2 * w + xo] = x[(p * h + y / 2) * w + xo / 2] } } }
        } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(shape: inputShape)
            gradient.withUnsafeMutableBufferPointer { o in g.withUnsafeBufferPointer { gp in
                for p in 0..<nc { for y in 0..<(2 * h) { for xo in 0..<(2 * w) { o[(p * h + y / 2) * w + xo / 2] += gp[(p * 2 * h + y) * 2 * w + xo] } } }
            } }
            accumulate(gradient)
        }
    }
}
