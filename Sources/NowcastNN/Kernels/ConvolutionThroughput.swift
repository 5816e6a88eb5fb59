import Foundation
import NowcastCore

/// Measures the convolution kernels (im2col + sgemm, Winograd + sgemm, and oneDNN where it has a primitive) on one
/// 3x3, padding-1 convolution of `batch` images of `inChannels` x `size` x `size` into `outChannels`:
/// GFLOP/s of the forward pass, the input gradient and the weight gradient (best of `iterations`),
/// one line each.
public func convolutionThroughput(batch: Int, inChannels: Int, outChannels: Int, size: Int, iterations: Int) throws -> [String] {
    let g = try Conv2DGeometry(input: [batch, inChannels, size, size], weight: [outChannels, inChannels, 3, 3], padding: 1)
    var random = SeededGenerator(seed: 1)
    let x = Initializer.xavierUniform([batch, inChannels, size, size], fanIn: 1, fanOut: 1, using: &random)
    let w = Initializer.xavierUniform([outChannels, inChannels, 3, 3], fanIn: 1, fanOut: 1, using: &random)
    let dy = Initializer.xavierUniform([batch, outChannels, size, size], fanIn: 1, fanOut: 1, using: &random)
    var y = Tensor(shape: dy.shape), dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape)
    let flop = 2.0 * Double(batch * outChannels * inChannels * 9 * size * size)
    typealias Pass = (_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ dw: UnsafeMutablePointer<Float>) -> Void
    let plane = size * size
    func input(_ x: UnsafePointer<Float>) -> Conv2DGEMM.Parts<UnsafePointer<Float>> { .init(parts: [(x, inChannels)], plane: plane) }
    func gradient(_ dx: UnsafeMutablePointer<Float>) -> Conv2DGEMM.Parts<UnsafeMutablePointer<Float>> { .init(parts: [(dx, inChannels)], plane: plane) }
    var kernels: [(String, [(String, Pass)])] = [("im2col + sgemm", [
        ("forward", { x, w, _, y, _, _ in Conv2DGEMM.im2colForward(g, input: input(x), w: w, b: nil, y: y) }),
        ("input gradient", { x, w, dy, _, dx, _ in Conv2DGEMM.im2colBackward(g, input: input(x), w: w, dy: dy, dx: gradient(dx), dw: nil, db: nil) }),
        ("weight gradient", { x, w, dy, _, _, dw in Conv2DGEMM.im2colBackward(g, input: input(x), w: w, dy: dy, dx: nil, dw: dw, db: nil) }),
    ]), ("Winograd F(2x2, 3x3) + sgemm (direct-convolution FLOPs)", [
        ("forward", { x, w, _, y, _, _ in Conv2DWinograd.forward(g, input: input(x), w: w, b: nil, y: y) }),
        ("input gradient", { x, w, dy, _, dx, _ in Conv2DWinograd.backward(g, input: input(x), w: w, dy: dy, dx: gradient(dx), dw: nil, db: nil) }),
        ("weight gradient", { x, w, dy, _, _, dw in Conv2DWinograd.backward(g, input: input(x), w: w, dy: dy, dx: nil, dw: dw, db: nil) }),
    ])]
    if DNNLConvolution.enabled, let plan = DNNLConvolution(forcing: g) {
        kernels.append(("oneDNN \(plan.implementation)", [
            ("forward", { x, w, _, y, _, _ in _ = plan.forward(x: x, w: w, b: nil, y: y) }),
            ("input gradient", { x, w, dy, _, dx, _ in _ = plan.backward(x: x, w: w, dy: dy, dx: dx, dw: nil, db: nil) }),
            ("weight gradient", { x, w, dy, _, _, dw in _ = plan.backward(x: x, w: w, dy: dy, dx: nil, dw: dw, db: nil) }),
        ]))
    }
    var lines: [String] = []
    for (kernel, passes) in kernels {
        for (name, pass) in passes {
            var best = Double.infinity
            for _ in 0..<(iterations + 2) {
                let start = DispatchTime.now().uptimeNanoseconds
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { gp in
                    y.withUnsafeMutableBufferPointer { yp in dx.withUnsafeMutableBufferPointer { dxp in dw.withUnsafeMutableBufferPointer { dwp in
                        pass(xp.baseAddress!, wp.baseAddress!, gp.baseAddress!, yp.baseAddress!, dxp.baseAddress!, dwp.baseAddress!)
                    } } }
                } } }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            lines.append(String(format: "%@, %@, %d x %d->%d x %dx%d: %.1f GFLOP/s", kernel, name, batch, inChannels, outChannels, size, size, flop / best / 1e9))
        }
    }
    return lines
}
