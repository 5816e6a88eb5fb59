import NowcastData
import NowcastNN

/// A batch as the model and the loss take it: inputs with missing values filled, targets with
/// missing values zeroed and a mask of the valid ones.
struct BatchTensors {
    /// `[N, T_in, 1, H, W]`, missing values filled (`MissingFill`).
    let inputs: Tensor
    /// `[N, T_out, 1, H, W]`, missing values replaced by 0 (masked out of losses).
    let targets: Tensor
    /// The targets as stored, NaN where missing.
    let rawTargets: [Float]
    /// 1 where the target is present, 0 where it is missing; nil when nothing is missing.
    let mask: Tensor?

    /// Fills the batch; a value still not finite after the fill (an infinity a damaged or foreign
    /// store holds) is an error naming the shard and the sample.
    init(_ batch: Batch, fill: MissingFill) throws {
        let filled = fill.filled(batch.inputs)
        // Missing targets (NaN) are masked out; anything else must be finite, as the filled inputs.
        for (name, values, bad) in [("input", batch.inputs, filled.firstIndex { !$0.isFinite }),
                                    ("target", batch.targets, batch.targets.firstIndex(where: \.isInfinite))] {
            guard let bad else { continue }
            let perSample = values.count / max(1, batch.count)
            let sample = bad / perSample
            let source = batch.sources.indices.contains(sample) ? batch.sources[sample].description : "sample \(sample) of the batch"
            throw TrainError.nonFiniteBatch(shard: source, detail: "\(name) value \(values[bad]) at position \(bad % perSample) is not finite; "
                + "the store holds values no model can take (convert the archive again)")
        }
        inputs = try Tensor(shape: batch.inputShape, values: filled)
        rawTargets = batch.targets
        let missing = batch.targets.contains(where: \.isNaN)
        targets = try Tensor(shape: batch.targetShape, values: missing ? batch.targets.map { $0.isNaN ? 0 : $0 } : batch.targets)
        mask = missing ? try Tensor(shape: batch.targetShape, values: batch.targets.map { $0.isNaN ? 0 : 1 }) : nil
    }
}

/// The training loss in the store's units: missing targets are left out (the mean runs over the
/// present ones), and the weighted losses weight each target by its physical intensity (after the
/// chain's physical steps, e.g. mm/h).
struct TrainingLoss {
    let kind: TrainConfig.Loss
    let intensityWeights: IntensityWeights
    let transforms: TransformChain

    /// The loss of `prediction` against the batch's targets.
    func callAsFunction(_ prediction: Variable, _ batch: BatchTensors) throws -> Variable {
        let target = Variable(batch.targets)
        let weights = try self.weights(batch)
        switch kind {
        case .mse, .weightedMSE:
            return try weights.map { try prediction.weightedMeanSquaredError(target, weights: $0) } ?? prediction.meanSquaredError(target)
        case .mae, .weightedMAE:
            return try weights.map { try prediction.weightedMeanAbsoluteError(target, weights: $0) } ?? prediction.meanAbsoluteError(target)
        case .logcosh:
            return try prediction.logCoshError(target, weights: weights)
        }
    }

    /// Per-element weights (mask scaled so the mean runs over present targets, times intensity
    /// weights), or nil when every weight would be 1.
    private func weights(_ batch: BatchTensors) throws -> Tensor? {
        let weighted = kind == .weightedMSE || kind == .weightedMAE
        guard weighted || batch.mask != nil else { return nil }
        var result: [Float]
        if weighted {
            var physical = batch.rawTargets
            physical.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            result = try intensityWeights.weights(for: try Tensor(shape: batch.targets.shape, values: physical)).scalars
        } else {
            result = [Float](repeating: 1, count: batch.targets.count)
        }
        if let mask = batch.mask?.scalars {
            let present = mask.reduce(0, +)
            let scale = present > 0 ? Float(mask.count) / present : 0
            for i in result.indices { result[i] *= mask[i] * scale }
        }
        return try Tensor(shape: batch.targets.shape, values: result)
    }
}
