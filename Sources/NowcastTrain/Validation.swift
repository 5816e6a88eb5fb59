import NowcastData
import NowcastModels
import NowcastNN
import NowcastVerify

/// What one validation pass found: the loss of the model and of persistence (the last input frame
/// held for every lead time) in the store's units, and scores of both in physical units.
public struct ValidationReport: Codable, Equatable, Sendable {
    /// Optimiser steps taken when it ran.
    public var step: Int
    /// Samples verified.
    public var samples: Int
    /// The model's validation loss.
    public var loss: Double
    /// Persistence's loss under the same loss function.
    public var persistenceLoss: Double
    /// Units of the scores: the field's after the physical transform steps (e.g. mm h-1).
    public var units: String
    /// The model's scores per lead time (physical units).
    public var model: LeadTimeScores
    /// Persistence's scores per lead time (physical units).
    public var persistence: LeadTimeScores

    /// The value of a selection score for the model.
    public func value(of score: SelectionScore) -> Double {
        switch score {
        case .loss: return loss
        case .meanAbsoluteError: return model.meanAbsoluteError
        case .rootMeanSquaredError: return model.rootMeanSquaredError
        case let .criticalSuccessIndex(index, _): return model.criticalSuccessIndex(threshold: index)
        }
    }
}

/// Runs a model over the store's validation split without recording gradients.
struct Validator {
    let store: SampleStore
    let batchSize: Int
    let maxBatches: Int
    let thresholds: [Double]
    let loss: TrainingLoss
    let fill: MissingFill

    /// Samples in the validation split.
    var available: Int { store.sampleCount(.validation) }

    func run(_ model: SequenceModel, step: Int) throws -> ValidationReport {
        let layout = store.manifest.layout
        let transforms = store.manifest.transforms
        let plane = layout.ny * layout.nx
        var report = ValidationReport(step: step, samples: 0, loss: 0, persistenceLoss: 0,
                                      units: transforms.physicalUnits(source: store.manifest.units),
                                      model: LeadTimeScores(leadTimes: layout.targets, thresholds: thresholds),
                                      persistence: LeadTimeScores(leadTimes: layout.targets, thresholds: thresholds))
        let stream = try BatchStream(store: store, options: BatchStreamOptions(split: .validation, batchSize: batchSize, shuffleBuffer: 0))
        let iterator = stream.epoch(0)
        var batches = 0
        var lossSum = 0.0, persistenceSum = 0.0
        while maxBatches == 0 || batches < maxBatches, let batch = try iterator.next() {
            let tensors = try BatchTensors(batch, fill: fill), persistence = try Persistence(batch, fill: fill)
            let prediction = try Gradients.disabled { try model.forecastSequence(Variable(tensors.inputs)) }
            let n = Double(batch.count)
            lossSum += n * Double(try loss(prediction, tensors).value.scalar ?? .nan)
            persistenceSum += n * Double(try loss(Variable(persistence.forecast), tensors).value.scalar ?? .nan)
            var forecast = prediction.value.scalars, observed = batch.targets, held = persistence.lastInputs
            forecast.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            observed.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            held.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            try forecast.withUnsafeBufferPointer { f in try observed.withUnsafeBufferPointer { o in try held.withUnsafeBufferPointer { h in
                for b in 0..<batch.count {
                    let last = UnsafeBufferPointer(rebasing: h[(b * plane)..<((b + 1) * plane)])
                    for t in 0..<layout.targets {
                        let range = ((b * layout.targets + t) * plane)..<((b * layout.targets + t + 1) * plane)
                        try report.model.add(forecast: UnsafeBufferPointer(rebasing: f[range]), observed: UnsafeBufferPointer(rebasing: o[range]), lead: t)
                        try report.persistence.add(forecast: last, observed: UnsafeBufferPointer(rebasing: o[range]), lead: t)
                    }
                }
            } } }
            report.samples += batch.count
            batches += 1
        }
        if report.samples > 0 {
            report.loss = lossSum / Double(report.samples)
            report.persistenceLoss = persistenceSum / Double(report.samples)
        }
        return report
    }
}
