/// 2x2 max pooling, x2 nearest upsampling and channel concatenation of tensors whose values are held
/// in NHWC order only (outputs of oneDNN convolutions): a U-Net's convolutions then pass NHWC values
/// and gradients to each other through these layers with no reorder. The results hold NHWC values too
/// (NCHW made on first read); the backward passes take their gradients in NHWC and give NHWC ones.
/// They are used where the channels come in whole 8-float vectors (`pendingChannelsLastVectors`).
/// Each equals its NCHW counterpart exactly (tests run both).
extension Variable {
    /// `maxPool2x2` of `[N, C, H, W]` values held in NHWC (`x`).
    func maxPool2x2(channelsLast x: TensorStorage) -> Variable {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (h / 2, w / 2)
        let record = Gradients.enabled && requiresGrad
        let out = TensorStorage(count: n * c * oh * ow)
        // Which of the four window positions held the maximum (0...3), one byte per output.
        var which = [UInt8](repeating: 0, count: record ? out.count : 0)
        which.withUnsafeMutableBufferPointer { wp in
            let (op, xp, wq) = (out.pointer, UnsafePointer(x.pointer), record ? wp.baseAddress : nil)
            Parallel.forEachRange(n * oh, grain: 8) { rows in
                for r in rows {
                    let (b, y) = r.quotientAndRemainder(dividingBy: oh)
                    let top = xp + (b * h + 2 * y) * w * c, bottom = top + w * c
                    for ox in 0..<ow {
                        let (a0, a1, a2, a3) = (top + 2 * ox * c, top + (2 * ox + 1) * c, bottom + 2 * ox * c, bottom + (2 * ox + 1) * c)
                        let o = (r * ow + ox) * c
                        @inline(__always) func step(_ k: Int, _ lanes: Int) {
                            var best = a0.vector(at: k, lanes: lanes), at = SIMD8<Float>()
                            @inline(__always) func consider(_ candidate: UnsafePointer<Float>, _ index: Float) {
                                let v = candidate.vector(at: k, lanes: lanes)
                                // Greater, or a NaN where the best so far is a number (a NaN wins, as in PyTorch).
                                let wins = (v .> best) .| ((v .!= v) .& (best .== best))
                                best.replace(with: v, where: wins)
                                at.replace(with: index, where: wins)
                            }
                            consider(a1, 1)
                            consider(a2, 2)
                            consider(a3, 3)
                            (op + o).store(best, at: k, lanes: lanes)
                            if let wq { for l in 0..<lanes { wq[o + k + l] = UInt8(at[l]) } }
                        }
                        let (vectors, tail) = FastMath.vectorSplit(0..<c)
                        for k in vectors { step(k, 8) }
                        if !tail.isEmpty { step(tail.lowerBound, tail.count) }
                    }
                }
            }
        }
        return Variable(Tensor(shape: [n, c, oh, ow], channelsLast: out), parents: [self]) { [self] g in
            let gc = g.channelsLastValues(), gradient = TensorStorage(count: n * c * h * w)
            gradient.pointer.initialize(repeating: 0, count: gradient.count)
            which.withUnsafeBufferPointer { wp in
                let (dp, gq, wq) = (gradient.pointer, UnsafePointer(gc.pointer), wp.baseAddress!)
                Parallel.forEachRange(n * oh, grain: 8) { rows in
                    for r in rows {
                        let (b, y) = r.quotientAndRemainder(dividingBy: oh)
                        let top = dp + (b * h + 2 * y) * w * c
                        for ox in 0..<ow {
                            let o = (r * ow + ox) * c
                            for k in 0..<c {
                                let at = Int(wq[o + k])
                                top[((at >> 1) * w + 2 * ox + (at & 1)) * c + k] = gq[o + k]
                            }
                        }
                    }
                }
            }
            accumulate(Tensor(shape: [n, c, h, w], channelsLast: gradient))
        }
    }

    /// `upsampleNearest2x` of `[N, C, H, W]` values held in NHWC (`x`).
    func upsampleNearest2x(channelsLast x: TensorStorage) -> Variable {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = TensorStorage(count: n * c * 4 * h * w)
        let (op, xp) = (out.pointer, UnsafePointer(x.pointer))
        Parallel.forEachRange(n * h, grain: 8) { rows in
            for r in rows {
                let source = xp + r * w * c, target = op + r * 4 * w * c
                for ix in 0..<w {
                    let (from, left, right) = (source + ix * c, target + 2 * ix * c, target + (2 * ix + 1) * c)
                    FastMath.forEachVector(0..<c) { k, lanes in
                        let v = from.vector(at: k, lanes: lanes)
                        left.store(v, at: k, lanes: lanes)
                        right.store(v, at: k, lanes: lanes)
                    }
                }
                (target + 2 * w * c).update(from: target, count: 2 * w * c)
            }
        }
        return Variable(Tensor(shape: [n, c, 2 * h, 2 * w], channelsLast: out), parents: [self]) { [self] g in
            let gc = g.channelsLastValues(), gradient = TensorStorage(count: n * c * h * w)
            let (dp, gq) = (gradient.pointer, UnsafePointer(gc.pointer))
            Parallel.forEachRange(n * h, grain: 8) { rows in
                for r in rows {
                    let top = gq + r * 4 * w * c, bottom = top + 2 * w * c, target = dp + r * w * c
                    for ix in 0..<w {
                        let (t0, t1, b0, b1, d) = (top + 2 * ix * c, top + (2 * ix + 1) * c, bottom + 2 * ix * c, bottom + (2 * ix + 1) * c, target + ix * c)
                        FastMath.forEachVector(0..<c) { k, lanes in
                            d.store(t0.vector(at: k, lanes: lanes) + t1.vector(at: k, lanes: lanes) + b0.vector(at: k, lanes: lanes)
                                    + b1.vector(at: k, lanes: lanes), at: k, lanes: lanes)
                        }
                    }
                }
            }
            accumulate(Tensor(shape: [n, c, h, w], channelsLast: gradient))
        }
    }

    /// `concatChannels` of parts whose values all have NHWC copies (`copies`).
    static func concatChannels(_ parts: [Variable], channelsLast copies: [TensorStorage]) -> Variable {
        let (n, h, w) = (parts[0].shape[0], parts[0].shape[2], parts[0].shape[3])
        let channels = parts.map { $0.shape[1] }, total = channels.reduce(0, +), pixels = n * h * w
        let offsets = channels.indices.map { channels[..<$0].reduce(0, +) }
        let out = TensorStorage(count: pixels * total)
        let (op, sources) = (out.pointer, copies.map { UnsafePointer($0.pointer) })
        Parallel.forEachRange(pixels, grain: 1024) { range in
            for (k, source) in sources.enumerated() {
                let (c, offset) = (channels[k], offsets[k])
                for p in range { FastMath.copy(c, from: source + p * c, to: op + p * total + offset) }
            }
        }
        return Variable(Tensor(shape: [n, total, h, w], channelsLast: out), parents: parts) { g in
            let gc = g.channelsLastValues(), gq = UnsafePointer(gc.pointer)
            for (k, part) in parts.enumerated() where part.requiresGrad {
                let (c, offset) = (channels[k], offsets[k]), gradient = TensorStorage(count: pixels * c)
                let dp = gradient.pointer
                Parallel.forEachRange(pixels, grain: 1024) { range in
                    for p in range { FastMath.copy(c, from: gq + p * total + offset, to: dp + p * c) }
                }
                part.accumulate(Tensor(shape: part.shape, channelsLast: gradient))
            }
        }
    }
}
