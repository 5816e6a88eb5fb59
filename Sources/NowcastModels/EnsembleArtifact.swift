import Foundation
import NowcastCore
import NowcastData
import NowcastNN

/// The contract of a model folder (a training run's `<run>/model/`): one weight file per ensemble
/// member and a `manifest.json` holding everything needed to apply it to raw archive files: the
/// architecture, the window lengths, the transform chain, the grid, the variable and the time step.
/// Forecasting loads it as a whole, and needs no training code to do so: the training
/// configuration is carried as opaque JSON.
public struct EnsembleArtifact: Codable, Sendable {
    /// One member's weights.
    public struct Member: Codable, Sendable {
        /// File name inside the model folder.
        public var weights: String
        public var seed: UInt64
        /// The training step the weights come from.
        public var step: Int
        /// Its validation score (the run's selection score), when validation ran.
        public var score: Double?

        public init(weights: String, seed: UInt64, step: Int, score: Double?) {
            (self.weights, self.seed, self.step, self.score) = (weights, seed, step, score)
        }
    }

    /// What the model expects of its inputs and produces.
    public struct DataContract: Codable, Sendable {
        /// Frames in and frames out.
        public var inputFrames: Int
        public var outputFrames: Int
        /// Rows and columns of the model's fields (after coarsening, per patch).
        public var ny: Int
        public var nx: Int
        /// Physical fields -> model units (fitted); the inverse brings forecasts back.
        public var transforms: TransformChain
        /// The value missing inputs take (model units): `MissingFill(transforms:)` of the chain.
        public var missingInput: Float
        /// Seconds between frames.
        public var stepSeconds: Double
        /// Source field: variable or quantity, and physical units.
        public var variable: String?
        public var quantity: String
        public var units: String
        /// Block-mean coarsening and patch size applied to the archive grid.
        public var coarsen: Int
        public var patchSize: Int?
        /// The archive grid.
        public var grid: GridSummary

        public init(inputFrames: Int, outputFrames: Int, ny: Int, nx: Int, transforms: TransformChain, missingInput: Float,
                    stepSeconds: Double, variable: String?, quantity: String, units: String, coarsen: Int, patchSize: Int?,
                    grid: GridSummary) {
            (self.inputFrames, self.outputFrames, self.ny, self.nx) = (inputFrames, outputFrames, ny, nx)
            (self.transforms, self.missingInput, self.stepSeconds) = (transforms, missingInput, stepSeconds)
            (self.variable, self.quantity, self.units) = (variable, quantity, units)
            (self.coarsen, self.patchSize, self.grid) = (coarsen, patchSize, grid)
        }
    }

    /// Format name and version.
    public var format = "nowcastkit-ensemble"
    public var version = 1
    /// The architecture.
    public var model: ModelSpec
    public var members: [Member]
    public var data: DataContract
    /// The training configuration as the trainer wrote it (its `TrainConfig`), and the selection score.
    public var training: JSONValue
    public var score: String

    public init(model: ModelSpec, members: [Member], data: DataContract, training: JSONValue, score: String) {
        (self.model, self.members, self.data, self.training, self.score) = (model, members, data, training, score)
    }

    /// The artifact's manifest of a model folder (or of a run folder holding `model/`).
    public static func load(_ folder: String) throws -> (artifact: EnsembleArtifact, folder: String) {
        let model = FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("manifest.json")) ? folder
            : (folder as NSString).appendingPathComponent("model")
        let path = (model as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.artifact(path: folder, detail: "not a trained model (no manifest.json in it or in its model/ folder)")
        }
        do { return (try JSONCoding.decoder().decode(EnsembleArtifact.self, from: data), model) } catch {
            throw ModelError.artifact(path: path, detail: "not a readable model manifest (\(oneLine(error)))")
        }
    }

    /// The members' models with their trained weights.
    public func models(in folder: String) throws -> [SequenceModel] {
        try members.map { member in
            let model = try self.model.make(inputFrames: data.inputFrames, outputFrames: data.outputFrames, seed: member.seed)
            let path = (folder as NSString).appendingPathComponent(member.weights)
            try model.load(try SafeTensors.read(path).tensors, source: path)
            return model
        }
    }
}
