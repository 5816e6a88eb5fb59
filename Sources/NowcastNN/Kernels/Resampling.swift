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

/// Source taps of linear interpolation along one axis, as PyTorch's `interpolate(mode="bilinear",
/// align_corners=False)` places them: output `o` reads `(o + 0.5) / scale - 0.5` (clamped at 0).
struct LinearTaps {
    var lower: [Int], upper: [Int], weight: [Float]

    init(input: Int, scale: Int) {
        (lower, upper, weight) = ([], [], [])
        for o in 0..<(input * scale) {
            let source = max(0, (Float(o) + 0.5) / Float(scale) - 0.5)
            let l = min(Int(source), input - 1)
            lower.append(l)
            upper.append(min(l + 1, input - 1))
            weight.append(source - Float(l))
        }
    }
}

extension Variable {
    /// Bilinear upsampling by an integer `scale` (PyTorch's `align_corners=False`).
    public func upsampleBilinear(scale: Int = 2) throws -> Variable {
        guard shape.count == 4, scale >= 1 else {
            throw TensorError.invalidShape(operation: "upsampleBilinear(scale: \(scale))", shape: shape, expected: "[N, C, H, W] and scale >= 1")
        }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h * scale, w * scale)
        let rows = LinearTaps(input: h, scale: scale), columns = LinearTaps(input: w, scale: scale)
        var out = Tensor(uninitializedShape: [shape[0], shape[1], oh, ow])
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            for p in 0..<nc { for y in 0..<oh {
                let (r0, r1, wy) = (x.baseAddress! + (p * h + rows.lower[y]) * w, x.baseAddress! + (p * h + rows.upper[y]) * w, rows.weight[y])
                for c in 0..<ow {
                    let (c0, c1, wx) = (columns.lower[c], columns.upper[c], columns.weight[c])
                    let top = r0[c0] + wx * (r0[c1] - r0[c0]), bottom = r1[c0] + wx * (r1[c1] - r1[c0])
                    o[(p * oh + y) * ow + c] = top + wy * (bottom - top)
                }
            } }
        } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(shape: inputShape)
            gradient.withUnsafeMutableBufferPointer { d in g.withUnsafeBufferPointer { gp in
                for p in 0..<nc { for y in 0..<oh {
                    let (r0, r1, wy) = ((p * h + rows.lower[y]) * w, (p * h + rows.upper[y]) * w, rows.weight[y])
                    for c in 0..<ow {
                        let (c0, c1, wx) = (columns.lower[c], columns.upper[c], columns.weight[c])
                        let v = gp[(p * oh + y) * ow + c]
                        d[r0 + c0] += v * (1 - wy) * (1 - wx)
                        d[r0 + c1] += v * (1 - wy) * wx
                        d[r1 + c0] += v * wy * (1 - wx)
                        d[r1 + c1] += v * wy * wx
                    }
                } }
            } }
            accumulate(gradient)
        }
    }

    /// Mean over non-overlapping `size` x `size` windows (trailing rows and columns that do not fill a
    /// window are dropped, as PyTorch does).
    public func averagePool(size: Int = 2) throws -> Variable {
        guard shape.count == 4, size >= 1, shape[2] >= size, shape[3] >= size else {
            throw TensorError.invalidShape(operation: "averagePool(size: \(size))", shape: shape, expected: "[N, C, H >= \(size), W >= \(size)]")
        }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h / size, w / size)
        let scale = 1 / Float(size * size)
        var out = Tensor(shape: [shape[0], shape[1], oh, ow])
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            for p in 0..<nc { for y in 0..<oh { for c in 0..<ow {
                var total: Float = 0
                for dy in 0..<size { for dx in 0..<size { total += x[(p * h + y * size + dy) * w + c * size + dx] } }
                o[(p * oh + y) * ow + c] = total * scale
            } } }
        } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(shape: inputShape)
            gradient.withUnsafeMutableBufferPointer { d in g.withUnsafeBufferPointer { gp in
                for p in 0..<nc { for y in 0..<oh { for c in 0..<ow {
                    let v = gp[(p * oh + y) * ow + c] * scale
                    for dy in 0..<size { for dx in 0..<size { d[(p * h + y * size + dy) * w + c * size + dx] = v } }
                } } }
            } }
            accumulate(gradient)
        }
    }
}
