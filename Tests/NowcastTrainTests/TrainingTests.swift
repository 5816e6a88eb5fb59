import Foundation
import NowcastData
import NowcastForecast
import NowcastIO
import NowcastModels
import NowcastNN
@testable import NowcastTrain
import XCTest
import NowcastTestSupport

/// A small generated training set shared by the tests of this file: 3 + 3 frames of 24 x 24.
private let sharedStore: Result<String, Error> = Result {
    try SyntheticData.store("train", size: 48, frames: 60, seed: 5, window: WindowSpec(inputs: 3, targets: 3, stride: 1, patchSize: 24, patchStride: 24),
                       split: SplitSpec(blockHours: 2, validation: 0.3, test: 0.0, seed: 2), shardSize: 16,
                       filters: WindowFilters(maxMissingFraction: 0.05, minWetFraction: 0.0, wetThreshold: 0.1))
}

final class TrainingTests: XCTestCase {
    private func store() throws -> String { try sharedStore.get() }

    /// A path for a run folder (not made: the run makes it).
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcastkit-run") + "/run" }

    /// A small ConvLSTM run on the shared store.
    private func smallConfig(steps: Int) throws -> TrainConfig {
        var config = TrainConfig()
        config.store = try store()
        config.output = try folder()
        config.model = ModelSpec(type: .convlstm, hidden: [8], kernel: 3)
        config.batchSize = 4
        config.shuffleBuffer = 16
        config.steps = steps
        config.optimizer.learningRate = 0.01
        config.validation.every = steps
        config.checkpoint.every = 4
        config.checkpoint.keep = 10
        config.logEvery = 2
        return config
    }

    func testShortTrainingBeatsPersistenceOnValidation() throws {
        var config = try smallConfig(steps: 40)
        config.validation.every = 20
        let summary = try TrainingRun(config: config).run(resume: false)
        let report = try XCTUnwrap(summary.members.first?.validation)
        XCTAssertGreaterThan(report.samples, 0)
        XCTAssertLessThan(report.loss, report.persistenceLoss, "validation loss of the model against persistence's")
        XCTAssertLessThan(report.model.rootMeanSquaredError, report.persistence.rootMeanSquaredError, "RMSE in mm/h")
        // The run folder describes itself: log lines, a plot, the model with its data contract.
        let member = (config.output as NSString).appendingPathComponent("member-0")
        let log = try String(contentsOfFile: member + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.filter { $0.contains("\"event\":\"train\"") }.count, 20)
        XCTAssertEqual(log.filter { $0.contains("\"event\":\"validation\"") }.count, 2)
        let plot = try String(contentsOfFile: member + "/progress.svg", encoding: .utf8)
        XCTAssertTrue(plot.hasPrefix("<?xml") && plot.contains("<svg") && plot.hasSuffix("</svg>\n"), "a whole SVG document")
        XCTAssertGreaterThan(plot.components(separatedBy: "<path").count, 10, "axes, ticks and the three lines drawn")
        let (artifact, modelFolder) = try EnsembleArtifact.load(config.output)
        XCTAssertEqual(artifact.data.inputFrames, 3)
        XCTAssertEqual(artifact.data.outputFrames, 3)
        XCTAssertEqual([artifact.data.ny, artifact.data.nx], [24, 24])
        XCTAssertEqual(artifact.data.units, "mm h-1")
        XCTAssertEqual(artifact.data.transforms, try SampleStore(folder: config.store).manifest.transforms)
        XCTAssertEqual(try artifact.models(in: modelFolder).count, 1)
        XCTAssertEqual(try artifact.training.decode(TrainConfig.self), config, "the training configuration, carried as opaque JSON")
        XCTAssertEqual(artifact.data.missingInput, MissingFill(transforms: artifact.data.transforms).value)
    }

    func testResumeFromACheckpointEndsWithTheSameWeights() throws {
        let config = try smallConfig(steps: 12)
        _ = try TrainingRun(config: config).run(resume: false)
        var interrupted = config
        interrupted.output = try folder()
        _ = try TrainingRun(config: interrupted).run(resume: false)
        // As if killed after the checkpoint of step 4: later checkpoints, the end marker and the model are gone,
        // the log holds lines past step 4 and a half-written one.
        let member = (interrupted.output as NSString).appendingPathComponent("member-0")
        for step in [8, 12] { try FileManager.default.removeItem(atPath: "\(member)/checkpoints/\(Checkpoint.folderName(step: step))") }
        try FileManager.default.removeItem(atPath: member + "/final.json")
        try FileManager.default.removeItem(atPath: interrupted.output + "/model")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: member + "/log.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"event\":\"train\",\"step\":9,\"lo".utf8))
        try handle.close()

        var messages: [String] = []
        let run = try TrainingRun(config: interrupted)
        run.onMessage = { messages.append($0) }
        _ = try run.run(resume: true)
        XCTAssertTrue(messages.contains { $0.contains("resuming from step 4") }, "\(messages)")
        let a = try Data(contentsOf: URL(fileURLWithPath: config.output + "/model/member-0.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: interrupted.output + "/model/member-0.safetensors"))
        XCTAssertEqual(a, b, "weights after resuming are bit-identical to the uninterrupted run's")
        let steps = try String(contentsOfFile: member + "/log.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"event\":\"train\"") }.count
        XCTAssertEqual(steps, 6, "the log holds each training line once")
    }

    func testNonFiniteLossStopsTheRunNamingTheStepAndKeepsTheCheckpoints() throws {
        var config = try smallConfig(steps: 30)
        config.optimizer.type = .sgd
        config.optimizer.momentum = 0.9
        config.optimizer.learningRate = 1e6
        config.checkpoint.every = 1
        config.validation.every = 0
        XCTAssertThrowsError(try TrainingRun(config: config).run(resume: false)) { error in
            guard case let .nonFinite(_, step, _, lastCheckpoint)? = error as? TrainError else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(step, 1)
            XCTAssertTrue("\(error)".contains("step \(step)"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
            // The last checkpoint is whole, loads, and holds finite weights from before the failure.
            guard let last = lastCheckpoint else { return XCTFail("a checkpoint should have been written") }
            XCTAssertTrue(last.hasSuffix(Checkpoint.folderName(step: step - 1)), last)
            let weights = try? SafeTensors.read(last + "/weights.safetensors")
            XCTAssertEqual(weights?.tensors.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) }, true)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output + "/model"), "no model from a failed run")
    }

    func testNaNInjectedIntoTheWeightsStopsTheRunBeforeItIsCheckpointed() throws {
        var config = try smallConfig(steps: 8)
        config.checkpoint.every = 1
        config.validation.every = 0
        let run = try TrainingRun(config: config)
        let trainer = try Trainer(config: config, store: run.store, member: 0)
        trainer.onProgress = { progress in
            guard progress.step == 3 else { return }
            let weight = trainer.model.parameters[0]
            try? weight.assign(Tensor(shape: weight.shape, repeating: .nan))
        }
        XCTAssertThrowsError(try trainer.run(resume: false)) { error in
            guard case let .nonFinite(_, step, quantity, lastCheckpoint)? = error as? TrainError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 3)
            XCTAssertEqual(quantity, "weights")
            XCTAssertTrue(lastCheckpoint?.hasSuffix(Checkpoint.folderName(step: 2)) ?? false, "\(error)")
        }
        XCTAssertEqual(Checkpoint.list(in: trainer.folder).map(\.step), [1, 2], "nothing written after the injection")
        // Resuming continues from the intact checkpoint of step 2.
        let resumed = try Trainer(config: config, store: run.store, member: 0)
        XCTAssertEqual(try resumed.run(resume: true).steps, 8)
    }

    func testEnsembleMembersDifferAndForecastAsOneArtifact() throws {
        var config = try smallConfig(steps: 2)
        config.members = 2
        config.model = ModelSpec(type: .unet, base: 4, depth: 2)
        let summary = try TrainingRun(config: config).run(resume: false)
        XCTAssertEqual(summary.members.map(\.seed), [config.seed, config.seed + 1])
        let forecaster = try EnsembleForecaster(modelFolder: summary.modelFolder)
        XCTAssertEqual(forecaster.members.count, 2)
        let plane = forecaster.artifact.data.ny * forecaster.artifact.data.nx
        var frames = (0..<3).map { t in (0..<plane).map { Float(($0 + t) % 7) } }
        frames[0][5] = .nan  // a missing input value is filled, not propagated
        let forecasts = try forecaster.forecast(frames)
        XCTAssertEqual(forecasts.count, 2)
        XCTAssertEqual(forecasts[0].count, 3)
        XCTAssertTrue(forecasts.allSatisfy { $0.allSatisfy { $0.count == plane && $0.allSatisfy { $0.isFinite && $0 >= 0 } } }, "physical rates")
        XCTAssertNotEqual(forecasts[0], forecasts[1], "members from different seeds differ")
        XCTAssertThrowsError(try forecaster.forecast(Array(frames.prefix(2)))) {
            XCTAssertEqual($0 as? ForecastError, .input(expected: "3 frames of 24 x 24 values", found: "2 of [576, 576]"))
        }
    }

    func testAFinishedRunRefusesToStartAgainAndResumingKeepsIt() throws {
        let config = try smallConfig(steps: 2)
        _ = try TrainingRun(config: config).run(resume: false)
        XCTAssertThrowsError(try TrainingRun(config: config).run(resume: false)) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
        var changed = config
        changed.optimizer.learningRate = 0.5
        XCTAssertThrowsError(try TrainingRun(config: changed).run(resume: true)) { XCTAssertTrue("\($0)".contains("'optimizer'"), "\($0)") }
        var messages: [String] = []
        let run = try TrainingRun(config: config)
        run.onMessage = { messages.append($0) }
        XCTAssertEqual(try run.run(resume: true).members.first?.steps, 2)
        XCTAssertTrue(messages.contains { $0.contains("finished earlier") }, "\(messages)")
    }

    func testConfigErrorsNameTheKey() throws {
        func fails(_ text: String, _ words: [String], line: UInt = #line) {
            XCTAssertThrowsError(try { let c = try TrainConfig.parse(text, source: "t.yaml"); try c.validate() }(), line: line) { error in
                let message = "\(error)"
                XCTAssertFalse(message.contains("\n"), line: line)
                for word in words { XCTAssertTrue(message.contains(word), "'\(message)' lacks '\(word)'", line: line) }
            }
        }
        fails("store: s\noutput: o\nstepz: 3\n", ["t.yaml", "unknown key 'stepz'"])
        fails("store: s\noutput: o\nmodel:\n  type: convlstm\n  hiden: [8]\n", ["unknown key 'model.hiden'"])
        fails("store: s\noutput: o\nsteps: many\n", ["steps", "whole number"])
        fails("store: s\noutput: o\nmodel:\n  type: transformer\n", ["model.type"])
        fails("store: s\noutput: o\noptimizer:\n  learning_rate: -1\n", ["optimizer.learning_rate"])
        fails("store: s\noutput: o\nvalidation:\n  score: csi:7\n", ["validation.score", "csi:7"])
        fails("output: o\n", ["store"])
        var config = try smallConfig(steps: 1)
        config.store = config.output + "/nowhere"
        XCTAssertThrowsError(try TrainingRun(config: config)) { XCTAssertTrue("\($0)".contains("nowhere"), "\($0)") }
        config = try smallConfig(steps: 1)
        config.model = ModelSpec(type: .unet, depth: 4)
        XCTAssertThrowsError(try TrainingRun(config: config).run(resume: false)) { XCTAssertTrue("\($0)".contains("divisible by 16"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output), "nothing is written for a config that cannot run")
    }

    func testTrainingOnTheBureauOfMeteorologySequenceScoresInMillimetresPerHour() throws {
        let archive = try TestPaths.sharedData("bom_nc_prcp-c10_66_20201031")
        let dir = try folder()
        var convert = ConvertConfig()
        convert.inputs = [archive]
        convert.output = dir + "/store"
        convert.transforms = ["rate:10", "dbr:0.1:-15", "zscore"]
        convert.window = WindowSpec(inputs: 3, targets: 3, stride: 2, coarsen: 8)
        convert.split = SplitSpec(blockHours: 2, validation: 0.25, test: 0, seed: 1)
        _ = try Converter(config: convert).run()
        var config = TrainConfig()
        config.store = convert.output
        config.output = dir + "/run"
        config.model = ModelSpec(type: .unet, base: 4, depth: 2)
        config.steps = 6
        config.batchSize = 4
        config.validation.thresholds = [0.5, 2]
        let report = try XCTUnwrap(try TrainingRun(config: config).run(resume: false).members.first?.validation)
        XCTAssertEqual(report.units, "mm h-1", "10-minute accumulations scored as rates")
        XCTAssertGreaterThan(report.samples, 0)
        XCTAssertTrue(report.loss.isFinite && report.persistenceLoss.isFinite)
        XCTAssertTrue(report.persistence.rootMeanSquaredError.isFinite && report.model.rootMeanSquaredError.isFinite)
        XCTAssertGreaterThan(report.persistence.criticalSuccessIndex(threshold: 0), 0, "rain above 0.5 mm/h is found")
    }

    func testTheExampleConfigIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/train.yaml").path
        let config = try TrainConfig.load(path: path)
        try config.validate()
        XCTAssertEqual(config.model, ModelSpec(type: .convlstm, hidden: [32, 32], kernel: 3))
        XCTAssertEqual(config.schedule.decay, .cosine)
        XCTAssertEqual(try config.selectionScore(), .rootMeanSquaredError)
        XCTAssertEqual(config.validation.thresholds, [0.5, 1, 5])
        XCTAssertEqual(try SelectionScore(parsing: "csi:1", thresholds: config.validation.thresholds), .criticalSuccessIndex(thresholdIndex: 1, threshold: 1))
    }

    func testMissingTargetsAreLeftOutOfTheLoss() throws {
        let batch = Batch(count: 1, inputs: [1, 2, 3, 4], targets: [1, .nan, 3, .nan], inputFrames: 1, targetFrames: 1, height: 2, width: 2)
        let tensors = try BatchTensors(batch, fill: MissingFill(value: 0))
        let loss = TrainingLoss(kind: .mse, intensityWeights: .hko7, transforms: TransformChain())
        // Prediction 2 everywhere: errors 1 and 1 at the two present targets, mean 1.
        let prediction = Variable(Tensor(shape: [1, 1, 1, 2, 2], repeating: 2), requiresGrad: true)
        let value = try loss(prediction, tensors)
        XCTAssertEqual(value.value.scalar ?? .nan, 1, accuracy: 1e-6)
        try value.backward()
        XCTAssertEqual(prediction.grad?.scalars, [1, 0, -1, 0], "d/dx of the mean over 2 present targets")
    }
}
