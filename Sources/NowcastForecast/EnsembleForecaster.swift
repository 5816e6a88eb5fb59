import NowcastCore
import NowcastData
import NowcastModels
import NowcastNN

/// A trained ensemble ready to forecast: a model folder (`EnsembleArtifact`) loaded once, its
/// members rebuilt with their weights. Fields go in in the archive's units and come out in physical
/// units (`TransformChain.physicalUnits`: mm/h from accumulations); the transform chain, the
/// missing-input fill and the inverse are applied inside, as in training.
///
/// The models are convolutional, so they run on any grid, not only the patch size they were trained
/// on: a grid the model cannot take (a U-Net needs sides divisible by 2^depth) is padded at the
/// bottom and right with the no-rain fill and the forecast cut back. Lead times past the model's
/// `T_out` come from feeding its own forecasts back in as the newest inputs.
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

    /// Member `member`'s forecast of `leads` fields from `frames` (`inputFrames` fields of `ny * nx`
    /// values in the archive's units, NaN missing, oldest first), on the same grid. A
    /// `perturbation` (`ny * nx` values in model units) is added to every input frame where it is
    /// wet (above the no-rain fill), so dry areas stay dry. With `dropoutDraws` the model drops at
    /// its trained rate with masks drawn from it (an MC-dropout member).
    public func forecast(member: Int, frames: [[Float]], ny: Int, nx: Int, leads: Int, perturbation: [Float]? = nil,
                         dropoutDraws: SeededGenerator? = nil) throws -> [[Float]] {
        let data = artifact.data
        let plane = ny * nx
        guard frames.count == data.inputFrames, frames.allSatisfy({ $0.count == plane }), plane > 0 else {
            throw ForecastError.input(expected: "\(data.inputFrames) frames of \(ny) x \(nx) values",
                                      found: "\(frames.count) of \(frames.map(\.count))")
        }
        guard members.indices.contains(member) else {
            throw ForecastError.input(expected: "a member below \(members.count)", found: "member \(member)")
        }
        let model = members[member]
        model.dropoutDraws = dropoutDraws
        defer { model.dropoutDraws = nil }
        let (py, px) = paddedSize(model, ny: ny, nx: nx)
        let fill = MissingFill(value: data.missingInput)
        // The newest `inputFrames` fields in model units, padded.
        if let perturbation, perturbation.count != plane {
            throw ForecastError.input(expected: "a perturbation of \(ny) x \(nx) values", found: "\(perturbation.count)")
        }
        var window: [[Float]] = frames.map { frame in
            var values = frame
            values.withUnsafeMutableBufferPointer { data.transforms.forward($0) }
            if let perturbation {
                for i in values.indices where values[i] > fill.value { values[i] += perturbation[i] }
            }
            return padded(fill.filled(values), ny: ny, nx: nx, to: (py, px), with: data.missingInput)
        }
        var outputs: [[Float]] = []
        while outputs.count < leads {
            let x = Variable(try Tensor(shape: [1, data.inputFrames, 1, py, px], values: window.flatMap { $0 }))
            let y = try Gradients.disabled { try model.forecastSequence(x) }.value.scalars
            let produced = (0..<model.outputFrames).map { Array(y[($0 * py * px)..<(($0 + 1) * py * px)]) }
            outputs += produced
            window = Array((window + produced).suffix(data.inputFrames))
        }
        return outputs.prefix(leads).map { field in
            var values = cropped(field, from: (py, px), to: (ny, nx))
            values.withUnsafeMutableBufferPointer { data.transforms.inverseToPhysical($0) }
            return values
        }
    }

    /// Every member's forecast of the model's `T_out` fields on its patch grid, in physical units.
    public func forecast(_ frames: [[Float]]) throws -> [[[Float]]] {
        let data = artifact.data
        return try members.indices.map { try forecast(member: $0, frames: frames, ny: data.ny, nx: data.nx, leads: data.outputFrames) }
    }

    /// The smallest grid at least `ny` x `nx` that `model` takes.
    private func paddedSize(_ model: SequenceModel, ny: Int, nx: Int) -> (Int, Int) {
        for extra in 0..<512 {
            for dy in 0...extra where model.gridProblem(height: ny + dy, width: nx + extra - dy) == nil { return (ny + dy, nx + extra - dy) }
        }
        return (ny, nx)  // none found: the model's own error names the grid
    }

    private func padded(_ field: [Float], ny: Int, nx: Int, to size: (Int, Int), with value: Float) -> [Float] {
        guard size != (ny, nx) else { return field }
        var out = [Float](repeating: value, count: size.0 * size.1)
        for y in 0..<ny { out.replaceSubrange((y * size.1)..<(y * size.1 + nx), with: field[(y * nx)..<((y + 1) * nx)]) }
        return out
    }

    private func cropped(_ field: [Float], from size: (Int, Int), to target: (Int, Int)) -> [Float] {
        guard size != target else { return field }
        return (0..<target.0).flatMap { y in field[(y * size.1)..<(y * size.1 + target.1)] }
    }
}
