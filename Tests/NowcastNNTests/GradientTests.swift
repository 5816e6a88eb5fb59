import Foundation
@testable import NowcastNN
import NowcastTestSupport
import XCTest

final class GradientTests: XCTestCase {
    func testElementwiseOperations() throws {
        try checkGradients([[2, 3], [2, 3]]) { v in (try v[0] + v[1]).tanh().mean() }
        try checkGradients([[2, 3], [2, 3]]) { v in (try v[0] - v[1]).sigmoid().mean() }
        try checkGradients([[2, 3], [2, 3]]) { v in (try v[0] * v[1]).relu().mean() }
        try checkGradients([[4], [4]]) { v in try v[0].meanSquaredError(v[1]) }
        // A value used twice accumulates both gradients.
        try checkGradients([[3]]) { v in (try v[0] * v[0]).mean() }
        // |x| and sqrt(|x|) (the test values keep away from 0), and a scalar broadcast over a field.
        try checkGradients([[2, 3]]) { v in v[0].magnitude().squareRoot().tanh().mean() }
        try checkGradients([[1], [2, 3]]) { v in try (v[0].broadcast(to: [2, 3]) * v[1]).tanh().mean() }
        XCTAssertThrowsError(try Variable(Tensor(shape: [2])).broadcast(to: [2, 2]))
    }

    func testMatmul() throws {
        try checkGradients([[3, 4], [4, 2]]) { v in try v[0].matmul(v[1]).tanh().mean() }
        // Large enough to be split over the workers: equal to the reference triple loop.
        var values = Values(state: 9)
        let a = values.tensor([300, 70]), b = values.tensor([70, 50])
        let product = try Variable(a).matmul(Variable(b)).value.scalars
        var expected = [Float](repeating: 0, count: 300 * 50)
        sgemmReference(transposeA: false, transposeB: false, m: 300, n: 50, k: 70, a: a.scalars, lda: 70, b: b.scalars, ldb: 50,
                       beta: 0, c: &expected, ldc: 50)
        for (x, y) in zip(product, expected) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        // Gradients (split over the workers too): dA = G B^T and dB = A^T G for G = r / count.
        let left = Variable(a, requiresGrad: true), right = Variable(b, requiresGrad: true), r = values.tensor([300, 50])
        try (try left.matmul(right) * Variable(r)).sum().backward()
        var dA = [Float](repeating: 0, count: 300 * 70), dB = [Float](repeating: 0, count: 70 * 50)
        sgemmReference(transposeA: false, transposeB: true, m: 300, n: 70, k: 50, a: r.scalars, lda: 50, b: b.scalars, ldb: 50, beta: 0, c: &dA, ldc: 70)
        sgemmReference(transposeA: true, transposeB: false, m: 70, n: 50, k: 300, a: a.scalars, lda: 70, b: r.scalars, ldb: 50, beta: 0, c: &dB, ldc: 50)
        for (x, y) in zip(try XCTUnwrap(left.grad).scalars, dA) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        for (x, y) in zip(try XCTUnwrap(right.grad).scalars, dB) { XCTAssertEqual(x, y, accuracy: 1e-3 * max(1, abs(y))) }
        XCTAssertThrowsError(try Variable(Tensor(shape: [2, 3])).matmul(Variable(Tensor(shape: [2, 3])))) {
            XCTAssertEqual("\($0)", "matmul: shapes [2, 3] and [2, 3] do not fit")
        }
    }

    func testConvolutionWithStridePaddingAndDilation() throws {
        for (stride, padding, dilation) in [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2)] {
            try checkGradients([[2, 2, 6, 5], [3, 2, 3, 3], [3]], seed: UInt64(stride * 10 + padding + dilation)) { v in
                try v[0].conv2d(weight: v[1], bias: v[2], stride: stride, padding: padding, dilation: dilation).tanh().mean()
            }
        }
    }

    func testFastConvolutionEqualsTheReference() throws {
        var values = Values(state: 7)
        // Small images (one row block), a 1x1 kernel (no im2col), and a batch of one image whose 576-row
        // im2col matrix is split into several row blocks spread over the workers.
        let cases: [(x: [Int], w: [Int], stride: Int, padding: Int, dilation: Int)] = [
            ([2, 3, 9, 8], [4, 3, 3, 3], 1, 1, 1), ([2, 3, 9, 8], [4, 3, 3, 3], 2, 0, 1), ([2, 3, 9, 8], [4, 3, 3, 3], 1, 2, 2),
            ([2, 3, 9, 8], [4, 3, 3, 3], 3, 1, 1), ([3, 5, 4, 6], [2, 5, 1, 1], 1, 0, 1), ([1, 64, 17, 64], [3, 64, 3, 3], 1, 1, 1),
            // A ConvLSTM gate convolution: many output channels on a large image, which runs by Winograd.
            ([1, 16, 64, 64], [128, 16, 3, 3], 1, 1, 1),
        ]
        let gates = try Conv2DGeometry(input: cases[6].x, weight: cases[6].w, padding: 1)
        XCTAssertTrue(Conv2DWinograd.applies(gates) || !Conv2DWinograd.enabled)
        XCTAssertNil(DNNLConvolution.plan(for: gates, bias: true, activation: .none), "the kernel rule leaves this geometry to sgemm")
        XCTAssertGreaterThan(try Conv2DGeometry(input: cases[5].x, weight: cases[5].w, padding: 1).outHeight,
                             Conv2DGEMM.rowsPerBlock(try Conv2DGeometry(input: cases[5].x, weight: cases[5].w, padding: 1)))
        for (xShape, wShape, stride, padding, dilation) in cases {
            let x = values.tensor(xShape), w = values.tensor(wShape), b = values.tensor([wShape[0]])
            let geometry = try Conv2DGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding, dilation: dilation)
            let input = Variable(x, requiresGrad: true), weight = Variable(w, requiresGrad: true), bias = Variable(b, requiresGrad: true)
            let y = try input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
            let expected = Conv2DReference.forward(geometry, x: x.scalars, w: w.scalars, b: b.scalars)
            XCTAssertEqual(y.shape, [xShape[0], wShape[0], geometry.outHeight, geometry.outWidth])
            for (a, e) in zip(y.value.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-4) }
            // Backward with a seeded dy: the loss is mean(y * r), so dy = r / count.
            let r = values.tensor(y.shape)
            try (try y * Variable(r)).mean().backward()
            let scale = Float(y.value.count)
            let reference = Conv2DReference.backward(geometry, x: x.scalars, w: w.scalars, dy: r.scalars)
            for (a, e) in zip(try XCTUnwrap(input.grad).scalars, reference.dx) { XCTAssertEqual(a * scale, e, accuracy: 1e-3 * max(1, abs(e))) }
            for (a, e) in zip(try XCTUnwrap(weight.grad).scalars, reference.dw) { XCTAssertEqual(a * scale, e, accuracy: 1e-3 * max(1, abs(e))) }
            for (a, e) in zip(try XCTUnwrap(bias.grad).scalars, reference.db) { XCTAssertEqual(a * scale, e, accuracy: 1e-3 * max(1, abs(e))) }
            // Each kernel on its own, whichever the engine would pick for this geometry.
            try checkKernels(geometry, x: x, w: w, b: b, dy: r, forward: expected, backward: reference)
        }
        XCTAssertThrowsError(try Conv2DGeometry(input: [1, 2, 2, 2], weight: [1, 2, 5, 5])) { XCTAssertTrue("\($0)".contains("5x5")) }
        XCTAssertThrowsError(try Conv2DGeometry(input: [1, 3, 8, 8], weight: [1, 2, 3, 3])) { XCTAssertTrue("\($0)".contains("[1, 3, 8, 8]")) }
    }

    /// im2col + sgemm, Winograd where the geometry allows it, and oneDNN where it starts, against the
    /// direct-loop reference.
    private func checkKernels(_ g: Conv2DGeometry, x: Tensor, w: Tensor, b: Tensor, dy: Tensor, forward: [Float],
                              backward: (dx: [Float], dw: [Float], db: [Float])) throws {
        var kernels: [(String, DNNLConvolution?)] = [("im2col + sgemm", nil)]
        let winograd = g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1 && g.dilation == 1
        if winograd { kernels.append(("Winograd", nil)) }
        if DNNLConvolution.enabled { kernels.append(("oneDNN", try XCTUnwrap(DNNLConvolution(forcing: g, bias: true), "no oneDNN plan for \(g)"))) }
        let plane = g.height * g.width
        for (name, plan) in kernels {
            var y = Tensor(shape: [g.batch, g.outChannels, g.outHeight, g.outWidth]), dx = Tensor(shape: x.shape)
            var dw = Tensor(shape: w.shape), db = Tensor(shape: b.shape)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in dy.withUnsafeBufferPointer { gp in
                y.withUnsafeMutableBufferPointer { yp in dx.withUnsafeMutableBufferPointer { dxp in dw.withUnsafeMutableBufferPointer { dwp in
                    db.withUnsafeMutableBufferPointer { dbp in
                        let (x, w, b, dy, y, dx, dw, db) = (xp.baseAddress!, wp.baseAddress!, bp.baseAddress!, gp.baseAddress!,
                                                            yp.baseAddress!, dxp.baseAddress!, dwp.baseAddress!, dbp.baseAddress!)
                        if let plan {
                            XCTAssertTrue(plan.forward(x: x, w: w, b: b, y: y), name)
                            XCTAssertTrue(plan.backward(x: x, w: w, dy: dy, dx: dx, dw: dw, db: db), name)
                        } else {
                            let input = Conv2DGEMM.Parts(parts: [(x, g.inChannels)], plane: plane), target = Conv2DGEMM.Parts(parts: [(dx, g.inChannels)], plane: plane)
                            if name == "Winograd" {
                                Conv2DWinograd.forward(g, input: input, w: w, b: b, y: y)
                                Conv2DWinograd.backward(g, input: input, w: w, dy: dy, dx: target, dw: dw, db: db)
                            } else {
                                Conv2DGEMM.im2colForward(g, input: input, w: w, b: b, y: y)
                                Conv2DGEMM.im2colBackward(g, input: input, w: w, dy: dy, dx: target, dw: dw, db: db)
                            }
                        }
                    }
                } } }
            } } } }
            for (got, want, what) in [(y.scalars, forward, "y"), (dx.scalars, backward.dx, "dx"), (dw.scalars, backward.dw, "dw"), (db.scalars, backward.db, "db")] {
                XCTAssertEqual(got.count, want.count, "\(name) \(what)")
                for (a, e) in zip(got, want) { XCTAssertEqual(a, e, accuracy: 1e-3 * max(1, abs(e)), "\(name) \(what) \(g)") }
            }
        }
    }

    func testWinogradMatchesTheReferenceLoops() throws {
        var values = Values(state: 59)
        // Odd sizes (partial tiles at the right and bottom edges), a tile row longer than one 8-tile
        // vector, several tile blocks per image, and the input read from two parts in place.
        let cases: [(x: [Int], out: Int, split: Int?)] = [([2, 5, 9, 7], 3, nil), ([1, 6, 20, 22], 4, 2), ([2, 3, 70, 9], 2, nil), ([1, 4, 5, 19], 5, 1),
                                                                 ([1, 2, 120, 21], 3, nil)]
        let blocks = try Conv2DGeometry(input: [1, 2, 120, 21], weight: [3, 2, 3, 3], padding: 1)
        XCTAssertGreaterThan((blocks.outHeight + 1) / 2 * (blocks.outWidth + 1) / 2, 2 * Conv2DWinograd.tilesPerBlock, "several tile blocks per image")
        for (xShape, out, split) in cases {
            let x = values.tensor(xShape), w = values.tensor([out, xShape[1], 3, 3]), b = values.tensor([out])
            let g = try Conv2DGeometry(input: x.shape, weight: w.shape, padding: 1)
            let dy = values.tensor([g.batch, out, g.outHeight, g.outWidth])
            let forward = Conv2DReference.forward(g, x: x.scalars, w: w.scalars, b: b.scalars)
            let reference = Conv2DReference.backward(g, x: x.scalars, w: w.scalars, dy: dy.scalars)
            // The input as two tensors of `split` and the remaining channels (or one).
            let sizes = split.map { [$0, xShape[1] - $0] } ?? [xShape[1]]
            var start = 0
            let parts = sizes.map { c in defer { start += c }; return x.channels(start..<(start + c)) }
            let dxParts = sizes.map { Tensor(shape: [xShape[0], $0, xShape[2], xShape[3]], repeating: .nan) }
            var y = Tensor(shape: dy.shape, repeating: .nan), dw = Tensor(shape: w.shape, repeating: 1), db = Tensor(shape: [out], repeating: 1)
            let plane = xShape[2] * xShape[3]
            withExtendedLifetime(parts) {
                let input = Conv2DGEMM.Parts(parts: zip(parts, sizes).map { (UnsafePointer($0.storage.pointer), $1) }, plane: plane)
                let targets = Conv2DGEMM.Parts(parts: zip(dxParts.indices, sizes).map { (dxParts[$0].storage.pointer, $1) }, plane: plane)
                w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in dy.withUnsafeBufferPointer { gp in
                    y.withUnsafeMutableBufferPointer { yp in dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                        Conv2DWinograd.forward(g, input: input, w: wp.baseAddress!, b: bp.baseAddress!, y: yp.baseAddress!)
                        Conv2DWinograd.backward(g, input: input, w: wp.baseAddress!, dy: gp.baseAddress!, dx: targets, dw: dwp.baseAddress!, db: dbp.baseAddress!)
                    } } }
                } } }
            }
            let dx = try Variable.concatChannels(dxParts.map { Variable($0) }).value.scalars
            // dw and db accumulate onto the ones they held.
            for (got, want, what) in [(y.scalars, forward, "y"), (dx, reference.dx, "dx"), (dw.scalars, reference.dw.map { $0 + 1 }, "dw"),
                                      (db.scalars, reference.db.map { $0 + 1 }, "db")] {
                XCTAssertEqual(got.count, want.count, what)
                for (a, e) in zip(got, want) { XCTAssertEqual(a, e, accuracy: 1e-4 * max(1, abs(e)), "\(what) \(g)") }
            }
        }
    }

    func testBLASMatchesTheReferenceTripleLoop() {
        var values = Values(state: 3)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, n, k) = (5, 7, 6)
            let a = values.tensor([m * k]).scalars, b = values.tensor([k * n]).scalars
            var fast = values.tensor([m * n]).scalars, reference = fast
            sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                  beta: 1, c: &fast, ldc: n)
            sgemmReference(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                           beta: 1, c: &reference, ldc: n)
            for (f, r) in zip(fast, reference) { XCTAssertEqual(f, r, accuracy: 1e-5) }
        }
    }

    func testNoGradModeRecordsNothingAndIntermediatesAreFreed() throws {
        let w = Variable(Tensor(shape: [2], repeating: 0.5), requiresGrad: true)
        let inference = Gradients.disabled { w.tanh() }
        XCTAssertFalse(inference.requiresGrad)
        XCTAssertTrue(Gradients.enabled)
        let hidden = w.tanh()
        let loss = hidden.mean()
        try loss.backward()
        XCTAssertNotNil(w.grad, "leaves keep their gradient")
        XCTAssertNil(hidden.grad, "intermediate gradients are freed")
        XCTAssertTrue(hidden.parents.isEmpty, "the graph is released")
        let first = try XCTUnwrap(w.grad).scalars
        try w.tanh().mean().backward()
        XCTAssertEqual(try XCTUnwrap(w.grad).scalars, first.map { $0 * 2 }, "gradients accumulate until zeroGrad")
        XCTAssertThrowsError(try w.backward()) { XCTAssertTrue("\($0)".contains("scalar")) }
    }

    func testTensorsCopyOnWriteAndCheckShapes() throws {
        var a = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let b = a
        a[0] = 9
        XCTAssertEqual(b.scalars, [1, 2, 3, 4])
        XCTAssertEqual(a.scalars, [9, 2, 3, 4])
        XCTAssertEqual(try a.reshaped([4]).shape, [4])
        XCTAssertThrowsError(try a.reshaped([3]))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1]))
        a.withUnsafeBufferPointer { XCTAssertEqual(Int(bitPattern: $0.baseAddress) % 64, 0, "64-byte aligned") }
    }
}
