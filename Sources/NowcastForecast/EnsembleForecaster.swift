import NowcastData
import NowcastModels
import NowcastNN

/// A trained ensemble ready to forecast: a model folder (`EnsembleArtifact`) loaded once, its
/// members rebuilt with their weights. Fields go in and come out in the archive's physical units;
/// the transform chain, the missing-input fill and its inverse are applied inside, as in training.
public struct EnsembleForecaster {
    /// The model folder's manifest.
    public let artifact: EnsembleArtifact
    /// One model per ensemble member, in the manifest's order.
    public let members: [SequenceModel]

    /// Loads the model folder at `folder` (or the `model/` folder of a run folder).
    public init(modelFolder folder: String) throws {
        let (artifact, modelFolder) = try EnsembleArtifact.load(folder)
        self.artifact = artifact
        members = try artifact.models(in: modelFolder)
    }

    /// Forecasts from `inputFrames` fields of `ny * nx` values each in the archive's units
    /// (`units` of the contract, NaN for missing), oldest first: per member, `outputFrames` fields
    /// in the same units.
    public func forecast(_ frames: [[Float]]) throws -> [[[Float]]] {
        let data = artifact.data
        let plane = data.ny * data.nx
        guard frames.count == data.inputFrames, frames.allSatisfy({ $0.count == plane }) else {
            throw ForecastError.input(expected: "\(data.inputFrames) frames of \(data.ny) x \(data.nx) values",
                                      found: "\(frames.count) of \(frames.map(\.count))")
        }
        var inputs = frames.flatMap { $0 }
        inputs.withUnsafeMutableBufferPointer { data.transforms.forward($0) }
        let filled = MissingFill(value: data.missingInput).filled(inputs)
        let x = Variable(try Tensor(shape: [1, data.inputFrames, 1, data.ny, data.nx], values: filled))
        return try members.map { model in
            var output = try Gradients.disabled { try model.forecastSequence(x) }.value.scalars
            output.withUnsafeMutableBufferPointer { data.transforms.inverse($0) }
            return (0..<data.outputFrames).map { Array(output[($0 * plane)..<(($0 + 1) * plane)]) }
        }
    }
}
