import Foundation
import NowcastData
import NowcastModels
import NowcastNN
import NowcastVerify

/// Configuration of `nowcast train`, from YAML or JSON (the common keys also have flags). Keys are
/// snake_case; every key but `store` and `output` has a default; an unknown key or a value of the
/// wrong type is an error naming the key.
public struct TrainConfig: Codable, Equatable, Sendable, ConfigFileDecodable {
    /// The training loss, computed in the store's (transformed) units; missing targets are left out.
    public enum Loss: String, Codable, Sendable, CaseIterable {
        case mse, mae, logcosh
        /// HKO-7 balanced losses: weights by the target's physical intensity (`loss_weights`).
        case weightedMSE = "weighted_mse", weightedMAE = "weighted_mae"
    }

    /// The optimiser.
    public struct OptimizerSettings: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable, CaseIterable { case adam, adamw, sgd }
        public var type: Kind = .adam
        public var learningRate: Float = 1e-3
        public var weightDecay: Float = 0
        /// SGD only.
        public var momentum: Float = 0.9
        /// SGD only.
        public var nesterov: Bool = false

        public init() {}
        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, momentum, nesterov
            case learningRate = "learning_rate", weightDecay = "weight_decay"
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(Kind.self, forKey: .type) ?? type
            learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? learningRate
            weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? weightDecay
            momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? momentum
            nesterov = try c.decodeIfPresent(Bool.self, forKey: .nesterov) ?? nesterov
        }
    }

    /// The learning-rate schedule over the run's steps.
    public struct ScheduleSettings: Codable, Equatable, Sendable {
        public enum Decay: String, Codable, Sendable, CaseIterable { case constant, cosine, step }
        public var warmupSteps: Int = 0
        public var decay: Decay = .constant
        /// Cosine: the rate reached at the last step.
        public var minimumRate: Float = 0
        /// Step decay: steps between reductions.
        public var every: Int = 1000
        /// Step decay: factor of each reduction.
        public var factor: Float = 0.5

        public init() {}
        enum CodingKeys: String, CodingKey, CaseIterable {
            case decay, every, factor
            case warmupSteps = "warmup_steps", minimumRate = "minimum_rate"
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? warmupSteps
            decay = try c.decodeIfPresent(Decay.self, forKey: .decay) ?? decay
            minimumRate = try c.decodeIfPresent(Float.self, forKey: .minimumRate) ?? minimumRate
            every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
            factor = try c.decodeIfPresent(Float.self, forKey: .factor) ?? factor
        }
    }

    /// Validation on the store's validation split.
    public struct ValidationSettings: Codable, Equatable, Sendable {
        /// Steps between validations (0: only at the end).
        public var every: Int = 100
        /// Batches per validation (0: the whole split).
        public var maxBatches: Int = 0
        /// Rain thresholds of the CSI scores, in physical units (e.g. mm/h).
        public var thresholds: [Double] = [0.5, 1, 5]
        /// Score that picks the best checkpoint and stops early: `loss`, `mae`, `rmse` or `csi:T`
        /// (CSI at threshold T, one of `thresholds`).
        public var score: String = "loss"
        /// Validations without improvement before stopping (0: never stop early).
        public var patience: Int = 0

        public init() {}
        enum CodingKeys: String, CodingKey, CaseIterable {
            case every, thresholds, score, patience
            case maxBatches = "max_batches"
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
            maxBatches = try c.decodeIfPresent(Int.self, forKey: .maxBatches) ?? maxBatches
            thresholds = try c.decodeIfPresent([Double].self, forKey: .thresholds) ?? thresholds
            score = try c.decodeIfPresent(String.self, forKey: .score) ?? score
            patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? patience
        }
    }

    /// Checkpointing.
    public struct CheckpointSettings: Codable, Equatable, Sendable {
        /// Steps between checkpoints (0: only at the end and at new best scores).
        public var every: Int = 100
        /// Checkpoints kept besides the best one.
        public var keep: Int = 3

        public init() {}
        enum CodingKeys: String, CodingKey, CaseIterable { case every, keep }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
            keep = try c.decodeIfPresent(Int.self, forKey: .keep) ?? keep
        }
    }

    /// The sample store folder (`nowcast convert`'s output).
    public var store: String = ""
    /// The run folder: checkpoints, logs, plots and the trained model.
    public var output: String = ""
    /// Seed of initialisation and shuffling; member k of an ensemble uses `seed + k`.
    public var seed: UInt64 = 1
    /// Models of the deep ensemble, each trained from its own seed.
    public var members: Int = 1
    /// Samples per batch.
    public var batchSize: Int = 8
    /// Samples held for shuffling.
    public var shuffleBuffer: Int = 256
    /// Optimiser steps per member; 0 takes `epochs` passes over the training split.
    public var steps: Int = 0
    /// Passes over the training split when `steps` is 0.
    public var epochs: Int = 1
    /// The model.
    public var model = ModelSpec()
    /// The loss.
    public var loss: Loss = .mse
    /// Intensity weights of the weighted losses (physical units); default HKO-7's.
    public var lossWeights = IntensityWeights.hko7
    /// The optimiser.
    public var optimizer = OptimizerSettings()
    /// The learning-rate schedule.
    public var schedule = ScheduleSettings()
    /// Largest global gradient norm (0: no clipping).
    public var clipNorm: Float = 0
    /// Steps between run-log lines (loss, learning rate, samples/s).
    public var logEvery: Int = 10
    /// Validation.
    public var validation = ValidationSettings()
    /// Checkpoints.
    public var checkpoint = CheckpointSettings()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case store, output, seed, members, steps, epochs, model, loss, optimizer, schedule, validation, checkpoint
        case batchSize = "batch_size", shuffleBuffer = "shuffle_buffer", lossWeights = "loss_weights", clipNorm = "clip_norm", logEvery = "log_every"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        store = try c.decodeIfPresent(String.self, forKey: .store) ?? store
        output = try c.decodeIfPresent(String.self, forKey: .output) ?? output
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        members = try c.decodeIfPresent(Int.self, forKey: .members) ?? members
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        shuffleBuffer = try c.decodeIfPresent(Int.self, forKey: .shuffleBuffer) ?? shuffleBuffer
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? steps
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        model = try c.decodeIfPresent(ModelSpec.self, forKey: .model) ?? model
        loss = try c.decodeIfPresent(Loss.self, forKey: .loss) ?? loss
        lossWeights = try c.decodeIfPresent(IntensityWeights.self, forKey: .lossWeights) ?? lossWeights
        optimizer = try c.decodeIfPresent(OptimizerSettings.self, forKey: .optimizer) ?? optimizer
        schedule = try c.decodeIfPresent(ScheduleSettings.self, forKey: .schedule) ?? schedule
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm) ?? clipNorm
        logEvery = try c.decodeIfPresent(Int.self, forKey: .logEvery) ?? logEvery
        validation = try c.decodeIfPresent(ValidationSettings.self, forKey: .validation) ?? validation
        checkpoint = try c.decodeIfPresent(CheckpointSettings.self, forKey: .checkpoint) ?? checkpoint
    }

    /// The keys a config file may hold, nested sections as `section`.
    public static let knownKeys: [String: Set<String>] = [
        "": Set(CodingKeys.allCases.map(\.rawValue)),
        "model": ModelSpec.keys,
        "loss_weights": ["thresholds", "weights"],
        "optimizer": Set(OptimizerSettings.CodingKeys.allCases.map(\.rawValue)),
        "schedule": Set(ScheduleSettings.CodingKeys.allCases.map(\.rawValue)),
        "validation": Set(ValidationSettings.CodingKeys.allCases.map(\.rawValue)),
        "checkpoint": Set(CheckpointSettings.CodingKeys.allCases.map(\.rawValue)),
    ]

    /// Checks every value; errors name the key.
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ expected: String, _ found: Any) throws {
            guard ok else { throw TrainError.invalidSetting(key: key, expected: expected, found: "\(found)") }
        }
        try require(!store.isEmpty, "store", "the folder of a sample store (nowcast convert's output)", "nothing")
        try require(!output.isEmpty, "output", "the run folder", "nothing")
        try require(members >= 1, "members", "at least 1", members)
        try require(batchSize >= 1, "batch_size", "at least 1", batchSize)
        try require(shuffleBuffer >= 0, "shuffle_buffer", "0 or more", shuffleBuffer)
        try require(steps >= 0, "steps", "0 (use epochs) or more", steps)
        try require(steps > 0 || epochs >= 1, "epochs", "at least 1 when steps is 0", epochs)
        if let problem = model.problem { throw problem }
        try require(optimizer.learningRate > 0 && optimizer.learningRate.isFinite, "optimizer.learning_rate", "a positive number",
                    optimizer.learningRate)
        try require(optimizer.weightDecay >= 0 && optimizer.weightDecay.isFinite, "optimizer.weight_decay", "0 or more", optimizer.weightDecay)
        try require((0..<1).contains(optimizer.momentum), "optimizer.momentum", "0 to below 1", optimizer.momentum)
        try require(schedule.warmupSteps >= 0, "schedule.warmup_steps", "0 or more", schedule.warmupSteps)
        try require(schedule.every >= 1, "schedule.every", "at least 1", schedule.every)
        try require(schedule.factor > 0 && schedule.factor.isFinite, "schedule.factor", "a positive number", schedule.factor)
        try require(schedule.minimumRate >= 0 && schedule.minimumRate.isFinite, "schedule.minimum_rate", "0 or more", schedule.minimumRate)
        try require(clipNorm >= 0 && clipNorm.isFinite, "clip_norm", "0 (off) or a positive norm", clipNorm)
        try require(logEvery >= 1, "log_every", "at least 1", logEvery)
        try require(validation.every >= 0, "validation.every", "0 (only at the end) or more", validation.every)
        try require(validation.maxBatches >= 0, "validation.max_batches", "0 (all) or more", validation.maxBatches)
        try require(validation.patience >= 0, "validation.patience", "0 (off) or more", validation.patience)
        try require(validation.thresholds.allSatisfy(\.isFinite), "validation.thresholds", "finite numbers", validation.thresholds)
        _ = try selectionScore()
        try require(checkpoint.every >= 0, "checkpoint.every", "0 or more", checkpoint.every)
        try require(checkpoint.keep >= 1, "checkpoint.keep", "at least 1", checkpoint.keep)
        if loss == .weightedMSE || loss == .weightedMAE {
            let w = lossWeights
            try require(w.weights.count == w.thresholds.count + 1 && zip(w.thresholds, w.thresholds.dropFirst()).allSatisfy({ $0 < $1 })
                            && w.weights.allSatisfy(\.isFinite) && w.thresholds.allSatisfy(\.isFinite),
                        "loss_weights", "increasing finite thresholds and one more finite weight than thresholds",
                        "thresholds \(w.thresholds), weights \(w.weights)")
        }
    }

    /// The validation score that selects the best checkpoint.
    public func selectionScore() throws -> SelectionScore {
        try SelectionScore(parsing: validation.score, thresholds: validation.thresholds)
    }
}

/// The validation score that picks the best checkpoint and drives early stopping.
public enum SelectionScore: Equatable, Sendable, CustomStringConvertible {
    /// The validation loss (lower is better).
    case loss
    /// Mean absolute error in physical units over all lead times (lower is better).
    case meanAbsoluteError
    /// Root mean squared error in physical units over all lead times (lower is better).
    case rootMeanSquaredError
    /// CSI over all lead times at the threshold of this index (higher is better).
    case criticalSuccessIndex(thresholdIndex: Int, threshold: Double)

    /// Parses `loss`, `mae`, `rmse` or `csi:T` (T one of `thresholds`).
    public init(parsing text: String, thresholds: [Double]) throws {
        switch text {
        case "loss": self = .loss
        case "mae": self = .meanAbsoluteError
        case "rmse": self = .rootMeanSquaredError
        default:
            let parts = text.split(separator: ":")
            guard parts.count == 2, parts[0] == "csi", let value = Double(parts[1]), let index = thresholds.firstIndex(of: value) else {
                throw TrainError.invalidSetting(key: "validation.score", expected: "loss, mae, rmse or csi:T with T one of validation.thresholds \(thresholds)",
                                                found: "'\(text)'")
            }
            self = .criticalSuccessIndex(thresholdIndex: index, threshold: value)
        }
    }

    /// True when larger values are better.
    public var higherIsBetter: Bool {
        if case .criticalSuccessIndex = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .loss: return "loss"
        case .meanAbsoluteError: return "mae"
        case .rootMeanSquaredError: return "rmse"
        case let .criticalSuccessIndex(_, threshold): return "csi:\(LeadTimeScores.label(threshold: threshold))"
        }
    }
}
