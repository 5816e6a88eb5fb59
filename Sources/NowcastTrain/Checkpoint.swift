import Foundation
import NowcastData
import NowcastIO
import NowcastModels
import NowcastNN

/// Where a member's training stands: what a checkpoint must hold, besides weights and optimiser
/// state, for a resumed run to continue exactly. Every random choice after initialisation is the
/// batch order, a function of (seed, epoch), so the stream position is the generator state.
public struct TrainerState: Codable, Equatable, Sendable {
    /// The member's seed (initialisation and shuffling).
    public var seed: UInt64
    /// Optimiser steps taken.
    public var step = 0
    /// The epoch being streamed (0-based).
    public var epoch = 0
    /// Batches of `epoch` already used.
    public var batchInEpoch = 0
    /// Training samples seen.
    public var samplesSeen = 0
    /// Best validation score so far, and the step it was reached at.
    public var bestScore: Double?
    public var bestStep: Int?
    /// The validation report of the best step.
    public var bestReport: ValidationReport?
    /// Validations since the best one (early stopping).
    public var staleValidations = 0
    /// True once early stopping ended the run.
    public var stoppedEarly = false
    /// Seconds spent in timed training steps (data handling included; validation, checkpoints and
    /// the first two steps of each invocation, which warm the kernels up, not), and their samples.
    public var trainSeconds = 0.0
    public var timedSamples = 0
    /// Seconds of every training step, warm-up included.
    public var allStepSeconds = 0.0

    public init(seed: UInt64) { self.seed = seed }
}

/// A checkpoint folder, `checkpoints/step-00000100/`: `weights.safetensors`, `optimizer.safetensors`,
/// `state.json`, `config.json` and `transforms.json`. Written with `AtomicOutput.writeFolder`, so a
/// killed run leaves whole checkpoints only.
enum Checkpoint {
    static func folderName(step: Int) -> String { String(format: "step-%08d", step) }

    /// Checkpoints of a member folder, oldest first.
    static func list(in member: String) -> [(step: Int, path: String)] {
        let folder = (member as NSString).appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            return (step, (folder as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Writes a checkpoint of the current state; returns its folder.
    @discardableResult
    static func write(in member: String, state: TrainerState, model: SequenceModel, optimizer: Optimizer, config: TrainConfig,
                      transforms: TransformChain) throws -> String {
        let folder = (member as NSString).appendingPathComponent("checkpoints")
        try FileError.createFolder(folder)
        let final = (folder as NSString).appendingPathComponent(folderName(step: state.step))
        try AtomicOutput.writeFolder(final) { temporary in
            func path(_ name: String) -> String { (temporary as NSString).appendingPathComponent(name) }
            try SafeTensors.write(model.namedParameters, metadata: ["model": try JSONCoding.text(config.model), "step": String(state.step)],
                                  to: path("weights.safetensors"))
            let optimizerState = optimizer.state
            try SafeTensors.write(optimizerState.tensors, metadata: ["steps": String(optimizerState.steps)], to: path("optimizer.safetensors"))
            try JSONCoding.write(state, to: path("state.json"))
            try JSONCoding.write(config, to: path("config.json"))
            try JSONCoding.write(transforms, to: path("transforms.json"))
        }
        return final
    }

    /// Loads a checkpoint into `model` and `optimizer`; returns the trainer state.
    static func load(_ folder: String, model: SequenceModel, optimizer: inout Optimizer) throws -> TrainerState {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let weights = try SafeTensors.read(path("weights.safetensors"))
        try model.load(weights.tensors, source: path("weights.safetensors"))
        let saved = try SafeTensors.read(path("optimizer.safetensors"))
        guard let steps = saved.metadata["steps"].flatMap(Int.init) else {
            throw TrainError.checkpoint(path: folder, detail: "optimizer.safetensors has no 'steps' in its metadata")
        }
        try optimizer.restore(OptimizerState(steps: steps, tensors: saved.tensors.map { ($0.key, $0.value) }), parameters: model.parameters)
        guard let data = FileManager.default.contents(atPath: path("state.json")) else {
            throw TrainError.checkpoint(path: folder, detail: "state.json is missing")
        }
        do { return try JSONCoding.decoder().decode(TrainerState.self, from: data) } catch {
            throw TrainError.checkpoint(path: folder, detail: "state.json is not a readable trainer state (\(oneLine(error)))")
        }
    }

    /// Removes all but the newest `keep` checkpoints, never the one at step `protect`.
    static func prune(in member: String, keep: Int, protect: Int?) {
        let all = list(in: member)
        for (step, path) in all.dropLast(keep) where step != protect { try? FileManager.default.removeItem(atPath: path) }
    }
}
