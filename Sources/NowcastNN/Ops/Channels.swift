/// Concatenation and slicing along the channel axis of NCHW tensors, forward and backward.
extension Variable {
    /// Concatenates `[N, C_k, H, W]` tensors along channels.
    public static func concatChannels(_ parts: [Variable]) throws -> Variable {
        guard let first = parts.first, first.shape.count == 4 else {
            throw TensorError.invalidShape(operation: "concatChannels", shape: parts.first?.shape ?? [], expected: "[N, C, H, W] tensors")
        }
        let (n, h, w) = (first.shape[0], first.shape[2], first.shape[3])
        for part in parts where part.shape.count != 4 || part.shape[0] != n || part.shape[2] != h || part.shape[3] != w {
            throw TensorError.shapeMismatch(operation: "concatChannels", left: first.shape, right: part.shape)
        }
        // Parts that oneDNN convolutions left in NHWC are joined in NHWC (at least one held that way
        // only, each with whole vectors of channels).
        let copies = parts.compactMap(\.value.channelsLastCopy)
        if copies.count == parts.count, parts.allSatisfy({ $0.shape[1] % 8 == 0 }), parts.contains(where: { $0.value.pendingChannelsLast != nil }) {
            return concatChannels(parts, channelsLast: copies)
        }
        let channels = parts.map { $0.shape[1] }
        let total = channels.reduce(0, +), plane = h * w
        var out = Tensor(uninitializedShape: [n, total, h, w])
        out.withUnsafeMutableBufferPointer { o in
            var offset = 0
            for (part, c) in zip(parts, channels) {
                part.value.withUnsafeBufferPointer { p in
                    for b in 0..<n { (o.baseAddress! + (b * total + offset) * plane).update(from: p.baseAddress! + b * c * plane, count: c * plane) }
                }
                offset += c
            }
        }
        return Variable(out, parents: parts) { g in
            var offset = 0
            for (part, c) in zip(parts, channels) {
                if part.requiresGrad { part.accumulate(g.channels(offset..<(offset + c))) }
                offset += c
            }
        }
    }

    /// Channels `range` of an `[N, C, H, W]` tensor.
    public func sliceChannels(_ range: Range<Int>) throws -> Variable {
        guard shape.count == 4, range.lowerBound >= 0, range.upperBound <= shape[1], !range.isEmpty else {
            throw TensorError.invalidShape(operation: "sliceChannels \(range)", shape: shape, expected: "[N, C, H, W] with the range inside C")
        }
        return Variable(value.channels(range), parents: [self]) { [self] g in accumulate(g, channels: range) }
    }
}

extension Variable {
    /// Splits an `[N, C, H, W]` tensor into consecutive channel groups of `sizes` (summing to C).
    public func splitChannels(_ sizes: [Int]) throws -> [Variable] {
        guard shape.count == 4, sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == shape[1] else {
            throw TensorError.invalidShape(operation: "splitChannels \(sizes)", shape: shape, expected: "[N, C, H, W] with the sizes summing to C")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try sliceChannels(start..<(start + size))
        }
    }
}

extension Tensor {
    /// Channels `range` of an `[N, C, H, W]` tensor (callers check the range).
    func channels(_ range: Range<Int>) -> Tensor {
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var out = Tensor(uninitializedShape: [n, range.count, shape[2], shape[3]])
        out.withUnsafeMutableBufferPointer { o in withUnsafeBufferPointer { x in
            for b in 0..<n { (o.baseAddress! + b * range.count * plane).update(from: x.baseAddress! + (b * c + range.lowerBound) * plane, count: range.count * plane) }
        } }
        return out
    }
}

extension Variable {
    /// The same values under another shape with the same count (e.g. `[B, T, C, H, W]` to `[B, T*C, H, W]`).
    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let old = shape
        return Variable(try value.reshaped(newShape), parents: [self]) { [self] g in
            if let back = try? g.reshaped(old) { accumulate(back) }
        }
    }
}
