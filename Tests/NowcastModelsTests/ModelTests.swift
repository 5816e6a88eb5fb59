import Foundation
import NowcastCore
import NowcastData
import NowcastModels
import NowcastNN
import XCTest

final class ModelTests: XCTestCase {
    func testTheReferenceArchitecturesHaveTorchsSizes() throws {
        // Parameter and multiply-accumulate counts of ../shared/bench/models.py, as PyTorch reports them.
        let convLSTM = try RecurrentNowcaster(config: RecurrentConfig(), seed: 1)
        XCTAssertEqual(convLSTM.parameters.reduce(0) { $0 + $1.value.count }, 112_033)
        XCTAssertEqual(convLSTM.convolutionMACs(height: 128, width: 128), 12_817_793_024)
        XCTAssertEqual(convLSTM.convolutionMACs(height: 64, width: 64), 3_204_448_256)
        let unet = try UNet(config: UNetConfig(), seed: 1)
        XCTAssertEqual(unet.parameters.reduce(0) { $0 + $1.value.count }, 487_441)
        XCTAssertEqual(unet.convolutionMACs(height: 128, width: 128), 670_302_208)
        XCTAssertEqual(unet.convolutionMACs(height: 64, width: 64), 167_575_552)
    }

    func testDropoutActsOnlyWhileDrawsAreSetAndRepeatsWithThem() throws {
        var random = SeededGenerator(seed: 3)
        let x = Variable(try Tensor(shape: [1, 3, 1, 8, 8], values: (0..<192).map { _ in Float(random.uniform()) }))
        for spec in [ModelSpec(type: .convlstm, hidden: [4], dropout: 0.5), ModelSpec(type: .unet, base: 4, depth: 1, dropout: 0.5)] {
            let model = try spec.make(inputFrames: 3, outputFrames: 2, seed: 1)
            let plain = try model.forecastSequence(x).value.scalars
            XCTAssertEqual(try model.forecastSequence(x).value.scalars, plain, "\(spec.type): no draws, no dropout")
            model.dropoutDraws = SeededGenerator(seed: 9, stream: 0)
            let first = try model.forecastSequence(x).value.scalars
            model.dropoutDraws = SeededGenerator(seed: 9, stream: 0)
            XCTAssertEqual(try model.forecastSequence(x).value.scalars, first, "\(spec.type): the same draws, the same masks")
            model.dropoutDraws = SeededGenerator(seed: 9, stream: 1)
            XCTAssertNotEqual(try model.forecastSequence(x).value.scalars, first, "\(spec.type): other draws, other masks")
            XCTAssertNotEqual(first, plain)
        }
        XCTAssertEqual(ModelSpec(dropout: 1).problem, .invalidSetting(key: "model.dropout", expected: "a rate from 0 up to (not including) 1", found: "1.0"))
    }

    func testForwardShapesAndShapeErrors() throws {
        let convLSTM = try RecurrentNowcaster(config: RecurrentConfig(hidden: [4, 3], inputFrames: 3, outputFrames: 2), seed: 1)
        XCTAssertEqual(try convLSTM(Variable(Tensor(shape: [2, 3, 1, 8, 8]))).shape, [2, 2, 1, 8, 8])
        XCTAssertThrowsError(try convLSTM(Variable(Tensor(shape: [2, 4, 1, 8, 8])))) { XCTAssertTrue("\($0)".contains("[B, 3, 1, H, W]")) }
        let unet = try UNet(config: UNetConfig(base: 4, depth: 2), seed: 1)
        XCTAssertEqual(try unet(Variable(Tensor(shape: [2, 4, 8, 12]))).shape, [2, 1, 8, 12])
        XCTAssertThrowsError(try unet(Variable(Tensor(shape: [1, 4, 6, 8])))) { XCTAssertTrue("\($0)".contains("divisible by 4")) }
    }

    func testSeededModelsAreIdenticalAndWeightsRoundTrip() throws {
        let a = try UNet(config: UNetConfig(base: 4, depth: 2), seed: 9), b = try UNet(config: UNetConfig(base: 4, depth: 2), seed: 9)
        XCTAssertEqual(a.namedParameters.map { $0.tensor.scalars.map(\.bitPattern) }, b.namedParameters.map { $0.tensor.scalars.map(\.bitPattern) })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("unet-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        try SafeTensors.write(a.namedParameters, metadata: ["model": "unet"], to: path)
        let loaded = try SafeTensors.read(path).tensors
        for (name, tensor) in a.namedParameters { XCTAssertEqual(loaded[name]?.scalars, tensor.scalars, name) }
    }

    /// Trains a recurrent model of one cell of 8 channels on one seeded batch with Adam for 150 steps
    /// and checks that the loss falls below a tenth of where it started.
    private func assertOverfitsOneBatch(_ cell: RecurrentCell, file: StaticString = #filePath, line: UInt = #line) throws {
        var random = SeededGenerator(seed: 4)
        let model = try RecurrentNowcaster(config: RecurrentConfig(cell: cell, hidden: [8], inputFrames: 2, outputFrames: 2), seed: 2)
        let x = Variable(Initializer.xavierUniform([2, 2, 1, 8, 8], fanIn: 1, fanOut: 1, using: &random))
        let y = Variable(Initializer.xavierUniform([2, 2, 1, 8, 8], fanIn: 4, fanOut: 4, using: &random))
        var adam = Adam(learningRate: 0.02)
        var losses: [Float] = []
        for _ in 0..<150 {
            model.parameters.forEach { $0.zeroGrad() }
            let loss = try model(x).meanSquaredError(y)
            try loss.backward()
            try adam.step(model.parameters)
            losses.append(loss.value.scalar ?? .nan)
        }
        XCTAssertLessThan(losses.last ?? 1, (losses.first ?? 0) / 10, "\(cell): \(losses.first ?? 0) -> \(losses.last ?? 0)", file: file, line: line)
    }

    func testAConvLSTMOverfitsOneBatch() throws {
        try assertOverfitsOneBatch(.lstm)
    }

    func testAConvGRUHasExactGradientsAndOverfitsOneBatch() throws {
        var random = SeededGenerator(seed: 6)
        let model = try RecurrentNowcaster(config: RecurrentConfig(cell: .gru, hidden: [3], inputFrames: 2, outputFrames: 2), seed: 3)
        XCTAssertEqual(model.namedParameters.map(\.name), ["cells.0.gates.weight", "cells.0.gates.bias", "cells.0.candidate.weight",
                                                          "cells.0.candidate.bias", "head.weight", "head.bias"])
        let x = Variable(Initializer.xavierUniform([1, 2, 1, 4, 4], fanIn: 1, fanOut: 1, using: &random))
        let y = Variable(Initializer.xavierUniform([1, 2, 1, 4, 4], fanIn: 1, fanOut: 1, using: &random))
        // Finite differences on every parameter element.
        try model(x).meanSquaredError(y).backward()
        for parameter in model.parameters {
            let analytic = try XCTUnwrap(parameter.grad).scalars
            let original = parameter.value
            for i in 0..<original.count {
                func loss(_ delta: Float) throws -> Float {
                    var moved = original
                    moved[i] += delta
                    try parameter.assign(moved)
                    return try Gradients.disabled { try model(x).meanSquaredError(y).value.scalar ?? .nan }
                }
                let numeric = (try loss(1e-2) - loss(-1e-2)) / 2e-2
                try parameter.assign(original)
                XCTAssertEqual(analytic[i], numeric, accuracy: 2e-2 * max(1, abs(numeric)))
            }
        }
        try assertOverfitsOneBatch(.gru)
    }

    func testConfigsDecodeWithDefaultsAndTheUNetForecastsRecursively() throws {
        let recurrent = try JSONDecoder().decode(RecurrentConfig.self, from: Data(#"{"cell": "gru", "hidden": [16]}"#.utf8))
        XCTAssertEqual(recurrent, RecurrentConfig(cell: .gru, hidden: [16]))
        XCTAssertThrowsError(try JSONDecoder().decode(RecurrentConfig.self, from: Data(#"{"cell": "rnn"}"#.utf8)))
        let unetConfig = try JSONDecoder().decode(UNetConfig.self, from: Data(#"{"base": 4, "depth": 2, "upsampling": "bilinear"}"#.utf8))
        XCTAssertEqual(unetConfig, UNetConfig(base: 4, depth: 2, upsampling: .bilinear))
        let unet = try UNet(config: unetConfig, seed: 1)
        var random = SeededGenerator(seed: 2)
        let x = Variable(Initializer.xavierUniform([2, 4, 8, 8], fanIn: 1, fanOut: 1, using: &random))
        let forecast = try unet.forecast(x, steps: 3)
        XCTAssertEqual(forecast.shape, [2, 3, 8, 8])
        // The second step sees frames 2...4 and the first prediction.
        let first = try unet(x)
        let second = try unet(try Variable.concatChannels([try x.sliceChannels(1..<4), first]))
        XCTAssertEqual(try forecast.sliceChannels(1..<2).value.scalars, second.value.scalars)
    }

    func testSeededTrainingRunsEndWithBitIdenticalWeights() throws {
        // Both kernels (oneDNN for the U-Net's 3x3 layers, sgemm for the rest) and every parallel
        // loop split the work the same way each run, so seeded training is reproducible bit for bit.
        func train(_ seed: UInt64) throws -> [[UInt32]] {
            var random = SeededGenerator(seed: seed)
            let unet = try UNet(config: UNetConfig(base: 4, depth: 2), seed: seed)
            let recurrent = try RecurrentNowcaster(config: RecurrentConfig(hidden: [4], inputFrames: 2, outputFrames: 2), seed: seed)
            let x = Variable(Initializer.uniform([4, 4, 16, 16], in: 0..<1, using: &random)), y = Variable(Initializer.uniform([4, 1, 16, 16], in: 0..<1, using: &random))
            let xs = Variable(Initializer.uniform([4, 2, 1, 16, 16], in: 0..<1, using: &random))
            let ys = Variable(Initializer.uniform([4, 2, 1, 16, 16], in: 0..<1, using: &random))
            var (a, b) = (Adam(learningRate: 1e-2), Adam(learningRate: 1e-2))
            for _ in 0..<3 {
                (unet.parameters + recurrent.parameters).forEach { $0.zeroGrad() }
                try (try unet(x).meanSquaredError(y)).backward()
                try (try recurrent(xs).meanSquaredError(ys)).backward()
                try a.step(unet.parameters)
                try b.step(recurrent.parameters)
            }
            return (unet.parameters + recurrent.parameters).map { $0.value.scalars.map(\.bitPattern) }
        }
        let first = try train(7), second = try train(7)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, try train(8))
    }

    func testTheFirstStepSkipsTheZeroStateWithoutChangingTheResult() throws {
        var random = SeededGenerator(seed: 12)
        let x = Variable(Initializer.uniform([2, 2, 1, 6, 6], in: 0..<1, using: &random))
        // ConvLSTM: the model against an unrolled reference that convolves concat(x, h) with h = 0 too.
        let lstm = try RecurrentNowcaster(config: RecurrentConfig(cell: .lstm, hidden: [4, 3], inputFrames: 2, outputFrames: 1), seed: 5)
        var state = [4, 3].map { (h: Variable(Tensor(shape: [2, $0, 6, 6])), c: Variable(Tensor(shape: [2, $0, 6, 6]))) }
        var prediction: Variable?
        for t in 0..<2 {
            var current = try x.reshaped([2, 2, 6, 6]).sliceChannels(t..<(t + 1))
            for (k, cell) in lstm.cells.enumerated() {
                let gates = try Variable.concatChannels([current, state[k].h]).conv2d(weight: cell.gates.weight, padding: 1)
                let next = try Variable.convLSTMGates(gates, previousCell: state[k].c, bias: cell.gates.bias)
                state[k] = (next.hidden, next.cell)
                current = next.hidden
            }
            prediction = try current.conv2d(weight: lstm.head.weight, bias: lstm.head.bias)
        }
        let reference = try XCTUnwrap(prediction).value.scalars
        for (a, b) in zip(try lstm(x).value.scalars, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // ConvGRU cell: a nil state against explicit zeros, values and gradients.
        let input = Variable(Initializer.uniform([1, 2, 5, 5], in: -1..<1, using: &random), requiresGrad: true)
        func weights(_ o: Int) -> (weight: Variable, bias: Variable) {
            (Variable(Initializer.uniform([o, 5, 3, 3], in: -0.5..<0.5, using: &random), requiresGrad: true),
             Variable(Initializer.uniform([o], in: -0.5..<0.5, using: &random), requiresGrad: true))
        }
        let gates = weights(6), candidate = weights(3)
        func run(_ hidden: Variable?) throws -> (value: [Float], grads: [[Float]]) {
            [input, gates.weight, gates.bias, candidate.weight, candidate.bias].forEach { $0.zeroGrad() }
            let h = try Variable.convGRUCell(input: input, hidden: hidden, gates: gates, candidate: candidate, padding: 1)
            try h.sum().backward()
            return (h.value.scalars, try [input, gates.weight, gates.bias, candidate.weight, candidate.bias].map { try XCTUnwrap($0.grad).scalars })
        }
        let skipped = try run(nil), full = try run(Variable(Tensor(shape: [1, 3, 5, 5])))
        for (a, b) in zip(skipped.value, full.value) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (ga, gb) in zip(skipped.grads, full.grads) { for (a, b) in zip(ga, gb) { XCTAssertEqual(a, b, accuracy: 1e-4) } }
    }

    func testAConvGRUCellRejectsMismatchedWeights() throws {
        let hidden = Variable(Tensor(shape: [1, 3, 4, 4])), input = Variable(Tensor(shape: [1, 1, 4, 4]))
        let gates = (Variable(Tensor(shape: [4, 4, 3, 3])), Variable(Tensor(shape: [4])))
        let candidate = (Variable(Tensor(shape: [3, 4, 3, 3])), Variable(Tensor(shape: [3])))
        XCTAssertThrowsError(try Variable.convGRUCell(input: input, hidden: hidden, gates: gates, candidate: candidate, padding: 1)) {
            XCTAssertTrue("\($0)".contains("convGRUCell"))
        }
    }

    func testPersistenceHoldsTheLastInputFrameAndFillsOnlyItsForecast() throws {
        // Two samples of 2 input frames of 1 x 2; the second sample's last frame has a gap.
        let batch = Batch(count: 2, inputs: [9, 9, 1, 2, 8, 8, 3, .nan], targets: [Float](repeating: 0, count: 8),
                          inputFrames: 2, targetFrames: 2, height: 1, width: 2)
        let persistence = try Persistence(batch, fill: MissingFill(value: -1))
        XCTAssertEqual(persistence.forecast.shape, [2, 2, 1, 1, 2])
        XCTAssertEqual(persistence.forecast.scalars, [1, 2, 1, 2, 3, -1, 3, -1])
        XCTAssertEqual(persistence.lastInputs.map { $0.isNaN ? 99 : $0 }, [1, 2, 3, 99], "the last frames as stored")
    }

    func testAFolderThatIsNotAModelIsAClearError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nowcast-artifact-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertThrowsError(try EnsembleArtifact.load(folder)) {
            XCTAssertEqual($0 as? ModelError, .artifact(path: folder, detail: "not a trained model (no manifest.json in it or in its model/ folder)"))
        }
        try Data(#"{"format": "nowcastkit-ensemble", "members": 3}"#.utf8).write(to: URL(fileURLWithPath: folder + "/manifest.json"))
        XCTAssertThrowsError(try EnsembleArtifact.load(folder)) {
            XCTAssertTrue("\($0)".hasPrefix(folder + "/manifest.json: not a readable model manifest"), "\($0)")
        }
    }
}
