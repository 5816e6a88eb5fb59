import Foundation
import NowcastData
import NowcastIO
import NowcastModels
import NowcastNN
@testable import NowcastTrain
import XCTest
import NowcastTestSupport

/// Run folders a user can rely on: resuming needs a run, a damaged checkpoint is passed over for
/// the one before, a folder can be moved and resumed, and a run that fails before its first
/// checkpoint leaves nothing behind; the shards are checked before training starts.
final class RunFolderTests: XCTestCase {
    private static let store: Result<String, Error> = Result {
        try SyntheticData.store("runfolder", size: 32, frames: 40, seed: 8, window: WindowSpec(inputs: 2, targets: 2, patchSize: 16, patchStride: 16),
                           split: SplitSpec(blockHours: 1, validation: 0.3, test: 0, seed: 4), shardSize: 8)
    }

    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcastkit-runs") }

    private func config(output: String, store: String? = nil) throws -> TrainConfig {
        var config = TrainConfig()
        config.store = try store ?? Self.store.get()
        config.output = output
        config.model = ModelSpec(type: .convlstm, hidden: [4], kernel: 3)
        config.batchSize = 4
        config.steps = 10
        config.validation.every = 5
        config.checkpoint.every = 5
        config.checkpoint.keep = 5
        return config
    }

    private func weights(_ run: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: run + "/model/member-0.safetensors")) }

    /// Makes a finished run look killed after its checkpoint of step 5.
    private func rewind(_ run: String) throws {
        for path in ["model", "member-0/final.json", "member-0/checkpoints/step-00000010"] {
            try FileManager.default.removeItem(atPath: run + "/" + path)
        }
    }

    func testResumeNeedsARunToResume() throws {
        let dir = try folder()
        XCTAssertThrowsError(try TrainingRun(config: config(output: dir + "/absent")).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("nothing to resume") && "\($0)".contains("does not exist"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/absent"))
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        XCTAssertThrowsError(try TrainingRun(config: config(output: dir + "/empty")).run(resume: true)) {
            XCTAssertTrue("\($0)".contains("nothing to resume") && "\($0)".contains("no config.json"), "\($0)")
        }
    }

    func testADamagedLatestCheckpointFallsBackToTheOneBefore() throws {
        let dir = try folder()
        _ = try TrainingRun(config: config(output: dir + "/whole")).run(resume: false)
        for damage in ["truncate weights", "negative step", "infinite moment"] {
            let run = dir + "/" + damage.replacingOccurrences(of: " ", with: "-")
            _ = try TrainingRun(config: config(output: run)).run(resume: false)
            try FileManager.default.removeItem(atPath: run + "/model")
            try FileManager.default.removeItem(atPath: run + "/member-0/final.json")
            let latest = run + "/member-0/checkpoints/step-00000010"
            switch damage {
            case "truncate weights":
                let data = try Data(contentsOf: URL(fileURLWithPath: latest + "/weights.safetensors"))
                try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: latest + "/weights.safetensors"))
            case "negative step":
                let text = try String(contentsOfFile: latest + "/state.json", encoding: .utf8)
                try text.replacingOccurrences(of: "\"samplesSeen\" : ", with: "\"samplesSeen\" : -").write(toFile: latest + "/state.json", atomically: true, encoding: .utf8)
            default:
                let (tensors, metadata) = try SafeTensors.read(latest + "/optimizer.safetensors")
                var named = tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                named[0].1 = try Tensor(shape: named[0].1.shape, repeating: .infinity)
                try SafeTensors.write(named, metadata: metadata, to: latest + "/optimizer.safetensors")
            }
            var messages: [String] = []
            let resumed = try TrainingRun(config: config(output: run))
            resumed.onMessage = { messages.append($0) }
            _ = try resumed.run(resume: true)
            XCTAssertTrue(messages.contains { $0.hasPrefix("warning:") && $0.contains("step-00000010") }, "\(damage): \(messages)")
            XCTAssertTrue(messages.contains { $0.contains("resuming from step 5") }, "\(damage): \(messages)")
            XCTAssertEqual(try weights(run), try weights(dir + "/whole"), "\(damage): the same weights as an unhindered run")
        }
    }

    func testAMovedRunFolderResumes() throws {
        let dir = try folder()
        _ = try TrainingRun(config: config(output: dir + "/whole")).run(resume: false)
        _ = try TrainingRun(config: config(output: dir + "/first")).run(resume: false)
        try rewind(dir + "/first")
        try FileManager.default.moveItem(atPath: dir + "/first", toPath: dir + "/moved")
        let summary = try TrainingRun(config: config(output: dir + "/moved")).run(resume: true)
        XCTAssertEqual(summary.members[0].chosenCheckpoint.hasPrefix("member-0/checkpoints/"), true, summary.members[0].chosenCheckpoint)
        XCTAssertEqual(try weights(dir + "/moved"), try weights(dir + "/whole"))
    }

    func testARunThatFailsBeforeAnyCheckpointLeavesNoFolder() throws {
        let dir = try folder()
        var diverging = try config(output: dir + "/run")
        diverging.optimizer.type = .sgd
        diverging.optimizer.learningRate = 1e8
        diverging.checkpoint.every = 0
        diverging.validation.every = 0
        XCTAssertThrowsError(try TrainingRun(config: diverging).run(resume: false)) { XCTAssertTrue("\($0)".contains("not finite"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run"), "the same command can run again without --resume")
    }

    func testADamagedShardIsFoundBeforeTheFirstStep() throws {
        let dir = try folder()
        let store = dir + "/store"
        try FileManager.default.copyItem(atPath: try Self.store.get(), toPath: store)
        let manifest = try Manifest.load(from: store)
        let shard = try XCTUnwrap(manifest.shards["validation"]?.last)
        let path = store + "/" + shard.path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainingRun(config: config(output: dir + "/run", store: store)).run(resume: false)) {
            XCTAssertTrue("\($0)".contains(shard.path) && "\($0)".contains("validation"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run"))
    }
}
