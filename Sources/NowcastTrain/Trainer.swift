import Foundation
import NowcastCore
import NowcastData
import NowcastIO
import NowcastModels
import NowcastNN
import NowcastVerify

/// Progress of a training run, reported after every step.
public struct TrainProgress: Sendable {
    public var member: Int
    public var members: Int
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Float
    /// Training samples per second over the recent steps (data handling included).
    public var samplesPerSecond: Double
}

/// How one member's training ended.
public struct MemberResult: Codable, Sendable {
    public var member: Int
    public var seed: UInt64
    public var steps: Int
    public var samplesSeen: Int
    /// Training samples per second over the whole run, data handling included; validation,
    /// checkpoints and the first two (warm-up) steps of each invocation not (as `bench train`
    /// counts), unless there were no other steps.
    public var samplesPerSecond: Double
    public var stoppedEarly: Bool
    /// The checkpoint whose weights the trained model uses (the best one when validation ran),
    /// relative to the run folder.
    public var chosenCheckpoint: String
    public var chosenStep: Int
    public var bestScore: Double?
    /// The validation report of the chosen checkpoint (nil when the store has no validation split).
    public var validation: ValidationReport?
}

/// Trains one member of a run: streams batches, steps the optimiser, validates, writes checkpoints,
/// resumes exactly from the latest one.
public final class Trainer {
    public let config: TrainConfig
    public let member: Int
    /// The member's folder (checkpoints, log, plot).
    public let folder: String
    public let store: SampleStore
    public let model: SequenceModel
    private var optimizer: Optimizer
    private let stream: BatchStream
    private let validator: Validator
    private let loss: TrainingLoss
    private let fill: MissingFill
    private let schedule: LearningRateSchedule
    private let score: SelectionScore

    /// Called after every step.
    public var onProgress: ((TrainProgress) -> Void)?
    /// Called after every validation.
    public var onValidation: ((ValidationReport) -> Void)?
    /// Messages for the user (resuming, early stopping).
    public var onMessage: ((String) -> Void)?

    /// Optimiser steps of the member's whole run.
    public let totalSteps: Int

    /// Member `member` of the run `config` describes, on `store`.
    public init(config: TrainConfig, store: SampleStore, member: Int) throws {
        try config.validate()
        self.config = config
        self.member = member
        self.store = store
        folder = (config.output as NSString).appendingPathComponent("member-\(member)")
        let layout = store.manifest.layout
        let seed = config.seed &+ UInt64(member)
        model = try config.model.make(inputFrames: layout.inputs, outputFrames: layout.targets, seed: seed)
        if let problem = model.gridProblem(height: layout.ny, width: layout.nx) { throw problem }
        optimizer = Self.optimizer(config.optimizer)
        stream = try BatchStream(store: store, options: BatchStreamOptions(split: .train, batchSize: config.batchSize,
                                                                          shuffleBuffer: config.shuffleBuffer, seed: seed))
        totalSteps = config.steps > 0 ? config.steps : config.epochs * stream.batchesPerEpoch
        loss = TrainingLoss(kind: config.loss, intensityWeights: config.lossWeights, transforms: store.manifest.transforms)
        fill = MissingFill(transforms: store.manifest.transforms)
        validator = Validator(store: store, batchSize: config.batchSize, maxBatches: config.validation.maxBatches,
                              thresholds: config.validation.thresholds, loss: loss, fill: fill)
        let s = config.schedule
        let decay: LearningRateSchedule.Decay
        switch s.decay {
        case .constant: decay = .constant
        case .cosine: decay = .cosine(totalSteps: totalSteps, minimum: s.minimumRate)
        case .step: decay = .step(every: s.every, factor: s.factor)
        }
        schedule = LearningRateSchedule(baseRate: config.optimizer.learningRate, warmupSteps: s.warmupSteps, decay: decay)
        score = try config.selectionScore()
    }

    static func optimizer(_ settings: TrainConfig.OptimizerSettings) -> Optimizer {
        switch settings.type {
        case .adam: return Adam(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        case .adamw: return Adam.adamW(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        case .sgd: return SGD(learningRate: settings.learningRate, momentum: settings.momentum, nesterov: settings.nesterov, weightDecay: settings.weightDecay)
        }
    }

    private var finalPath: String { (folder as NSString).appendingPathComponent("final.json") }

    /// The result of a member that finished in an earlier invocation, if any.
    public func finishedResult() -> MemberResult? {
        FileManager.default.contents(atPath: finalPath).flatMap { try? JSONCoding.decoder().decode(MemberResult.self, from: $0) }
    }

    /// Trains to the end (or early stop); with `resume`, continues from the latest checkpoint.
    /// Each step: a batch, the optimiser step, then validation and a checkpoint when due.
    public func run(resume: Bool) throws -> MemberResult {
        try FileError.createFolder(folder)
        var (state, lastCheckpoint) = resume ? try resumedState() : (TrainerState(seed: config.seed &+ UInt64(member)), nil)
        let log = try RunLog(path: (folder as NSString).appendingPathComponent("log.jsonl"), keepingThrough: lastCheckpoint == nil ? nil : state.step)
        var iterator = stream.epoch(state.epoch, skippingBatches: state.batchInEpoch)
        var meter = StepMeter()
        while state.step < totalSteps && !state.stoppedEarly {
            let started = DispatchTime.now().uptimeNanoseconds
            guard let batch = try iterator.next() else {
                state.epoch += 1
                state.batchInEpoch = 0
                iterator = stream.epoch(state.epoch)
                continue
            }
            let step = try trainingStep(batch, state: &state, lastCheckpoint: lastCheckpoint)
            meter.record(samples: batch.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, loss: step.loss, state: &state)
            try report(step, meter: &meter, state: state, log: log)
            let improved = try validateIfDue(&state, log: log)
            try checkpointIfDue(&state, improved: improved, lastCheckpoint: &lastCheckpoint)
        }
        return try finish(state, lastCheckpoint: lastCheckpoint)
    }

    /// The state of the newest intact checkpoint and its path (a damaged one is named and passed
    /// over); a fresh state when there is none; an error when there are checkpoints but none reads.
    private func resumedState() throws -> (TrainerState, String?) {
        let checkpoints = Checkpoint.list(in: folder)
        for checkpoint in checkpoints.reversed() {
            do {
                let state = try Checkpoint.load(checkpoint.path, step: checkpoint.step, model: model, optimizer: &optimizer)
                onMessage?("member \(member): resuming from step \(state.step) of \(totalSteps) (\(checkpoint.path))")
                return (state, checkpoint.path)
            } catch {
                onMessage?("warning: member \(member): \(oneLine(error)); trying the checkpoint before it")
            }
        }
        guard checkpoints.isEmpty else {
            throw TrainError.checkpoint(path: (folder as NSString).appendingPathComponent("checkpoints"),
                                        detail: "none of its \(checkpoints.count) checkpoints can be read; remove \(folder) to train this member again")
        }
        return (TrainerState(seed: config.seed &+ UInt64(member)), nil)
    }

    /// What one optimiser step gives the log.
    private struct StepValues {
        let loss: Double
        let gradientNorm: Float
        let learningRate: Float
    }

    /// Forward, loss, backward, clipping and the optimiser step on one batch; a loss or gradient
    /// norm that is not finite stops the run.
    private func trainingStep(_ batch: Batch, state: inout TrainerState, lastCheckpoint: String?) throws -> StepValues {
        let parameters = model.parameters
        let tensors = try BatchTensors(batch, fill: fill)
        let rate = schedule.rate(at: state.step)
        optimizer.learningRate = rate
        parameters.forEach { $0.zeroGrad() }
        // Dropout masks drawn from (member seed, step): a resumed run draws the same ones.
        if model.dropoutRate > 0 { model.dropoutDraws = SeededGenerator(seed: state.seed, stream: UInt64(state.step)) }
        defer { model.dropoutDraws = nil }
        let value = try loss(try model.forecastSequence(Variable(tensors.inputs)), tensors)
        let lossValue = Double(value.value.scalar ?? .nan)
        guard lossValue.isFinite else { throw TrainError.nonFinite(member: member, step: state.step + 1, quantity: "loss", lastCheckpoint: lastCheckpoint) }
        try value.backward()
        let norm = clipGradients(parameters, maxNorm: config.clipNorm > 0 ? config.clipNorm : .infinity)
        guard norm.isFinite else {
            throw TrainError.nonFinite(member: member, step: state.step + 1, quantity: "gradient norm", lastCheckpoint: lastCheckpoint)
        }
        try optimizer.step(parameters)
        state.step += 1
        state.batchInEpoch += 1
        state.samplesSeen += batch.count
        return StepValues(loss: lossValue, gradientNorm: norm, learningRate: rate)
    }

    /// Step timings and the loss since the last log line. The first two steps of an invocation warm
    /// the kernels up and are left out of the run's throughput; progress shows the last 20 steps'.
    private struct StepMeter {
        private var recent: [(samples: Int, seconds: Double)] = []
        private var stepsHere = 0
        private(set) var windowLoss = 0.0, windowSteps = 0

        mutating func record(samples: Int, seconds: Double, loss: Double, state: inout TrainerState) {
            stepsHere += 1
            state.allStepSeconds += seconds
            if stepsHere > 2 {
                state.trainSeconds += seconds
                state.timedSamples += samples
            }
            recent.append((samples, seconds))
            if recent.count > 20 { recent.removeFirst() }
            windowLoss += loss
            windowSteps += 1
        }

        var samplesPerSecond: Double {
            Double(recent.reduce(0) { $0 + $1.samples }) / max(1e-9, recent.reduce(0) { $0 + $1.seconds })
        }

        mutating func startWindow() { (windowLoss, windowSteps) = (0, 0) }
    }

    /// Progress after every step; a log line every `log_every` steps and at the last.
    private func report(_ step: StepValues, meter: inout StepMeter, state: TrainerState, log: RunLog) throws {
        let samplesPerSecond = meter.samplesPerSecond
        onProgress?(TrainProgress(member: member, members: config.members, step: state.step, totalSteps: totalSteps, loss: step.loss,
                                  learningRate: step.learningRate, samplesPerSecond: samplesPerSecond))
        guard state.step % config.logEvery == 0 || state.step == totalSteps else { return }
        try log.append(["event": "train", "member": member, "step": state.step, "epoch": state.epoch,
                        "loss": meter.windowLoss / Double(meter.windowSteps), "lr": Double(step.learningRate),
                        "grad_norm": Double(step.gradientNorm), "samples_per_s": samplesPerSecond])
        meter.startWindow()
    }

    /// Validates every `validation.every` steps and at the last (when the store has a validation
    /// split): logs and plots the report, keeps the best score and stops early after `patience`
    /// validations without improvement. True when the score improved.
    private func validateIfDue(_ state: inout TrainerState, log: RunLog) throws -> Bool {
        let due = (config.validation.every > 0 && state.step % config.validation.every == 0) || state.step == totalSteps
        guard due, validator.available > 0 else { return false }
        let report = try validator.run(model, step: state.step)
        try log.append(Self.record(report, member: member))
        onValidation?(report)
        let value = report.value(of: score)
        let improved = value.isFinite && (state.bestScore.map { score.higherIsBetter ? value > $0 : value < $0 } ?? true)
        if improved {
            (state.bestScore, state.bestStep, state.bestReport, state.staleValidations) = (value, state.step, report, 0)
        } else {
            state.staleValidations += 1
            if config.validation.patience > 0 && state.staleValidations >= config.validation.patience {
                state.stoppedEarly = true
                onMessage?("member \(member): stopping early at step \(state.step): \(score) has not improved on \(state.bestScore ?? .nan) "
                    + "(step \(state.bestStep ?? 0)) for \(state.staleValidations) validations")
            }
        }
        try writePlot(log)
        return improved
    }

    /// Writes a checkpoint every `checkpoint.every` steps, when the score improved, at the last step
    /// and on early stop; prunes to `checkpoint.keep`, keeping the best.
    private func checkpointIfDue(_ state: inout TrainerState, improved: Bool, lastCheckpoint: inout String?) throws {
        let periodic = config.checkpoint.every > 0 && state.step % config.checkpoint.every == 0
        guard periodic || improved || state.step == totalSteps || state.stoppedEarly else { return }
        lastCheckpoint = try writeCheckpoint(state, lastCheckpoint: lastCheckpoint)
        Checkpoint.prune(in: folder, keep: config.checkpoint.keep, protect: state.bestStep)
    }

    /// A checkpoint of the current weights and state; weights that are not finite stop the run instead.
    private func writeCheckpoint(_ state: TrainerState, lastCheckpoint: String?) throws -> String {
        guard model.parameters.allSatisfy({ $0.value.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }) else {
            throw TrainError.nonFinite(member: member, step: state.step, quantity: "weights", lastCheckpoint: lastCheckpoint)
        }
        return try Checkpoint.write(in: folder, state: state, model: model, optimizer: optimizer, config: config, transforms: store.manifest.transforms)
    }

    /// The member's result, written to `final.json`, after a last checkpoint when the final step has none.
    private func finish(_ state: TrainerState, lastCheckpoint: String?) throws -> MemberResult {
        if lastCheckpoint == nil || Checkpoint.list(in: folder).last?.step != state.step {
            _ = try writeCheckpoint(state, lastCheckpoint: lastCheckpoint)
        }
        let chosenStep = state.bestStep ?? state.step
        // Relative to the run folder, so that the folder can be moved or copied and still resumed.
        let chosen = "member-\(member)/checkpoints/\(Checkpoint.folderName(step: chosenStep))"
        let result = MemberResult(member: member, seed: state.seed, steps: state.step, samplesSeen: state.samplesSeen,
                                  samplesPerSecond: state.trainSeconds > 0 ? Double(state.timedSamples) / state.trainSeconds
                                      : Double(state.samplesSeen) / max(1e-9, state.allStepSeconds), stoppedEarly: state.stoppedEarly,
                                  chosenCheckpoint: chosen, chosenStep: chosenStep, bestScore: state.bestScore,
                                  validation: state.bestReport)
        try JSONCoding.write(result, to: finalPath)
        return result
    }

    private func writePlot(_ log: RunLog) throws {
        let figure = ProgressPlot.figure(title: "member \(member): \(config.model.summary), \(config.loss.rawValue) loss",
                                         training: log.trainingLoss, validation: log.validationLoss)
        try AtomicOutput.write(try figure.render(.svg), to: (folder as NSString).appendingPathComponent("progress.svg"))
    }

    /// A validation report as a log record.
    static func record(_ report: ValidationReport, member: Int) -> [String: Any] {
        ["event": "validation", "member": member, "step": report.step, "samples": report.samples, "loss": report.loss,
         "persistence_loss": report.persistenceLoss, "model": report.model.logRecord, "persistence": report.persistence.logRecord]
    }
}

extension LeadTimeScores {
    /// The scores as a log record: over all lead times, and per lead time.
    var logRecord: [String: Any] {
        let leads = 0..<leadTimes
        var csi: [String: Any] = [:], csiByLead: [String: Any] = [:]
        for (k, threshold) in thresholds.enumerated() {
            let key = Self.label(threshold: threshold)
            csi[key] = criticalSuccessIndex(threshold: k)
            csiByLead[key] = leads.map { criticalSuccessIndex(lead: $0, threshold: k) }
        }
        return ["mae": meanAbsoluteError, "rmse": rootMeanSquaredError, "csi": csi,
                "mae_by_lead": leads.map { meanAbsoluteError(lead: $0) }, "rmse_by_lead": leads.map { rootMeanSquaredError(lead: $0) },
                "csi_by_lead": csiByLead]
    }
}
