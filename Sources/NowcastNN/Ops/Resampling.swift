/// 2x2 max pooling and x2 nearest upsampling of NCHW tensors, forward and backward.
extension Variable {
    /// Max over non-overlapping 2x2 windows (odd trailing rows and columns are dropped, as PyTorch
    /// does; a NaN in a window wins, as in PyTorch). Planes are spread over the workers; the
    /// position of each maximum is kept only when a gradient will be needed.
    public func maxPool2x2() throws -> Variable {
        guard shape.count == 4, shape[2] >= 2, shape[3] >= 2 else {
            throw TensorError.invalidShape(operation: "maxPool2x2", shape: shape, expected: "[N, C, H >= 2, W >= 2]")
        }
        if let nhwc = value.pendingChannelsLastVectors { return maxPool2x2(channelsLast: nhwc) }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h / 2, w / 2)
        let record = Gradients.enabled && requiresGrad
        var out = Tensor(uninitializedShape: [shape[0], shape[1], oh, ow])
        // Which of the four window positions held the maximum (0...3), one byte per output.
        var which = [UInt8](repeating: 0, count: record ? nc * oh * ow : 0)
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in which.withUnsafeMutableBufferPointer { wp in
            let (op, xp, wq) = (o.baseAddress!, x.baseAddress!, record ? wp.baseAddress : nil)
            Parallel.forEachRange(nc * oh, grain: 64) { rows in
                for r in rows {
                    let (p, y) = r.quotientAndRemainder(dividingBy: oh)
                    let top = xp + (p * h + 2 * y) * w, bottom = top + w, result = op + r * ow
                    for c in 0..<ow {
                        let (a, b, d, e) = (top[2 * c], top[2 * c + 1], bottom[2 * c], bottom[2 * c + 1])
                        var best = a, at: UInt8 = 0
                        if b > best || (b.isNaN && !best.isNaN) { best = b; at = 1 }
                        if d > best || (d.isNaN && !best.isNaN) { best = d; at = 2 }
                        if e > best || (e.isNaN && !best.isNaN) { best = e; at = 3 }
                        result[c] = best
                        if let wq { wq[r * ow + c] = at }
                    }
                }
            }
        } } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(shape: inputShape)
            gradient.withUnsafeMutableBufferPointer { d in g.withUnsafeBufferPointer { gp in which.withUnsafeBufferPointer { wp in
                let (dp, gq, wq) = (d.baseAddress!, gp.baseAddress!, wp.baseAddress!)
                Parallel.forEachRange(nc * oh, grain: 64) { rows in
                    for r in rows {
                        let (p, y) = r.quotientAndRemainder(dividingBy: oh)
                        let top = dp + (p * h + 2 * y) * w
                        for c in 0..<ow {
                            let at = Int(wq[r * ow + c])
                            top[(at >> 1) * w + 2 * c + (at & 1)] = gq[r * ow + c]
                        }
                    }
                }
            } } }
            accumulate(gradient)
        }
    }

    /// Each value repeated over a 2x2 block (nearest-neighbour upsampling by 2).
    public func upsampleNearest2x() throws -> Variable {
        guard shape.count == 4 else { throw TensorError.invalidShape(operation: "upsampleNearest2x", shape: shape, expected: "[N, C, H, W]") }
        if let nhwc = value.pendingChannelsLastVectors { return upsampleNearest2x(channelsLast: nhwc) }
        let (nc, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        var out = Tensor(uninitializedShape: [shape[0], shape[1], 2 * h, 2 * w])
        out.withUnsafeMutableBufferPointer { o in value.withUnsafeBufferPointer { x in
            let (op, xp) = (o.baseAddress!, x.baseAddress!)
            Parallel.forEachRange(nc * h, grain: 64) { rows in
                for r in rows {
                    let source = xp + r * w, target = op + r * 4 * w
                    for c in 0..<w { target[2 * c] = source[c]; target[2 * c + 1] = source[c] }
                    (target + 2 * w).update(from: target, count: 2 * w)
                }
            }
        } }
        let inputShape = shape
        return Variable(out, parents: [self]) { [self] g in
            var gradient = Tensor(uninitializedShape: inputShape)
            gradient.withUnsafeMutableBufferPointer { d in g.withUnsafeBufferPointer { gp in
                let (dp, gq) = (d.baseAddress!, gp.baseAddress!)
                Parallel.forEachRange(nc * h, grain: 64) { rows in
                    for r in rows {
                        let top = gq + r * 4 * w, bottom = top + 2 * w, target = dp + r * w
                        for c in 0..<w { target[c] = top[2 * c] + top[2 * c + 1] + bottom[2 * c] + bottom[2 * c + 1] }
                    }
                }
            } }
            accumulate(gradient)
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
