/// Reordering NCHW tensors to channels-last (NHWC) order and back: oneDNN's reorder where it runs,
/// plain loops otherwise (and as the reference the fast path is tested against).
enum ChannelsLast {
    /// Writes the NHWC values `from` of NCHW `shape` into `to` in NCHW order.
    static func toPlain(shape: [Int], from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) {
        if !DNNLConvolution.reorder(shape: shape, toChannelsLast: false, from: from, to: to) {
            referenceToPlain(shape: shape, from: from, to: to)
        }
    }

    /// Writes the NCHW values `from` of `shape` into `to` in NHWC order.
    static func toChannelsLast(shape: [Int], from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) {
        if !DNNLConvolution.reorder(shape: shape, toChannelsLast: true, from: from, to: to) {
            referenceToChannelsLast(shape: shape, from: from, to: to)
        }
    }

    static func referenceToPlain(shape: [Int], from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) {
        let (n, c, plane) = dimensions(shape)
        for b in 0..<n { for k in 0..<c { for p in 0..<plane { to[(b * c + k) * plane + p] = from[(b * plane + p) * c + k] } } }
    }

    static func referenceToChannelsLast(shape: [Int], from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) {
        let (n, c, plane) = dimensions(shape)
        for b in 0..<n { for k in 0..<c { for p in 0..<plane { to[(b * plane + p) * c + k] = from[(b * c + k) * plane + p] } } }
    }

    /// Images, channels and pixels per channel of an NCHW shape (a shape of other rank counts as one
    /// image of one channel, which both orders lay out alike).
    private static func dimensions(_ shape: [Int]) -> (images: Int, channels: Int, plane: Int) {
        shape.count == 4 ? (shape[0], shape[1], shape[2] * shape[3]) : (1, 1, shape.reduce(1, *))
    }
}

extension Tensor {
    /// `pendingChannelsLast` where the channels fill whole 8-float vectors: the NHWC layers loop over a
    /// pixel's channels in vectors, and with fewer channels the NCHW forms (made from the copy) run faster.
    var pendingChannelsLastVectors: TensorStorage? { shape.count == 4 && shape[1] % 8 == 0 ? pendingChannelsLast : nil }

    /// This tensor's values in NHWC order: its NHWC copy where it has one, else reordered into a new one.
    func channelsLastValues() -> TensorStorage {
        if let copy = channelsLastCopy { return copy }
        let copy = TensorStorage(count: count)
        ChannelsLast.toChannelsLast(shape: shape, from: storage.pointer, to: copy.pointer)
        return copy
    }

    /// The sum of two tensors of this shape held in NHWC only, as a tensor held in NHWC only; nil
    /// unless both are.
    func addingChannelsLast(_ other: Tensor) -> Tensor? {
        guard shape == other.shape, let a = pendingChannelsLast, let b = other.pendingChannelsLast else { return nil }
        let sum = TensorStorage(count: count)
        let (sp, ap, bp) = (sum.pointer, UnsafePointer(a.pointer), UnsafePointer(b.pointer))
        Parallel.forEachRange(count, grain: Elementwise.grain) { r in
            FastMath.forEachVector(r) { k, lanes in sp.store(ap.vector(at: k, lanes: lanes) + bp.vector(at: k, lanes: lanes), at: k, lanes: lanes) }
        }
        return Tensor(shape: shape, channelsLast: sum)
    }
}
