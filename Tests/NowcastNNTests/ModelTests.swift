import Foundation
import NowcastCore
import NowcastNN
import XCTest

final class ModelTests: XCTestCase {
    func testTheReferenceArchitecturesHaveTorchsSizes() throws {
        // Parameter and multiply-accumulate counts of ../shared/bench/models.py, as PyTorch reports them.
        let convLSTM = try ConvLSTMNowcaster(config: ConvLSTMConfig(), seed: 1)
        XCTAssertEqual(convLSTM.parameters.reduce(0) { $0 + $1.value.count }, 112_033)
        XCTAssertEqual(convLSTM.convolutionMACs(height: 128, width: 128), 12_817_793_024)
        XCTAssertEqual(convLSTM.convolutionMACs(height: 64, width: 64), 3_204_448_256)
        let unet = try UNet(config: UNetConfig(), seed: 1)
        XCTAssertEqual(unet.parameters.reduce(0) { $0 + $1.value.count }, 487_441)
        XCTAssertEqual(unet.convolutionMACs(height: 128, width: 128), 670_302_208)
        XCTAssertEqual(unet.convolutionMACs(height: 64, width: 64), 167_575_552)
    }

    func testForwardShapesAndShapeErrors() throws {
        let convLSTM = try ConvLSTMNowcaster(config: ConvLSTMConfig(hidden: [4, 3], inputFrames: 3, outputFrames: 2), seed: 1)
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

    func testAConvLSTMOverfitsOneBatch() throws {
        var random = SeededGenerator(seed: 4)
        let model = try ConvLSTMNowcaster(config: ConvLSTMConfig(hidden: [8], inputFrames: 2, outputFrames: 2), seed: 2)
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
        XCTAssertLessThan(losses.last ?? 1, (losses.first ?? 0) / 10, "\(losses.first ?? 0) -> \(losses.last ?? 0)")
    }
}
