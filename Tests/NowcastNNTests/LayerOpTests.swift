import Foundation
import NowcastCore
@testable import NowcastNN
import NowcastTestSupport
import XCTest

final class LayerOpTests: XCTestCase {
    func testChannelConcatAndSlice() throws {
        try checkGradients([[2, 2, 3, 3], [2, 3, 3, 3]]) { v in
            let joined = try Variable.concatChannels([v[0], v[1]])
            return (try joined.sliceChannels(1..<4) * joined.sliceChannels(2..<5)).tanh().mean()
        }
        XCTAssertThrowsError(try Variable.concatChannels([Variable(Tensor(shape: [1, 1, 2, 2])), Variable(Tensor(shape: [1, 1, 3, 2]))]))
        try checkGradients([[2, 5, 3, 3]]) { v in
            let parts = try v[0].splitChannels([2, 3])
            return (try parts[0].sliceChannels(0..<1) * parts[1].sliceChannels(2..<3)).tanh().mean()
        }
        XCTAssertThrowsError(try Variable(Tensor(shape: [1, 5, 2, 2])).splitChannels([2, 2]))
        XCTAssertThrowsError(try Variable(Tensor(shape: [1, 2, 2, 2])).sliceChannels(1..<3))
    }

    func testConvolutionOverConcatenatedPartsEqualsConvolutionOfTheConcatenation() throws {
        var random = SeededGenerator(seed: 31)
        for (shapes, padding, needsGrad) in [([[2, 1, 9, 7], [2, 4, 9, 7]], 1, [false, true]), ([[1, 3, 6, 6], [1, 2, 6, 6], [1, 1, 6, 6]], 0, [true, true, false]),
                                             ([[3, 2, 40, 33], [3, 5, 40, 33]], 1, [true, true])] {
            let values = shapes.map { Initializer.uniform($0, in: -1..<1, using: &random) }
            let channels = shapes.map { $0[1] }.reduce(0, +)
            let weightValue = Initializer.uniform([6, channels, 3, 3], in: -0.5..<0.5, using: &random)
            let biasValue = Initializer.uniform([6], in: -0.5..<0.5, using: &random)
            let seed = Initializer.uniform([shapes[0][0], 6, shapes[0][2] + 2 * padding - 2, shapes[0][3] + 2 * padding - 2], in: -1..<1, using: &random)
            func run(fused: Bool) throws -> [[Float]] {
                let parts = zip(values, needsGrad).map { Variable($0, requiresGrad: $1) }
                let weight = Variable(weightValue, requiresGrad: true), bias = Variable(biasValue, requiresGrad: true)
                let y = fused ? try Variable.conv2d(concatenating: parts, weight: weight, bias: bias, padding: padding)
                    : try Variable.concatChannels(parts).conv2d(weight: weight, bias: bias, padding: padding)
                try (y * Variable(seed)).sum().backward()
                return [y.value.scalars, try XCTUnwrap(weight.grad).scalars, try XCTUnwrap(bias.grad).scalars]
                    + parts.map { $0.grad?.scalars ?? [] }
            }
            let (fused, reference) = (try run(fused: true), try run(fused: false))
            XCTAssertEqual(fused.map(\.count), reference.map(\.count), "\(shapes)")
            for (a, b) in zip(fused, reference) { for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) } }
        }
        XCTAssertThrowsError(try Variable.conv2d(concatenating: [Variable(Tensor(shape: [1, 1, 4, 4])), Variable(Tensor(shape: [1, 1, 4, 5]))],
                                                 weight: Variable(Tensor(shape: [2, 2, 3, 3]))))
    }

    func testPoolingAndUpsampling() throws {
        try checkGradients([[2, 2, 5, 4]]) { v in try v[0].maxPool2x2().tanh().mean() }
        try checkGradients([[1, 2, 3, 2]]) { v in try v[0].upsampleNearest2x().sigmoid().mean() }
        let x = Variable(try Tensor(shape: [1, 1, 2, 4], values: [1, 5, 2, 0, 3, 4, 8, 7]))
        XCTAssertEqual(try x.maxPool2x2().value.scalars, [5, 8])
        XCTAssertEqual(try Variable(try Tensor(shape: [1, 1, 1, 2], values: [1, 2])).upsampleNearest2x().value.scalars, [1, 1, 2, 2, 1, 1, 2, 2])
        // Without a graph (inference) the values are the same; NaN wins a window, as in PyTorch.
        let withNaN = Variable(try Tensor(shape: [1, 1, 2, 4], values: [1, .nan, 2, 0, 3, 4, 8, 7]))
        let pooled = try Gradients.disabled { try withNaN.maxPool2x2() }.value.scalars
        XCTAssertTrue(pooled[0].isNaN)
        XCTAssertEqual(pooled[1], 8)
        XCTAssertEqual(try Gradients.disabled { try x.maxPool2x2() }.value.scalars, [5, 8])
    }

    func testFusedConvLSTMGatesEqualTheReference() throws {
        var values = Values(state: 11)
        // 5 x 5 pixels: vectors of 8 and a tail in every channel.
        let gatesValue = values.tensor([2, 12, 5, 5]), previousValue = values.tensor([2, 3, 5, 5]), biasValue = values.tensor([12])
        let hWeights = values.tensor([2, 3, 5, 5]), cWeights = values.tensor([2, 3, 5, 5])
        let gates = Variable(gatesValue, requiresGrad: true), previous = Variable(previousValue, requiresGrad: true)
        let bias = Variable(biasValue, requiresGrad: true)
        let (h, c) = try Variable.convLSTMGates(gates, previousCell: previous, bias: bias)
        // c is used twice (through h and directly), as in a recurrent step.
        try (try (try h * Variable(hWeights)).mean() + (try c * Variable(cWeights)).mean()).backward()
        let geometry = ConvLSTMGateKernels.Geometry(images: 2, hidden: 3, plane: 25)
        let forward = ConvLSTMGateReference.forward(geometry, gates: gatesValue.scalars, bias: biasValue.scalars, previous: previousValue.scalars)
        let count = Float(hWeights.count)
        let backward = ConvLSTMGateReference.backward(geometry, gates: gatesValue.scalars, bias: biasValue.scalars, previous: previousValue.scalars,
                                                      dHidden: hWeights.scalars.map { $0 / count }, dCell: cWeights.scalars.map { $0 / count })
        for (got, want, what) in [(h.value.scalars, forward.hidden, "h"), (c.value.scalars, forward.cell, "c"),
                                  (try XCTUnwrap(gates.grad).scalars, backward.dGates, "d gates"),
                                  (try XCTUnwrap(previous.grad).scalars, backward.dPrevious, "d c_prev"),
                                  (try XCTUnwrap(bias.grad).scalars, backward.dBias, "d bias")] {
            XCTAssertEqual(got.count, want.count, what)
            for (x, y) in zip(got, want) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(1, abs(y)), what) }
        }
        try checkGradients([[1, 8, 3, 3], [1, 2, 3, 3], [8]]) { v in
            let (h, c) = try Variable.convLSTMGates(v[0], previousCell: v[1], bias: v[2])
            return (try h.tanh() * c).mean()
        }
    }

    func testTwoConvLSTMStepsThroughTheWholePath() throws {
        // x_t [1, 1, 4, 4] for two steps, weights [4H, 1 + H, 3, 3] with H = 2: gradient through time.
        try checkGradients([[1, 1, 4, 4], [1, 1, 4, 4], [8, 3, 3, 3], [8]], seed: 5) { v in
            var h = Variable(Tensor(shape: [1, 2, 4, 4])), c = Variable(Tensor(shape: [1, 2, 4, 4]))
            for x in [v[0], v[1]] {
                let gates = try Variable.concatChannels([x, h]).conv2d(weight: v[2], padding: 1)
                (h, c) = try Variable.convLSTMGates(gates, previousCell: c, bias: v[3])
            }
            return h.mean()
        }
    }
}

final class FastKernelTests: XCTestCase {
    func testFastExpTanhAndSigmoidStayWithinAFewUlpOfLibm() {
        var worstExp: Float = 0, worstTanh: Float = 0, worstSigmoid: Float = 0
        for k in 0...200_000 {
            let x = -87 + 175 * Float(k) / 200_000
            worstExp = max(worstExp, abs(FastMath.exp(x) - FastMath.referenceExp(x)) / FastMath.referenceExp(x))
            let t = -10 + 20 * Float(k) / 200_000
            worstTanh = max(worstTanh, abs(FastMath.tanh(t) - FastMath.referenceTanh(t)))
            worstSigmoid = max(worstSigmoid, abs(FastMath.sigmoid(t) - FastMath.referenceSigmoid(t)))
        }
        XCTAssertLessThan(worstExp, 3e-7)
        XCTAssertLessThan(worstTanh, 1e-6)
        XCTAssertLessThan(worstSigmoid, 1e-6)
        // Tiny arguments keep their relative precision; saturation is exact.
        XCTAssertEqual(FastMath.tanh(1e-6), 1e-6, accuracy: 1e-12)
        XCTAssertEqual(FastMath.tanh(40), 1)
        XCTAssertEqual(FastMath.sigmoid(-100), 0, accuracy: 1e-37)
        XCTAssertEqual(FastMath.exp(0), 1)
    }

    func testFusedReLUConvolutionEqualsConvolutionThenReLU() throws {
        var values = Values(state: 21)
        let x = values.tensor([2, 3, 6, 7]), w = values.tensor([4, 3, 3, 3]), b = values.tensor([4]), r = values.tensor([2, 4, 6, 7])
        var results: [[[Float]]] = []
        for fused in [true, false] {
            let (input, weight, bias) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
            let y = fused ? try input.conv2d(weight: weight, bias: bias, padding: 1, activation: .relu)
                          : try input.conv2d(weight: weight, bias: bias, padding: 1).relu()
            try (try y * Variable(r)).mean().backward()
            results.append([y.value.scalars, try XCTUnwrap(input.grad).scalars, try XCTUnwrap(weight.grad).scalars, try XCTUnwrap(bias.grad).scalars])
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertTrue(results[0][0].contains(0) && results[0][0].contains { $0 > 0 }, "the test must cross the ReLU's kink")
    }

    func testAnInputThatNeedsNoGradientGetsNone() throws {
        var values = Values(state: 4)
        let input = Variable(values.tensor([1, 2, 5, 5])), weight = Variable(values.tensor([3, 2, 3, 3]), requiresGrad: true)
        try input.conv2d(weight: weight, padding: 1).mean().backward()
        XCTAssertNil(input.grad)
        XCTAssertNotNil(weight.grad)
    }
}

final class TensorBufferCacheTests: XCTestCase {
    func testLargeBuffersAreReusedWithinTheBudget() {
        let cache = TensorBufferCache(budget: 300 << 10)
        let a = cache.allocate(bytes: 100_000), b = cache.allocate(bytes: 100_000)
        XCTAssertNotEqual(a, b)
        cache.release(a, bytes: 100_000)
        XCTAssertEqual(cache.cachedBytes, 102_400)  // rounded up to whole pages
        XCTAssertEqual(cache.allocate(bytes: 100_100), a, "a near size on the same pages reuses the buffer")
        XCTAssertEqual(cache.cachedBytes, 0)
        cache.release(a, bytes: 100_000)
        cache.release(b, bytes: 100_000)
        let c = cache.allocate(bytes: 200_000)
        cache.release(c, bytes: 200_000)  // over the budget: freed, not kept
        XCTAssertEqual(cache.cachedBytes, 204_800)
        let small = cache.allocate(bytes: 1000)
        cache.release(small, bytes: 1000)
        XCTAssertEqual(cache.cachedBytes, 204_800, "small buffers go back to the system")
        cache.trim()
        XCTAssertEqual(cache.cachedBytes, 0)
    }
}

final class ChannelsLastReuseTests: XCTestCase {
    func testChainedConvolutionsThatShareNHWCCopiesHaveExactGradients() throws {
        // The second convolution reads the first one's NHWC output; the backward passes reuse the
        // NHWC inputs kept from the forward pass.
        try checkGradients([[2, 3, 6, 5], [4, 3, 3, 3], [4], [2, 4, 3, 3]], seed: 31) { v in
            let hidden = try v[0].conv2d(weight: v[1], bias: v[2], padding: 1, activation: .relu)
            return try hidden.conv2d(weight: v[3], padding: 1).tanh().mean()
        }
    }

    func testReordersMatchTheReferenceLoops() throws {
        var values = Values(state: 41)
        let x = values.tensor([2, 5, 3, 4])
        var fast = [Float](repeating: 0, count: x.count), reference = fast, back = fast
        x.withUnsafeBufferPointer { xp in
            ChannelsLast.toChannelsLast(shape: x.shape, from: xp.baseAddress!, to: &fast)
            ChannelsLast.referenceToChannelsLast(shape: x.shape, from: xp.baseAddress!, to: &reference)
        }
        XCTAssertEqual(fast, reference)
        XCTAssertNotEqual(fast, x.scalars, "the orders differ for this shape")
        ChannelsLast.toPlain(shape: x.shape, from: fast, to: &back)
        XCTAssertEqual(back, x.scalars)
        ChannelsLast.referenceToPlain(shape: x.shape, from: fast, to: &back)
        XCTAssertEqual(back, x.scalars)
    }

    /// `x` held in NHWC only, as a oneDNN convolution leaves its output.
    private func channelsLastOnly(_ x: Tensor) -> Tensor {
        let copy = TensorStorage(count: x.count)
        x.withUnsafeBufferPointer { ChannelsLast.referenceToChannelsLast(shape: x.shape, from: $0.baseAddress!, to: copy.pointer) }
        return Tensor(shape: x.shape, channelsLast: copy)
    }

    func testATensorHeldInNHWCReadsAsNCHWAndStaysThatWayAfterAWrite() throws {
        var values = Values(state: 43)
        let x = values.tensor([2, 3, 4, 5])
        var lazy = channelsLastOnly(x)
        XCTAssertNotNil(lazy.pendingChannelsLast)
        XCTAssertEqual(lazy.scalars, x.scalars)
        XCTAssertNil(lazy.pendingChannelsLast, "read once, the NCHW values exist")
        XCTAssertNotNil(lazy.channelsLastCopy, "and the NHWC copy is still valid")
        var written = channelsLastOnly(x)
        written[7] = 42
        var expected = x.scalars
        expected[7] = 42
        XCTAssertEqual(written.scalars, expected, "a write lands on the NCHW values made from the copy")
        lazy.withUnsafeMutableBufferPointer { $0[0] = 1 }
        XCTAssertNil(lazy.channelsLastCopy)
    }

    func testPoolingUpsamplingAndConcatenationInNHWCEqualTheirNCHWForms() throws {
        var values = Values(state: 47)
        let x = values.tensor([2, 8, 6, 4]), r1 = values.tensor([2, 8, 6, 4]), r2 = values.tensor([2, 16, 6, 4])
        // x feeds pooling then upsampling, and both halves of a concatenation: its gradient adds three parts.
        func run(_ input: Tensor) throws -> (y: [Float], grad: [Float], nhwcOutputs: Bool) {
            let v = Variable(input, requiresGrad: true)
            let up = try v.maxPool2x2().upsampleNearest2x(), joined = try Variable.concatChannels([v, v])
            let nhwc = up.value.pendingChannelsLast != nil && joined.value.pendingChannelsLast != nil  // before anything reads them
            try ((try up * Variable(r1)).sum() + (try joined * Variable(r2)).sum()).backward()
            return (up.value.scalars + joined.value.scalars, try XCTUnwrap(v.grad).scalars, nhwc)
        }
        let plain = try run(x), lazy = try run(channelsLastOnly(x))
        XCTAssertFalse(plain.nhwcOutputs)
        XCTAssertTrue(lazy.nhwcOutputs, "NHWC inputs give NHWC outputs")
        XCTAssertEqual(lazy.y, plain.y)
        for (a, e) in zip(lazy.grad, plain.grad) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        // A NaN in a pooling window wins in both layouts.
        var withNaN = x
        withNaN[5] = .nan
        let pooled = try Variable(channelsLastOnly(withNaN)).maxPool2x2().value.scalars, reference = try Variable(withNaN).maxPool2x2().value.scalars
        XCTAssertEqual(pooled.map(\.isNaN), reference.map(\.isNaN))
        XCTAssertEqual(pooled.filter { !$0.isNaN }, reference.filter { !$0.isNaN })
        XCTAssertTrue(pooled.contains { $0.isNaN })
        // Fewer channels than a vector: the NCHW forms run, on NCHW values made from the copy.
        let narrow = values.tensor([1, 3, 4, 4])
        let viaCopy = try Variable(channelsLastOnly(narrow)).maxPool2x2()
        XCTAssertNil(viaCopy.value.pendingChannelsLast)
        XCTAssertEqual(viaCopy.value.scalars, try Variable(narrow).maxPool2x2().value.scalars)
    }

    func testAUNetShapedChainInNHWCHasExactGradients() throws {
        // conv -> conv -> pool -> conv -> upsample -> concat with the skip -> conv: oneDNN hands NHWC
        // values and gradients along the whole chain.
        try checkGradients([[1, 2, 4, 4], [8, 2, 3, 3], [8, 8, 3, 3], [8, 8, 3, 3], [2, 16, 3, 3]], seed: 53) { v in
            let skip = try v[0].conv2d(weight: v[1], padding: 1, activation: .relu).conv2d(weight: v[2], padding: 1, activation: .relu)
            let deep = try skip.maxPool2x2().conv2d(weight: v[3], padding: 1, activation: .relu).upsampleNearest2x()
            // A linear read-out: piecewise linear in every input, so central differences are exact
            // away from the ReLU and max-pooling kinks (a tanh here saturates and bends).
            var readOut = Values(state: 59)
            return (try Variable.concatChannels([deep, skip]).conv2d(weight: v[4], padding: 1) * Variable(readOut.tensor([1, 2, 4, 4]))).mean()
        }
    }

    func testAWriteOrAnotherShapeDropsTheNHWCCopy() throws {
        var t = Tensor(shape: [1, 2, 2, 2])
        t.attachChannelsLast(TensorStorage(count: 8))
        XCTAssertNotNil(t.channelsLastCopy)
        XCTAssertNil(try t.reshaped([1, 8, 1, 1]).channelsLastCopy, "a reshaped view is another layout")
        t[0] = 1
        XCTAssertNil(t.channelsLastCopy, "a write invalidates the copy")
        t.attachChannelsLast(TensorStorage(count: 8))
        t.withUnsafeMutableBufferPointer { $0[1] = 2 }
        XCTAssertNil(t.channelsLastCopy)
    }
}
