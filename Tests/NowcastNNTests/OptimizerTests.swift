import Foundation
import NowcastCore
@testable import NowcastNN
import XCTest

final class OptimizerTests: XCTestCase {
    private func parameter(_ values: [Float], grad: [Float]) throws -> Variable {
        let p = Variable(try Tensor(shape: [values.count], values: values), requiresGrad: true)
        p.grad = try Tensor(shape: [grad.count], values: grad)
        return p
    }

    func testSGDAndMomentumSteps() throws {
        let p = try parameter([1, -2], grad: [0.5, -1])
        var sgd = SGD(learningRate: 0.1)
        try sgd.step([p])
        XCTAssertEqual(p.value.scalars, [0.95, -1.9])
        let q = try parameter([1], grad: [1])
        var momentum = SGD(learningRate: 0.1, momentum: 0.9)
        try momentum.step([q])
        try momentum.step([q])  // velocity 1, then 1.9
        XCTAssertEqual(q.value.scalars[0], 1 - 0.1 - 0.19, accuracy: 1e-6)
    }

    func testAdamFirstStepMovesByTheLearningRateAndAdamWDecays() throws {
        let p = try parameter([1, 1], grad: [3, -0.01])
        var adam = Adam(learningRate: 0.01)
        try adam.step([p])
        XCTAssertEqual(p.value.scalars[0], 0.99, accuracy: 1e-5)
        XCTAssertEqual(p.value.scalars[1], 1.01, accuracy: 1e-4)
        let q = try parameter([2], grad: [0])
        var adamW = Adam.adamW(learningRate: 0.1, weightDecay: 0.5)
        try adamW.step([q])
        XCTAssertEqual(q.value.scalars[0], 2 - 0.1 * 0.5 * 2, accuracy: 1e-5, "decay applied to the weight, not through the moments")
    }

    func testClippingSchedulesAndSeededInitialisation() throws {
        let a = try parameter([0], grad: [3]), b = try parameter([0], grad: [4])
        XCTAssertEqual(clipGradients([a, b], maxNorm: 1), 5)
        XCTAssertEqual(a.grad?.scalars[0] ?? 0, 0.6, accuracy: 1e-6)
        XCTAssertEqual(b.grad?.scalars[0] ?? 0, 0.8, accuracy: 1e-6)
        let schedule = LearningRateSchedule(baseRate: 1, warmupSteps: 4, decay: .cosine(totalSteps: 14, minimum: 0))
        XCTAssertEqual(schedule.rate(at: 0), 0.25)
        XCTAssertEqual(schedule.rate(at: 4), 1)
        XCTAssertEqual(schedule.rate(at: 9), 0.5, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 14), 0, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule(baseRate: 1, decay: .step(every: 10, factor: 0.5)).rate(at: 25), 0.25)
        var r1 = SeededGenerator(seed: 3), r2 = SeededGenerator(seed: 3)
        let w1 = Initializer.heNormal([16, 8, 3, 3], fanIn: 72, using: &r1), w2 = Initializer.heNormal([16, 8, 3, 3], fanIn: 72, using: &r2)
        XCTAssertEqual(w1.scalars.map(\.bitPattern), w2.scalars.map(\.bitPattern))
        let std = (w1.scalars.reduce(0) { $0 + Double($1 * $1) } / Double(w1.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 72).squareRoot(), accuracy: 0.02)
        let x = Initializer.xavierUniform([100, 100], fanIn: 100, fanOut: 100, using: &r1)
        XCTAssertLessThanOrEqual(x.scalars.map(abs).max() ?? 1, Float((6.0 / 200).squareRoot()))
    }

    func testASmallConvolutionalModelOverfitsOneBatch() throws {
        var random = SeededGenerator(seed: 1)
        let input = Variable(Initializer.xavierUniform([2, 2, 8, 8], fanIn: 1, fanOut: 1, using: &random))
        let target = Variable(Initializer.xavierUniform([2, 1, 8, 8], fanIn: 4, fanOut: 4, using: &random))
        let w1 = Variable(Initializer.heNormal([8, 2, 3, 3], fanIn: 18, using: &random), requiresGrad: true)
        let b1 = Variable(Tensor(shape: [8]), requiresGrad: true)
        let w2 = Variable(Initializer.xavierUniform([1, 8, 3, 3], fanIn: 72, fanOut: 9, using: &random), requiresGrad: true)
        let parameters = [w1, b1, w2]
        var adam = Adam(learningRate: 0.01)
        var first: Float = 0, last: Float = 0
        for step in 0..<300 {
            parameters.forEach { $0.zeroGrad() }
            let hidden = try input.conv2d(weight: w1, bias: b1, padding: 1).tanh()
            let loss = try hidden.conv2d(weight: w2, padding: 1).meanSquaredError(target)
            try loss.backward()
            try adam.step(parameters)
            if step == 0 { first = loss.value.scalar ?? 0 }
            last = loss.value.scalar ?? 0
        }
        XCTAssertLessThan(last, first / 50, "loss \(first) -> \(last)")
        XCTAssertLessThan(last, 2e-3)
    }

    func testAResumedOptimizerContinuesBitForBit() throws {
        // Four steps in one go against two steps, state saved through a weight file, two more steps.
        func gradients(_ parameters: [Variable], _ step: Int) throws {
            for (k, p) in parameters.enumerated() {
                p.grad = try Tensor(shape: p.shape, values: (0..<p.value.count).map { Float(sin(Double(step * 7 + k * 3 + $0))) })
            }
        }
        func fresh() throws -> [Variable] { [try parameter([1, -2, 3], grad: [0, 0, 0]), try parameter([0.5, 0.25], grad: [0, 0])] }
        for make in [{ Adam(learningRate: 0.05) as any Optimizer }, { Adam.adamW(learningRate: 0.05) as any Optimizer },
                     { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true) as any Optimizer }] {
            let straight = try fresh()
            var a = make()
            for step in 0..<4 { try gradients(straight, step); try a.step(straight) }

            let resumed = try fresh()
            var b = make()
            for step in 0..<2 { try gradients(resumed, step); try b.step(resumed) }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("optimizer-\(UUID().uuidString).safetensors").path
            defer { unlink(path) }
            let saved = b.state
            try SafeTensors.write(saved.tensors, metadata: ["steps": "\(saved.steps)"], to: path)
            let file = try SafeTensors.read(path)
            var c = make()
            try c.restore(OptimizerState(steps: Int(file.metadata["steps"] ?? "") ?? -1, tensors: file.tensors.map { ($0.key, $0.value) }),
                          parameters: resumed)
            for step in 2..<4 { try gradients(resumed, step); try c.step(resumed) }
            XCTAssertEqual(straight.map { $0.value.scalars.map(\.bitPattern) }, resumed.map { $0.value.scalars.map(\.bitPattern) }, "\(type(of: a))")
        }
        var adam = Adam()
        XCTAssertThrowsError(try adam.restore(OptimizerState(steps: 1, tensors: [("m.0", Tensor(shape: [2]))]), parameters: try fresh())) {
            XCTAssertTrue("\($0)".contains("m.0"), "\($0)")
        }
        XCTAssertThrowsError(try adam.restore(OptimizerState(steps: 1, tensors: [("momentum.0", Tensor(shape: [3]))]), parameters: try fresh()))
    }
}
