import Foundation
import NowcastCore
import NowcastData
import NowcastIO
import NowcastModels
import NowcastNN
import NowcastPhysics

/// `nowcast forecast` as a library call: reads the latest observations, makes the ensemble with the
/// chosen method member by member, and writes the CF product (`CFProductWriter`) atomically.
public final class ForecastJob {
    public let config: ForecastConfig
    /// Called after each member with (done, total).
    public var progress: (Int, Int) -> Void = { _, _ in }
    /// Warnings and notes, one line each.
    public var log: (String) -> Void = { _ in }

    public init(config: ForecastConfig) { self.config = config }

    /// What was written.
    public struct Summary: Sendable {
        public var path: String
        public var method: String
        public var referenceTime: Date
        public var inputTimes: [Date]
        public var members: [Int]
        public var leadtimes: Int
        public var grid: String
        /// Mean and largest motion in pixels per step (extrapolation only).
        public var motionSpeed: (mean: Double, max: Double)?
    }

    public func run() throws -> Summary {
        try config.validate()
        let files = try ArchiveListing.files(config.inputs)
        let series = try FrameSeries(files: files, options: config.field)
        for line in series.report.warningLines { log(line) }
        let (method, inputs, grid, units, motion) = try prepare(series, time: try config.referenceTime())
        // The product carries the motion in m/s, which needs cells in metres or kilometres.
        let cellMetres = grid.cellKilometres.map { $0 * 1000 }
        guard series.step > 0 else {
            throw ForecastError.archive(detail: "one frame (\(series.entries[0].path)) gives no time step to count the lead times in; "
                + "give the archive's earlier frames too")
        }
        if let limit = method.memberLimit, config.members > limit {
            throw ForecastError.setting(key: "members", expected: "at most \(limit) for \(method.name)", found: "\(config.members)")
        }

        let realizations = config.member.map { [$0] } ?? Array(0..<config.members)
        let source = inputs.frames[0]
        let quantity = CFQuantity.forField(units: units, quantity: source.quantity)
        let layout = ForecastProductLayout(
            grid: grid, quantity: quantity, referenceTime: inputs.referenceTime, stepSeconds: series.step,
            leadTimes: config.leadtimes, realizations: realizations, thresholds: config.thresholds, inputTimes: inputs.frames.map(\.validTime),
            motion: motion != nil && cellMetres != nil, globals: globals(method: method, inputs: inputs), deflateLevel: config.deflateLevel)
        let writer = try CFProductWriter(path: config.output, layout: layout)
        // A batch of members is written in order on its own queue while the next is computed:
        // memory holds two batches' fields.
        let writing = DispatchQueue(label: "nowcast.forecast.writer")
        let writeFailure = ErrorBox()
        do {
            progress(0, realizations.count)
            let batch = method.computesMembersConcurrently ? Parallel.workers : 1
            for first in stride(from: 0, to: realizations.count, by: batch) {
                let members = Array(first..<min(first + batch, realizations.count))
                if members.count == 1 {
                    try method.forecast(member: realizations[first], leads: config.leadtimes) { lead, field in
                        try writer.write(member: first, lead: lead, field: field)
                    }
                } else {
                    let computed = try Self.concurrently(method, members: members.map { realizations[$0] }, leads: config.leadtimes)
                    writing.sync {}  // the previous batch is in the file before this one goes
                    if let failure = writeFailure.first { throw failure }
                    writing.async {
                        do {
                            for (k, fields) in zip(members, computed) {
                                for (lead, field) in fields.enumerated() { try writer.write(member: k, lead: lead, field: field) }
                            }
                        } catch {
                            writeFailure.record(error)
                        }
                    }
                }
                progress(members.last.map { $0 + 1 } ?? first, realizations.count)
            }
            writing.sync {}
            if let failure = writeFailure.first { throw failure }
            if let motion, let cellMetres {
                // Pixels per step to metres per second along the coordinates (rows often run southwards).
                let perSecond = Float(cellMetres / series.step)
                let (sx, sy): (Float, Float) = (grid.x.count > 1 && grid.x[1] < grid.x[0] ? -1 : 1, grid.y.count > 1 && grid.y[1] < grid.y[0] ? -1 : 1)
                try writer.writeMotion(u: motion.u.map { $0 * perSecond * sx }, v: motion.v.map { $0 * perSecond * sy })
            }
            try writer.finish()
        } catch {
            writing.sync {}  // a batch still being written finishes before the file goes
            writer.cancel()
            throw error
        }
        return Summary(path: config.output, method: method.name, referenceTime: inputs.referenceTime, inputTimes: inputs.frames.map(\.validTime),
                       members: realizations, leadtimes: config.leadtimes, grid: grid.summary, motionSpeed: motion?.speed)
    }

    /// Each of `members`' lead fields, computed on one thread per member.
    private static func concurrently(_ method: NowcastMethod, members: [Int], leads: Int) throws -> [[[Float]]] {
        var fields = [[[Float]]](repeating: [], count: members.count)
        var failures = [Error?](repeating: nil, count: members.count)
        fields.withUnsafeMutableBufferPointer { fields in
            failures.withUnsafeMutableBufferPointer { failures in
                DispatchQueue.concurrentPerform(iterations: members.count) { j in
                    do { try method.forecast(member: members[j], leads: leads) { _, field in fields[j].append(field) } } catch { failures[j] = error }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        return fields
    }

    /// The method with its inputs, the product's grid and units, and the motion it extrapolates.
    private func prepare(_ series: FrameSeries, time: Date?) throws
        -> (method: NowcastMethod, inputs: ForecastInputs, grid: Grid, units: String, motion: MotionField?) {
        let grid = series.grid
        switch config.model {
        case "persistence":
            let inputs = try ForecastInputs(series: series, count: 1, time: time)
            let chain = try physicalChain()
            return (PersistenceNowcast(last: transformed(inputs.frames[0].values, chain)), inputs, grid,
                    chain.physicalUnits(source: inputs.frames[0].units), nil)
        case "extrapolation":
            let inputs = try ForecastInputs(series: series, count: config.motionFrames, time: time)
            let chain = try config.transformChain()
            let extrapolation = try ExtrapolationNowcast(
                frames: inputs.frames.map(\.values), ny: grid.ny, nx: grid.nx, transforms: chain, motionMethod: config.motionMethod ?? .lucasKanade, outside: config.outside,
                members: config.members, seed: config.seed, kilometresPerPixel: grid.cellKilometres ?? 1, stepSeconds: series.step)
            return (extrapolation, inputs, grid, chain.physicalUnits(source: inputs.frames[0].units), extrapolation.motion)
        case "steps", "sprog":
            let inputs = try ForecastInputs(series: series, count: 3, time: time)
            let chain = try config.transformChain()
            let settings = config.stepsSettings()
            let steps = try StepsNowcast(frames: inputs.frames.map(\.values), ny: grid.ny, nx: grid.nx, transforms: chain, settings: settings,
                                         seed: config.seed, kilometresPerPixel: grid.cellKilometres ?? 1, stepSeconds: series.step,
                                         motionMethod: config.motionMethod ?? .lucasKanade, log: log)
            return (steps, inputs, grid, chain.physicalUnits(source: inputs.frames[0].units), steps.motion)
        default:
            let forecaster = try EnsembleForecaster(modelFolder: config.model)
            let contract = forecaster.artifact.data
            try checkArchive(series, against: contract)
            let inputs = try ForecastInputs(series: series, count: contract.inputFrames, time: time)
            let factor = contract.coarsen
            let frames = inputs.frames.map { Coarsening.blockMean($0.values, ny: grid.ny, nx: grid.nx, factor: factor) }
            let method = try ModelNowcast(forecaster: forecaster, folder: config.model, frames: frames, ny: grid.ny / factor, nx: grid.nx / factor,
                                          ensemble: config.ensemble, noiseScale: config.noiseScale, seed: config.seed)
            return (method, inputs, grid.coarsened(by: factor), contract.transforms.physicalUnits(source: contract.units), nil)
        }
    }

    /// Persistence keeps only the unit conversions of the transforms (e.g. accumulations to rates).
    private func physicalChain() throws -> TransformChain {
        let chain = try config.transformChain()
        return TransformChain(Array(chain.steps.prefix(chain.physicalSteps)))
    }

    private func transformed(_ values: [Float], _ chain: TransformChain) -> [Float] {
        var out = values
        out.withUnsafeMutableBufferPointer { chain.forward($0) }
        return out
    }

    /// The model's archive grid and time step must be this archive's; both are named otherwise.
    private func checkArchive(_ series: FrameSeries, against contract: EnsembleArtifact.DataContract) throws {
        let (g, c) = (series.grid, contract.grid)
        let sameSize = g.ny == c.ny && g.nx == c.nx
        let sameSpacing = abs(g.dx - c.dx) <= 1e-3 * max(abs(c.dx), 1e-12) && abs(g.dy - c.dy) <= 1e-3 * max(abs(c.dy), 1e-12) && g.xyUnits == c.xyUnits
        guard sameSize, sameSpacing else {
            throw ForecastError.archive(detail: "the archive's grid \(g.ny) x \(g.nx), cells \(g.dx) x \(g.dy) \(g.xyUnits) (\(series.entries[0].path)) "
                + "is not the model's \(c.ny) x \(c.nx), cells \(c.dx) x \(c.dy) \(c.xyUnits) (\(config.model))")
        }
        if series.step > 0, abs(series.step - contract.stepSeconds) > 0.5 {
            throw ForecastError.archive(detail: "the archive's frames are \(Int(series.step)) s apart, the model was trained on \(Int(contract.stepSeconds)) s (\(config.model))")
        }
    }

    private func globals(method: NowcastMethod, inputs: ForecastInputs) -> Attributes {
        let version = NowcastKitVersion.current
        let created = UTCTime.iso8601(Date())
        return Attributes([
            ("title", .text(config.title ?? "\(config.members == 1 ? "" : "\(config.members)-member ensemble ")nowcast by \(method.name)")),
            ("institution", .text(config.institution)),
            ("source", .text("NowcastKit \(version); model: \(method.name); seed \(config.seed)")),
            ("history", .text("\(created) nowcast forecast from \(inputs.frames.count) frames ending \(UTCTime.iso8601(inputs.referenceTime))")),
            ("input_files", .text(inputs.frames.map(\.sourcePath).joined(separator: " "))),
        ])
    }
}
