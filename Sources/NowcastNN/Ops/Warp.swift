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
        /// The tap of pixel `p` of image `b` under the flow `f`.
        func tap(_ f: UnsafePointer<Float>, _ b: Int, _ p: Int) -> BilinearTap<Float> {
            BilinearTap(row: p / w, column: p % w, dx: f[(b * 2) * plane + p], dy: f[(b * 2 + 1) * plane + p], height: h, width: w)
        }
        var outputs = [Tensor(uninitializedShape: shape)]
        Tensor.withElements(writing: &outputs, reading: [image, displacement]) { out, input in
            let (o, x, f) = (out[0], input[0], input[1])
            for b in 0..<n { for p in 0..<plane {
                let tap = tap(f, b, p)
                for k in 0..<c { o[(b * c + k) * plane + p] = tap.sample(x + (b * c + k) * plane) }
            } }
        }
        return Variable(outputs[0], parents: [self, flow]) { [self] g in
            // A fixed image (a motion fitted to observed frames) takes no gradient: skip its scatter.
            let scattering = requiresGrad
            var gradients = [Tensor(shape: scattering ? image.shape : [1]), Tensor(shape: displacement.shape)]
            Tensor.withElements(writing: &gradients, reading: [g, image, displacement]) { out, input in
                let (di, df, gp, x, f) = (out[0], out[1], input[0], input[1], input[2])
                for b in 0..<n { for p in 0..<plane {
                    let tap = tap(f, b, p)
                    var gx: Float = 0, gy: Float = 0
                    for k in 0..<c {
                        let upstream = gp[(b * c + k) * plane + p]
                        if scattering { tap.scatter(upstream, into: di + (b * c + k) * plane) }
                        let slope = tap.slopes(x + (b * c + k) * plane)
                        gx += upstream * slope.x
                        gy += upstream * slope.y
                    }
                    df[(b * 2) * plane + p] = gx
                    df[(b * 2 + 1) * plane + p] = gy
                } }
            }
            if scattering { accumulate(gradients[0]) }
            flow.accumulate(gradients[1])
        }
    }
}
