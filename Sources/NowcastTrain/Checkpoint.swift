import Foundation
import NowcastCore
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

    /// What is wrong with a state read back from a checkpoint of `step`, or nil.
    func problem(step expected: Int) -> String? {
        if step != expected { return "step \(step), but the checkpoint is of step \(expected)" }
        for (name, value) in [("epoch", epoch), ("batchInEpoch", batchInEpoch), ("samplesSeen", samplesSeen),
                              ("staleValidations", staleValidations), ("timedSamples", timedSamples)] where value < 0 {
            return "\(name) is \(value); expected 0 or more"
        }
        if let best = bestStep, best < 0 || best > step { return "bestStep is \(best); expected 0 to \(step)" }
        if let score = bestScore, !score.isFinite { return "bestScore is \(score); expected a finite score" }
        for (name, value) in [("trainSeconds", trainSeconds), ("allStepSeconds", allStepSeconds)] where !(value.isFinite && value >= 0) {
            return "\(name) is \(value); expected 0 or more seconds"
        }
        return nil
    }
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

    /// Loads the checkpoint `folder` (of step `step`) into `model` and `optimizer`; returns the
    /// trainer state. Everything is read and checked before anything is changed: the state's values
    /// (its step that of the folder, no negative count), every weight and optimiser moment finite.
    static func load(_ folder: String, step: Int, model: SequenceModel, optimizer: inout Optimizer) throws -> TrainerState {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func damaged(_ detail: String) -> TrainError { .checkpoint(path: folder, detail: detail) }
        let weights: [String: Tensor], saved: (tensors: [String: Tensor], metadata: [String: String])
        do {
            weights = try SafeTensors.read(path("weights.safetensors")).tensors
            saved = try SafeTensors.read(path("optimizer.safetensors"))
        } catch { throw damaged(oneLine(error)) }
        guard let steps = saved.metadata["steps"].flatMap({ Int($0) }), steps >= 0 else {
            throw damaged("optimizer.safetensors has no step count ('steps') in its metadata")
        }
        let state: TrainerState
        do {
            guard let read = try JSONCoding.read(TrainerState.self, from: path("state.json")) else { throw damaged("state.json is missing") }
            state = read
        } catch let error as TrainError { throw error } catch {
            throw damaged("state.json is not a readable trainer state (\(oneLine(error)))")
        }
        if let problem = state.problem(step: step) { throw damaged("state.json: \(problem)") }
        for (name, tensor) in weights.sorted(by: { $0.key < $1.key }) + saved.tensors.sorted(by: { $0.key < $1.key })
        where !tensor.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) {
            throw damaged("'\(name)' holds values that are not finite")
        }
        do {
            try optimizer.restore(OptimizerState(steps: steps, tensors: saved.tensors.map { ($0.key, $0.value) }), parameters: model.parameters)
            try model.load(weights, source: path("weights.safetensors"))
        } catch { throw damaged(oneLine(error)) }
        return state
    }

    /// Removes all but the newest `keep` checkpoints, never the one at step `protect`.
    static func prune(in member: String, keep: Int, protect: Int?) {
        let all = list(in: member)
        for (step, path) in all.dropLast(keep) where step != protect { try? FileManager.default.removeItem(atPath: path) }
    }
}
