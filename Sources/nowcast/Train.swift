import ArgumentParser
import Foundation
import NowcastData
import NowcastModels
import NowcastTrain
import NowcastVerify

/// Training options: a config file, and the common keys as flags overriding it.
struct TrainOptions: ParsableArguments {
    @Option(help: "YAML or JSON config file (see fixtures/train.yaml); flags override its keys.")
    var config: String?

    @Option(help: "Sample store folder (nowcast convert's output): store.")
    var store: String?

    @Option(name: [.short, .long], help: "Run folder (checkpoints, log, plot, trained model): output.")
    var output: String?

    @Option(help: "Seed of initialisation and shuffling (member k uses seed + k): seed.")
    var seed: UInt64?

    @Option(help: "Ensemble members, each trained from its own seed: members.")
    var members: Int?

    @Option(help: "Samples per batch: batch_size.")
    var batchSize: Int?

    @Option(help: "Samples held for shuffling: shuffle_buffer.")
    var shuffleBuffer: Int?

    @Option(help: "Optimiser steps per member (0: use --epochs): steps.")
    var steps: Int?

    @Option(help: "Passes over the training split when steps is 0: epochs.")
    var epochs: Int?

    @Option(help: "convlstm, convgru, unet or hybrid (an evolution equation with learned terms, docs/PHYSICS.md): model.type.")
    var model: ModelSpec.Kind?

    @Option(help: "Hidden channels per recurrent cell, comma-separated (e.g. 32,32): model.hidden.")
    var hidden: String?

    @Option(help: "Recurrent kernel size (odd): model.kernel.")
    var kernel: Int?

    @Option(help: "U-Net upsampling, nearest or bilinear: model.upsampling.")
    var upsampling: UpsamplingMode?

    @Option(help: "U-Net base channels: model.base.")
    var base: Int?

    @Option(help: "U-Net depth: model.depth.")
    var depth: Int?

    @Option(help: "Dropout rate before the output head (0-1; for MC-dropout forecast ensembles): model.dropout.")
    var dropout: Float?

    @Option(help: "Hybrid: the evolution equation of q with the motion u, v (default: dt(q) = -(u*dx(q) + v*dy(q)) + S(q)): model.equation.")
    var equation: String?

    @Option(name: .customLong("coefficient"), help: "Hybrid: a trainable coefficient of the equation and its initial value, NAME=VALUE (repeatable): model.coefficients.")
    var coefficients: [String] = []

    @Option(help: "Hybrid: what lies beyond the grid's edges, zero-gradient, replicate, periodic or fixed:VALUE: model.boundary.")
    var boundary: String?

    @Option(help: "Hybrid: the largest motion in pixels per frame (sets the sub-steps; default 4): model.max_speed.")
    var maxSpeed: Float?

    @Option(help: "Hybrid: where the motion comes from, network (a U-Net, learned; default) or lucas-kanade (estimated from the input frames): model.motion.")
    var hybridMotion: HybridMotion?

    @Option(help: "Hybrid: how the motion moves the rain, finite-differences (through the equation; default) or semi-lagrangian (a warp per frame; the equation holds the rest, e.g. dt(q) = S(q)): model.advection.")
    var advection: HybridAdvection?

    @Option(help: "Hybrid: the neural terms' networks, unet (default) or convlstm (reads the input frames, then steps once a frame; hidden channels from --hidden): model.term_network.")
    var termNetwork: HybridTermNetwork?

    @Option(help: "mse, mae, logcosh, weighted_mse or weighted_mae: loss.")
    var loss: TrainConfig.Loss?

    @Option(help: "adam, adamw or sgd: optimizer.type.")
    var optimizer: TrainConfig.OptimizerSettings.Kind?

    @Option(help: "Learning rate: optimizer.learning_rate.")
    var learningRate: Float?

    @Option(help: "Weight decay (L2 for adam and sgd, decoupled for adamw): optimizer.weight_decay.")
    var weightDecay: Float?

    @Option(help: "SGD momentum: optimizer.momentum.")
    var momentum: Float?

    @Flag(help: "SGD with Nesterov momentum: optimizer.nesterov.")
    var nesterov = false

    @Option(help: "Thresholds of the weighted losses, comma-separated, physical units: loss_weights.thresholds.")
    var lossThresholds: String?

    @Option(help: "Weights of the weighted losses, one more than thresholds, comma-separated: loss_weights.weights.")
    var lossWeights: String?

    @Option(help: "Linear warm-up steps: schedule.warmup_steps.")
    var warmupSteps: Int?

    @Option(help: "constant, cosine or step: schedule.decay.")
    var decay: TrainConfig.ScheduleSettings.Decay?

    @Option(help: "Cosine decay: the rate at the last step: schedule.minimum_rate.")
    var minimumRate: Float?

    @Option(help: "Step decay: steps between reductions: schedule.every.")
    var decayEvery: Int?

    @Option(help: "Step decay: factor of each reduction: schedule.factor.")
    var decayFactor: Float?

    @Option(help: "Steps between run-log lines: log_every.")
    var logEvery: Int?

    @Option(help: "Batches per validation, 0 for the whole split: validation.max_batches.")
    var validationBatches: Int?

    @Option(help: "CSI thresholds, comma-separated, physical units: validation.thresholds.")
    var thresholds: String?

    @Option(help: "Largest global gradient norm, 0 for none: clip_norm.")
    var clipNorm: Float?

    @Option(help: "Steps between validations: validation.every.")
    var validateEvery: Int?

    @Option(help: "Score that picks the best checkpoint (loss, mae, rmse, csi:T): validation.score.")
    var score: String?

    @Option(help: "Validations without improvement before stopping, 0 for never: validation.patience.")
    var patience: Int?

    @Option(help: "Steps between checkpoints: checkpoint.every.")
    var checkpointEvery: Int?

    @Option(help: "Checkpoints kept besides the best: checkpoint.keep.")
    var keep: Int?

    /// The config file with the flags applied.
    func resolved() throws -> TrainConfig {
        var c = try config.map(TrainConfig.load) ?? TrainConfig()
        if let store { c.store = store }
        if let output { c.output = output }
        if let seed { c.seed = seed }
        if let members { c.members = members }
        if let batchSize { c.batchSize = batchSize }
        if let shuffleBuffer { c.shuffleBuffer = shuffleBuffer }
        if let steps { c.steps = steps }
        if let epochs { c.epochs = epochs }
        if let model { c.model.type = model }
        if let hidden { c.model.hidden = try numberList(hidden, flag: "--hidden", example: "32,32") }
        if let kernel { c.model.kernel = kernel }
        if let upsampling { c.model.upsampling = upsampling }
        if let base { c.model.base = base }
        if let depth { c.model.depth = depth }
        if let dropout { c.model.dropout = dropout }
        if let equation { c.model.equation = equation }
        for text in coefficients {
            let (name, value) = try namedNumber(text, flag: "--coefficient", example: "k=0.05")
            c.model.coefficients[name] = value
        }
        if let boundary { c.model.boundary = boundary }
        if let maxSpeed { c.model.maxSpeed = maxSpeed }
        if let hybridMotion { c.model.motion = hybridMotion }
        if let advection { c.model.advection = advection }
        if let termNetwork { c.model.termNetwork = termNetwork }
        if let loss { c.loss = loss }
        if let optimizer { c.optimizer.type = optimizer }
        if let learningRate { c.optimizer.learningRate = learningRate }
        if let weightDecay { c.optimizer.weightDecay = weightDecay }
        if let momentum { c.optimizer.momentum = momentum }
        if nesterov { c.optimizer.nesterov = true }
        if let lossThresholds { c.lossWeights.thresholds = try numberList(lossThresholds, flag: "--loss-thresholds", example: "0.5,2,5,10,30") }
        if let lossWeights { c.lossWeights.weights = try numberList(lossWeights, flag: "--loss-weights", example: "1,2,5,10,30,50") }
        if let warmupSteps { c.schedule.warmupSteps = warmupSteps }
        if let decay { c.schedule.decay = decay }
        if let minimumRate { c.schedule.minimumRate = minimumRate }
        if let decayEvery { c.schedule.every = decayEvery }
        if let decayFactor { c.schedule.factor = decayFactor }
        if let logEvery { c.logEvery = logEvery }
        if let validationBatches { c.validation.maxBatches = validationBatches }
        if let thresholds { c.validation.thresholds = try numberList(thresholds, flag: "--thresholds", example: "0.5,1,5") }
        if let clipNorm { c.clipNorm = clipNorm }
        if let validateEvery { c.validation.every = validateEvery }
        if let score { c.validation.score = score }
        if let patience { c.validation.patience = patience }
        if let checkpointEvery { c.checkpoint.every = checkpointEvery }
        if let keep { c.checkpoint.keep = keep }
        return c
    }
}

extension ModelSpec.Kind: ExpressibleByArgument {}
extension UpsamplingMode: ExpressibleByArgument {}
extension TrainConfig.ScheduleSettings.Decay: ExpressibleByArgument {}
extension TrainConfig.Loss: ExpressibleByArgument {}
extension TrainConfig.OptimizerSettings.Kind: ExpressibleByArgument {}

/// `nowcast train`: trains a model (or a deep ensemble) on a sample store.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a nowcasting model on a sample store: validation against persistence, checkpoints, exact resume, deep ensembles.",
        discussion: helpExamples("nowcast train --config fixtures/train.yaml",
                                 "nowcast train --store /data/stores/2023 -o /data/runs/convlstm --model convlstm --hidden 32,32 --steps 2000",
                                 "nowcast train --store /data/stores/2023 -o /data/runs/hybrid --model hybrid --equation 'dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q) + S(q)' --coefficient k=0.05 --steps 2000",
                                 "nowcast train --config fixtures/train.yaml --resume"))

    @OptionGroup var options: TrainOptions

    @Flag(help: "Continue the run in the output folder from its latest checkpoints.")
    var resume = false

    func run() throws {
        let config = try options.resolved()
        let run = try TrainingRun(config: config)
        var progress: Progress?
        var progressMember = -1
        run.onMessage = { printError($0) }
        run.onProgress = { p in
            if p.member != progressMember {
                progressMember = p.member
                progress = Progress(p.members > 1 ? "member \(p.member + 1)/\(p.members)" : "train", total: p.totalSteps, unit: "steps", initial: p.step - 1)
            }
            progress?.update(p.step, detail: String(format: "loss %.4g  %.1f samples/s", p.loss, p.samplesPerSecond))
        }
        run.onValidation = { _, report in
            printError(String(format: "validation at step %d: loss %.4g (persistence %.4g), MAE %.3f (%.3f), RMSE %.3f (%.3f)", report.step,
                              report.loss, report.persistenceLoss, report.model.meanAbsoluteError, report.persistence.meanAbsoluteError,
                              report.model.rootMeanSquaredError, report.persistence.rootMeanSquaredError))
        }
        let summary = try run.run(resume: resume)
        let minutes = run.store.manifest.stepSeconds / 60
        for result in summary.members {
            print("member \(result.member): seed \(result.seed), \(result.steps) steps, \(result.samplesSeen) samples, "
                + String(format: "%.1f samples/s", result.samplesPerSecond) + (result.stoppedEarly ? ", stopped early" : "")
                + ", weights of step \(result.chosenStep)")
            if let report = result.validation {
                print(Self.table(report, minutesPerStep: minutes))
            } else {
                print("  (the store has no validation samples: no scores)")
            }
        }
        print("model      \(summary.modelFolder) (\(summary.members.count) member\(summary.members.count == 1 ? "" : "s"), \(config.model.summary))")
        print("run log    \((config.output as NSString).appendingPathComponent("member-*/log.jsonl")), plots member-*/progress.svg")
        print("peak RSS   \(peakResidentMegabytes()) MB")
    }

    /// The validation table: per lead time, the model's scores beside persistence's.
    static func table(_ r: ValidationReport, minutesPerStep: Double) -> String {
        func f(_ v: Double) -> String { v.isFinite ? String(format: "%.3f", v) : "-" }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let (model, persistence) = (r.model, r.persistence)
        let thresholds = model.thresholds
        let names = ["MAE", "RMSE"] + thresholds.map { "CSI \(LeadTimeScores.label(threshold: $0))" }
        func row(_ label: String, _ pairs: [(Double, Double)]) -> String {
            right(label, 9) + pairs.map { right("\(f($0.0)) / \(f($0.1))", 22) }.joined()
        }
        func scores(_ lead: Int?) -> [(Double, Double)] {
            guard let lead else {
                return [(model.meanAbsoluteError, persistence.meanAbsoluteError), (model.rootMeanSquaredError, persistence.rootMeanSquaredError)]
                    + thresholds.indices.map { (model.criticalSuccessIndex(threshold: $0), persistence.criticalSuccessIndex(threshold: $0)) }
            }
            return [(model.meanAbsoluteError(lead: lead), persistence.meanAbsoluteError(lead: lead)),
                    (model.rootMeanSquaredError(lead: lead), persistence.rootMeanSquaredError(lead: lead))]
                + thresholds.indices.map { (model.criticalSuccessIndex(lead: lead, threshold: $0), persistence.criticalSuccessIndex(lead: lead, threshold: $0)) }
        }
        var lines = [String(format: "  validation at step %d on %d samples, %@: loss %.4g, persistence %.4g", r.step, r.samples, r.units, r.loss, r.persistenceLoss),
                     right("lead", 9) + names.map { right("\($0) model / pers.", 22) }.joined()]
        for lead in 0..<model.leadTimes { lines.append(row(String(format: "%.0f min", Double(lead + 1) * minutesPerStep), scores(lead))) }
        lines.append(row("all", scores(nil)))
        return lines.joined(separator: "\n")
    }
}

extension HybridMotion: ExpressibleByArgument {}
extension HybridAdvection: ExpressibleByArgument {}
extension HybridTermNetwork: ExpressibleByArgument {}
