import Foundation
import NowcastCore
import NowcastData
import NowcastIO
import NowcastModels

/// How a run ended: each member's result and the trained model's folder.
public struct RunSummary: Sendable {
    public var members: [MemberResult]
    /// `<run>/model`: the ensemble artifact.
    public var modelFolder: String
}

/// A whole training run: the members of the ensemble one after another (each resumable), then the
/// trained model written as one artifact (`<run>/model/`).
public final class TrainingRun {
    public let config: TrainConfig
    public let store: SampleStore

    /// Called after every step.
    public var onProgress: ((TrainProgress) -> Void)?
    /// Called after every validation, with the member index.
    public var onValidation: ((Int, ValidationReport) -> Void)?
    /// Messages for the user.
    public var onMessage: ((String) -> Void)?

    /// Checks the config and opens the store.
    public init(config: TrainConfig) throws {
        try config.validate()
        self.config = config
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: config.store, isDirectory: &isFolder), isFolder.boolValue else {
            throw TrainError.store(path: config.store, detail: "does not exist (expected the folder nowcast convert wrote)")
        }
        store = try SampleStore(folder: config.store)
        guard store.sampleCount(.train) > 0 else { throw TrainError.store(path: config.store, detail: "has no training samples") }
    }

    private var configPath: String { (config.output as NSString).appendingPathComponent("config.json") }

    /// Trains every member, then writes the model. With `resume`, finished members are kept and the
    /// others continue from their newest intact checkpoints; the config must be the run's own (its
    /// `output` aside: a run folder can be moved). Every member is built and every shard it will read
    /// is checked before anything is written; a run that fails before any checkpoint leaves no
    /// folder it made, so the same command can simply be run again.
    public func run(resume: Bool) throws -> RunSummary {
        let trainers = try (0..<config.members).map { try Trainer(config: config, store: store, member: $0) }
        try store.verify(.train)
        if store.sampleCount(.validation) > 0 { try store.verify(.validation) }
        let created = !FileManager.default.fileExists(atPath: config.output)
        try prepareFolder(resume: resume)
        do {
            return try train(trainers, resume: resume)
        } catch {
            if created, !trainers.contains(where: { !Checkpoint.list(in: $0.folder).isEmpty }) {
                try? FileManager.default.removeItem(atPath: config.output)
            }
            throw error
        }
    }

    private func train(_ trainers: [Trainer], resume: Bool) throws -> RunSummary {
        if store.sampleCount(.validation) == 0 {
            onMessage?("warning: \(config.store) has no validation samples: no scores, no early stopping, the last weights are kept")
        }
        var results: [MemberResult] = []
        for (member, trainer) in trainers.enumerated() {
            if resume, let finished = trainer.finishedResult() {
                onMessage?("member \(member): finished earlier at step \(finished.steps)")
                results.append(finished)
                continue
            }
            trainer.onProgress = onProgress
            trainer.onValidation = { [onValidation] in onValidation?(member, $0) }
            trainer.onMessage = onMessage
            results.append(try trainer.run(resume: resume))
        }
        let folder = try writeModel(results)
        return RunSummary(members: results, modelFolder: folder)
    }

    /// A new run needs an empty (or new) folder; a resumed one a run folder, with the same config.
    private func prepareFolder(resume: Bool) throws {
        let saved = FileManager.default.contents(atPath: configPath)
        if let saved {
            guard resume else {
                throw TrainError.runFolder(path: config.output, detail: "already holds a training run; pass --resume to continue it, or choose another folder")
            }
            let current = try JSONCoding.encode(config)
            if let difference = Self.firstDifference(saved, current, ignoring: ["output"]) {
                throw TrainError.runFolder(path: config.output, detail: "the run was started with a different '\(difference)'; resuming needs the same config")
            }
            return
        }
        guard !resume else {
            throw TrainError.runFolder(path: config.output, detail: FileManager.default.fileExists(atPath: config.output)
                ? "nothing to resume: it holds no training run (no config.json); leave out --resume to start one"
                : "nothing to resume: the folder does not exist; leave out --resume to start a run")
        }
        try FileError.createFolder(config.output)
        if !resume, let contents = try? FileManager.default.contentsOfDirectory(atPath: config.output), !contents.isEmpty {
            throw TrainError.runFolder(path: config.output, detail: "is not empty; choose a new or empty folder for the run")
        }
        try JSONCoding.write(config, to: configPath)
    }

    /// The first top-level key whose value differs between two JSON objects, `ignoring` some.
    static func firstDifference(_ a: Data, _ b: Data, ignoring: Set<String> = []) -> String? {
        guard let x = try? JSONSerialization.jsonObject(with: a) as? [String: Any],
              let y = try? JSONSerialization.jsonObject(with: b) as? [String: Any] else { return "config" }
        for key in Set(x.keys).union(y.keys).subtracting(ignoring).sorted() {
            let left = x[key].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]) }
            let right = y[key].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]) }
            if left != right { return key }
        }
        return nil
    }

    /// Writes `<run>/model/` from each member's chosen checkpoint (atomically, as a whole folder).
    private func writeModel(_ results: [MemberResult]) throws -> String {
        let manifest = store.manifest
        let final = (config.output as NSString).appendingPathComponent("model")
        try AtomicOutput.writeFolder(final) { temporary in
            var members: [EnsembleArtifact.Member] = []
            for result in results {
                let name = "member-\(result.member).safetensors"
                // Relative to the run folder (runs written before this held absolute paths).
                let checkpoint = result.chosenCheckpoint.hasPrefix("/") ? result.chosenCheckpoint
                    : (config.output as NSString).appendingPathComponent(result.chosenCheckpoint)
                let weights = (checkpoint as NSString).appendingPathComponent("weights.safetensors")
                let data = try FileError.wrapping(.read, weights) { try Data(contentsOf: URL(fileURLWithPath: weights)) }
                try AtomicOutput.write(data, to: (temporary as NSString).appendingPathComponent(name))
                members.append(.init(weights: name, seed: result.seed, step: result.chosenStep, score: result.bestScore))
            }
            let window = manifest.config.window
            let contract = EnsembleArtifact.DataContract(
                inputFrames: manifest.layout.inputs, outputFrames: manifest.layout.targets, ny: manifest.layout.ny, nx: manifest.layout.nx,
                transforms: manifest.transforms, missingInput: MissingFill(transforms: manifest.transforms).value, stepSeconds: manifest.stepSeconds,
                variable: manifest.config.field.variable, quantity: manifest.quantity, units: manifest.units, coarsen: window.coarsen,
                patchSize: window.patchSize, grid: manifest.grid)
            let artifact = EnsembleArtifact(model: config.model, members: members, data: contract, training: try JSONValue(encoding: config),
                                            score: try config.selectionScore().description)
            try JSONCoding.write(artifact, to: (temporary as NSString).appendingPathComponent("manifest.json"))
        }
        return final
    }
}
