import Foundation
import NowcastCore
@testable import NowcastNN
import NowcastTestSupport
import XCTest

/// Finite-difference gradient checks and known values for the elementwise ops, reductions, resampling,
/// normalisation, dropout, warping and the losses.
final class OpsTests: XCTestCase {
    func testElementwiseOpsAndTheirGradients() throws {
        try checkGradients([[2, 3], [2, 3]]) { v in (try v[0] / v[1].exp()).mean() }
        try checkGradients([[2, 3]]) { v in v[0].exp().log().scaled(by: 3).shifted(by: 1).tanh().mean() }
        try checkGradients([[2, 3]]) { v in v[0].leakyRelu(slope: 0.1).tanh().mean() }
        try checkGradients([[2, 3]]) { v in v[0].gelu().mean() }
        XCTAssertEqual(Variable(try Tensor(shape: [3], values: [-2, 0, 1])).leakyRelu(slope: 0.5).value.scalars, [-1, 0, 1])
        // GELU(1) = Φ(1) = 0.841345; GELU(-1) = -0.158655.
        let gelu = Variable(try Tensor(shape: [2], values: [1, -1])).gelu().value.scalars
        XCTAssertEqual(gelu[0], 0.841345, accuracy: 1e-5)
        XCTAssertEqual(gelu[1], -0.158655, accuracy: 1e-5)
        XCTAssertThrowsError(try Variable(Tensor(shape: [2])) / Variable(Tensor(shape: [3])))
    }

    func testReductions() throws {
        let x = Variable(try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(x.sum().value.scalar, 21)
        XCTAssertEqual(try x.sum(alongAxis: 0).value.scalars, [5, 7, 9])
        XCTAssertEqual(try x.mean(alongAxis: 1).value.scalars, [2, 5])
        XCTAssertEqual(try x.sum(alongAxis: 1).shape, [2])
        XCTAssertThrowsError(try x.sum(alongAxis: 2)) { XCTAssertTrue("\($0)".contains("0..<2")) }
        try checkGradients([[2, 3, 4]]) { v in (try v[0].sum(alongAxis: 1)).tanh().sum() }
        try checkGradients([[2, 3, 4]]) { v in (try v[0].mean(alongAxis: 2)).sigmoid().mean() }
    }

    func testBilinearUpsamplingMatchesPyTorch() throws {
        // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), scale_factor=2,
        // mode="bilinear", align_corners=False)
        let x = Variable(try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]))
        let expected: [Float] = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0]
        XCTAssertEqual(try x.upsampleBilinear(scale: 2).value.scalars, expected)
        try checkGradients([[1, 2, 3, 2]]) { v in try v[0].upsampleBilinear(scale: 2).sigmoid().mean() }
        try checkGradients([[1, 1, 2, 3]]) { v in try v[0].upsampleBilinear(scale: 3).tanh().mean() }
    }

    func testAveragePooling() throws {
        let x = Variable(try Tensor(shape: [1, 1, 2, 5], values: [1, 2, 3, 4, 9, 5, 6, 7, 8, 9]))
        XCTAssertEqual(try x.averagePool(size: 2).value.scalars, [3.5, 5.5])
        try checkGradients([[2, 2, 5, 4]]) { v in try v[0].averagePool(size: 2).tanh().mean() }
        XCTAssertThrowsError(try x.averagePool(size: 3))
    }

    func testGroupNormNormalisesEachGroupAndHasExactGradients() throws {
        var values = Values(state: 3)
        let x = Variable(values.tensor([2, 4, 3, 3]))
        let gamma = Variable(Tensor(shape: [4], repeating: 1)), beta = Variable(Tensor(shape: [4]))
        let y = try x.groupNorm(groups: 2, gamma: gamma, beta: beta).value.scalars
        for group in 0..<4 {
            let part = y[(group * 18)..<((group + 1) * 18)]
            let mean = part.reduce(0, +) / 18
            let variance = part.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 18
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
        var weights = Values(state: 8)
        let mix = Variable(weights.tensor([2, 4, 3, 3]))
        try checkGradients([[2, 4, 3, 3], [4], [4]], tolerance: 3e-2) { v in
            (try v[0].groupNorm(groups: 2, gamma: v[1], beta: v[2]) * mix).mean()
        }
        XCTAssertThrowsError(try x.groupNorm(groups: 3, gamma: gamma, beta: beta)) { XCTAssertTrue("\($0)".contains("divisible by 3")) }
    }

    func testDropoutIsSeededScaledAndMasksTheGradient() throws {
        let x = Variable(Tensor(shape: [1000], repeating: 1), requiresGrad: true)
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        let y = try x.dropout(rate: 0.25, using: &a), z = try x.dropout(rate: 0.25, using: &b)
        XCTAssertEqual(y.value.scalars, z.value.scalars)
        let kept = y.value.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4 / 3) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        try y.sum().backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).scalars, y.value.scalars)
        XCTAssertThrowsError(try x.dropout(rate: 1, using: &a))
    }

    func testWarpMovesAnImageAndGradientsReachImageAndFlow() throws {
        // A whole-pixel displacement shifts the image: sampling at column + 1 moves it one column left.
        let image = Variable(try Tensor(shape: [1, 1, 2, 3], values: [1, 2, 3, 4, 5, 6]))
        var flow = Tensor(shape: [1, 2, 2, 3])
        for p in 0..<6 { flow[p] = 1 }
        XCTAssertEqual(try image.warped(by: Variable(flow)).value.scalars, [2, 3, 0, 5, 6, 0])
        // Half a pixel down: the mean of the two rows on the first row, half the second row below it.
        var down = Tensor(shape: [1, 2, 2, 3])
        for p in 6..<12 { down[p] = 0.5 }
        XCTAssertEqual(try image.warped(by: Variable(down)).value.scalars, [2.5, 3.5, 4.5, 2, 2.5, 3])
        // Fractional flows (away from pixel boundaries, where bilinear weights have kinks).
        var values = Values(state: 12)
        let flowValue = values.tensor([2, 2, 4, 5]).scalars.map { $0 * 0.4 + 0.05 }
        try checkGradients([[2, 3, 4, 5]]) { v in
            try v[0].warped(by: Variable(try Tensor(shape: [2, 2, 4, 5], values: flowValue))).tanh().mean()
        }
        let imageValue = values.tensor([2, 3, 4, 5])
        try checkGradients([[2, 2, 4, 5]], epsilon: 1e-3) { v in
            try Variable(imageValue).warped(by: v[0].scaled(by: 0.3)).tanh().mean()
        }
        XCTAssertThrowsError(try image.warped(by: Variable(Tensor(shape: [1, 3, 2, 3]))))
    }

    func testLossesHaveKnownValuesAndGradients() throws {
        let prediction = Variable(try Tensor(shape: [4], values: [1, 2, 3, 4]))
        let target = Variable(try Tensor(shape: [4], values: [2, 2, 1, 4]))
        XCTAssertEqual(try prediction.meanSquaredError(target).value.scalar, 1.25)
        XCTAssertEqual(try prediction.meanAbsoluteError(target).value.scalar, 0.75)
        XCTAssertEqual(try prediction.weightedMeanSquaredError(target, weights: try Tensor(shape: [4], values: [1, 0, 2, 0])).value.scalar, 2.25)
        XCTAssertEqual(try prediction.weightedMeanAbsoluteError(target, weights: try Tensor(shape: [4], values: [1, 0, 2, 0])).value.scalar, 1.25)
        let logCosh = try prediction.logCoshError(target).value.scalar ?? .nan
        XCTAssertEqual(logCosh, Float((log(cosh(1.0)) + log(cosh(2.0))) / 4), accuracy: 1e-6)
        // Large errors do not overflow.
        XCTAssertEqual(try Variable(Tensor(shape: [1], repeating: 200)).logCoshError(Variable(Tensor(shape: [1]))).value.scalar ?? 0,
                       200 - Float(log(2.0)), accuracy: 1e-3)
        let offset = Variable(Tensor(shape: [2, 3], repeating: 5))
        try checkGradients([[2, 3]]) { v in try v[0].meanAbsoluteError(offset) }
        try checkGradients([[2, 3]]) { v in try v[0].weightedMeanSquaredError(offset, weights: try Tensor(shape: [2, 3], values: [1, 2, 5, 10, 30, 50])) }
        try checkGradients([[2, 3], [2, 3]]) { v in try v[0].logCoshError(v[1]) }
        try checkGradients([[2, 3], [2, 3], [2, 3]]) { v in try v[0].gaussianNegativeLogLikelihood(logVariance: v[1], target: v[2]) }
        XCTAssertThrowsError(try prediction.meanSquaredError(Variable(Tensor(shape: [3]))))
        XCTAssertThrowsError(try prediction.weightedMeanSquaredError(target, weights: Tensor(shape: [3])))
    }

    func testGaussianNegativeLogLikelihoodValue() throws {
        // 0.5 * (log var + (y - mu)^2 / var) with var = e: 0.5 * (1 + 4 / e).
        let mu = Variable(Tensor(shape: [1])), logVariance = Variable(Tensor(shape: [1], repeating: 1))
        let value = try mu.gaussianNegativeLogLikelihood(logVariance: logVariance, target: Variable(Tensor(shape: [1], repeating: 2))).value.scalar
        XCTAssertEqual(value ?? .nan, Float(0.5 * (1 + 4 / M_E)), accuracy: 1e-6)
    }

    func testFairCRPS() throws {
        // Members {0, 2} against 1: mean |x - y| = 1, pair term |0 - 2| * 2 / (2 * 2 * 1) = 1: CRPS 0.
        let ensemble = Variable(try Tensor(shape: [2, 1], values: [0, 2]))
        XCTAssertEqual(try ensemble.fairCRPS(Variable(Tensor(shape: [1], repeating: 1))).value.scalar, 0)
        // A collapsed ensemble's CRPS is its absolute error.
        let collapsed = Variable(Tensor(shape: [3, 2], repeating: 4))
        XCTAssertEqual(try collapsed.fairCRPS(Variable(try Tensor(shape: [2], values: [1, 6]))).value.scalar, 2.5)
        try checkGradients([[4, 3], [3]]) { v in try v[0].fairCRPS(v[1]) }
        XCTAssertThrowsError(try Variable(Tensor(shape: [1, 3])).fairCRPS(Variable(Tensor(shape: [3]))))
    }

    func testIntensityWeightsFollowHKO7() throws {
        let rain = try Tensor(shape: [7], values: [0, 0.5, 1.9, 4, 9, 29, .nan])
        XCTAssertEqual(try IntensityWeights.hko7.weights(for: rain).scalars, [1, 2, 2, 5, 10, 30, 0])
        XCTAssertThrowsError(try IntensityWeights(thresholds: [2, 1], weights: [1, 2, 3]).weights(for: rain))
    }
}
