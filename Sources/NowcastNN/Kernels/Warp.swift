/// Differentiable bilinear warping: the semi-Lagrangian step of advection and of extrapolation
/// nowcasts. `image.warped(by: flow)` samples each image `[N, C, H, W]` at the displaced positions
/// `(row + flow[n, 1], column + flow[n, 0])` (flow `[N, 2, H, W]` in pixels: x then y, as optical-flow
/// fields are stored), reading zeros outside the image (PyTorch's `grid_sample` with
/// `padding_mode="zeros"`, `align_corners=True`, in pixel units). Gradients reach both the image and
/// the flow.
extension Variable {
    public func warped(by flow: Variable) throws -> Variable {
        guard shape.count == 4, flow.shape == [shape[0], 2, shape[2], shape[3]] else {
            throw TensorError.shapeMismatch(operation: "warp (image [N, C, H, W], flow [N, 2, H, W])", left: shape, right: flow.shape)
        }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let plane = h * w
        let image = value, displacement = flow.value
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { o in image.withUnsafeBufferPointer { x in displacement.withUnsafeBufferPointer { f in
            for b in 0..<n { for p in 0..<plane {
                let tap = BilinearTap(row: p / w, column: p % w, dx: f[(b * 2) * plane + p], dy: f[(b * 2 + 1) * plane + p], height: h, width: w)
                for k in 0..<c { o[(b * c + k) * plane + p] = tap.sample(x.baseAddress! + (b * c + k) * plane) }
            } }
        } } }
        return Variable(out, parents: [self, flow]) { [self] g in
            var dImage = Tensor(shape: image.shape), dFlow = Tensor(shape: displacement.shape)
            dImage.withUnsafeMutableBufferPointer { di in dFlow.withUnsafeMutableBufferPointer { df in
                g.withUnsafeBufferPointer { gp in image.withUnsafeBufferPointer { x in displacement.withUnsafeBufferPointer { f in
                    for b in 0..<n { for p in 0..<plane {
                        let tap = BilinearTap(row: p / w, column: p % w, dx: f[(b * 2) * plane + p], dy: f[(b * 2 + 1) * plane + p], height: h, width: w)
                        var gx: Float = 0, gy: Float = 0
                        for k in 0..<c {
                            let upstream = gp[(b * c + k) * plane + p]
                            tap.scatter(upstream, into: di.baseAddress! + (b * c + k) * plane)
                            let slope = tap.slopes(x.baseAddress! + (b * c + k) * plane)
                            gx += upstream * slope.x
                            gy += upstream * slope.y
                        }
                        df[(b * 2) * plane + p] = gx
                        df[(b * 2 + 1) * plane + p] = gy
                    } }
                } } }
            } }
            accumulate(dImage)
            flow.accumulate(dFlow)
        }
    }
}

/// The four neighbours of a displaced sampling position and their bilinear weights; neighbours
/// outside the image read as zero (and receive no gradient).
struct BilinearTap {
    let x0, y0: Int
    let ax, ay: Float
    let width, height: Int

    init(row: Int, column: Int, dx: Float, dy: Float, height: Int, width: Int) {
        let sx = Float(column) + dx, sy = Float(row) + dy
        // Far outside (or NaN): every neighbour is out of the image.
        guard sx.isFinite, sy.isFinite, sx > -2, sy > -2, sx < Float(width + 1), sy < Float(height + 1) else {
            (x0, y0, ax, ay, self.width, self.height) = (-2, -2, 0, 0, width, height)
            return
        }
        let fx = sx.rounded(.down), fy = sy.rounded(.down)
        (x0, y0, ax, ay, self.width, self.height) = (Int(fx), Int(fy), sx - fx, sy - fy, width, height)
    }

    @inline(__always)
    private func inside(_ y: Int, _ x: Int) -> Bool { y >= 0 && y < height && x >= 0 && x < width }

    @inline(__always)
    private func read(_ image: UnsafePointer<Float>, _ y: Int, _ x: Int) -> Float { inside(y, x) ? image[y * width + x] : 0 }

    /// The interpolated value.
    func sample(_ image: UnsafePointer<Float>) -> Float {
        let (v00, v01, v10, v11) = (read(image, y0, x0), read(image, y0, x0 + 1), read(image, y0 + 1, x0), read(image, y0 + 1, x0 + 1))
        return (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11)
    }

    /// Derivatives of the interpolated value with respect to the sampling position.
    func slopes(_ image: UnsafePointer<Float>) -> (x: Float, y: Float) {
        let (v00, v01, v10, v11) = (read(image, y0, x0), read(image, y0, x0 + 1), read(image, y0 + 1, x0), read(image, y0 + 1, x0 + 1))
        return ((1 - ay) * (v01 - v00) + ay * (v11 - v10), (1 - ax) * (v10 - v00) + ax * (v11 - v01))
    }

    /// Adds `value` times each neighbour's weight to the neighbours inside `gradient`.
    func scatter(_ value: Float, into gradient: UnsafeMutablePointer<Float>) {
        // Four calls, not a loop over an array literal: this runs per pixel and channel.
        @inline(__always) func add(_ y: Int, _ x: Int, _ weight: Float) { if inside(y, x) { gradient[y * width + x] += value * weight } }
        add(y0, x0, (1 - ay) * (1 - ax))
        add(y0, x0 + 1, (1 - ay) * ax)
        add(y0 + 1, x0, ay * (1 - ax))
        add(y0 + 1, x0 + 1, ay * ax)
    }
}
