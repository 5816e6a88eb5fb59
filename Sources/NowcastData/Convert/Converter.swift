import Foundation
import NowcastIO

/// Converts an archive into a sample store: index the frames, plan windows, fit the transforms on the
/// training split, then write every kept sample into NetCDF-4 shards with a manifest. Memory holds a
/// window of frames and the open shards' buffers, not the archive. Resumable: rerun with the same
/// config after a kill and it continues after the last finished shard range.
public final class Converter {
    /// Progress of the long phases.
    public enum Phase: String, Sendable { case indexing, fitting, writing }

    public let config: ConvertConfig
    /// Where messages go (warnings, resume notes); the command line prints them on stderr.
    public var log: (String) -> Void = { _ in }
    /// Progress callback: phase, done, total.
    public var progress: (Phase, Int, Int) -> Void = { _, _, _ in }
    /// Tests only: fail after this many shard ranges, as a killed run would stop.
    var stopAfterRanges: Int?

    public init(config: ConvertConfig) { self.config = config }

    /// Runs the conversion; returns the manifest written.
    @discardableResult
    public func run() throws -> Manifest {
        try config.validate()
        let files = try ArchiveListing.files(config.inputs)
        let series = try FrameSeries(files: files, options: config.field, strict: config.strict) { [progress] in
            progress(.indexing, $0, $1)
        }
        for skipped in series.report.skipped { log("warning: skipped \(skipped)") }
        try config.window.validate(ny: series.grid.ny, nx: series.grid.nx)
        let plan = try WindowPlan(series: series, spec: config.window, split: config.split)
        let output = config.output
        try prepareFolder(output)
        let fingerprint = try Self.fingerprint(config, series)
        let manifestPath = (output as NSString).appendingPathComponent("manifest.json")
        if let existing = try? Manifest.load(from: output) {
            guard existing.config == config else {
                throw NowcastDataError.output(path: output, detail: "holds a store made with another configuration; choose another folder")
            }
            log("\(output): already converted with this configuration; nothing to do")
            return existing
        }
        let statePath = (output as NSString).appendingPathComponent(ConvertState.fileName)
        var state: ConvertState
        if let data = FileManager.default.contents(atPath: statePath), let saved = try? JSONCoding.decoder().decode(ConvertState.self, from: data),
           saved.fingerprint == fingerprint {
            state = saved
            log("resuming: \(saved.ranges) shard ranges done, from window \(saved.nextWindow) of \(plan.windows.count)")
        } else {
            guard try FileManager.default.contentsOfDirectory(atPath: output).filter({ !$0.hasPrefix(".") }).isEmpty else {
                throw NowcastDataError.output(path: output, detail: "is not empty and holds no unfinished conversion of this configuration; choose an empty folder")
            }
            let (chain, statistics, packing) = try fit(series: series, plan: plan)
            var counts = Manifest.Counts()
            counts.frames = series.count
            counts.filesSkipped = series.report.skipped.count
            counts.duplicateFrames = series.report.duplicates.count
            counts.missingSteps = series.report.gaps.reduce(0) { $0 + $1.missingSteps }
            counts.windows = plan.windows.count
            counts.rejectedGaps = plan.rejectedForGaps
            counts.rejectedSplitBoundary = plan.rejectedForSplitBoundary
            state = ConvertState(fingerprint: fingerprint, transforms: chain, statistics: statistics, packing: packing,
                                 nextWindow: 0, nextPatch: 0, ranges: 0, counts: counts, shards: [:])
            try JSONCoding.write(state, to: statePath)
        }
        try write(series: series, plan: plan, state: &state, statePath: statePath)
        let (sny, snx) = config.window.sampleShape(ny: series.grid.ny, nx: series.grid.nx)
        let first = try series.frame(0)
        let manifest = Manifest(
            layout: SampleLayout(inputs: config.window.inputs, targets: config.window.targets, ny: sny, nx: snx,
                                 packing: state.packing, deflateLevel: config.deflateLevel),
            transforms: state.transforms, statistics: state.statistics, units: first.units,
            quantity: first.quantity, stepSeconds: series.step,
            grid: GridSummary(ny: series.grid.ny, nx: series.grid.nx, dx: series.grid.dx, dy: series.grid.dy, xyUnits: series.grid.xyUnits,
                              projection: series.grid.projection, firstX: series.grid.x.first, firstY: series.grid.y.first),
            split: config.split, counts: state.counts, shards: state.shards, config: config, sources: series.entries.map(\.path))
        try JSONCoding.write(manifest, to: manifestPath)
        try? FileManager.default.removeItem(atPath: statePath)
        return manifest
    }

    /// The normalisation statistics alone: the fitted chain and the statistics of the values that the
    /// first fitted step sees (or of the chain's output when no step needs fitting), on the training split.
    public func statistics() throws -> (chain: TransformChain, statistics: RunningStatistics, frames: Int) {
        try config.validate()
        let series = try FrameSeries(files: try ArchiveListing.files(config.inputs), options: config.field, strict: config.strict) {
            [progress] in progress(.indexing, $0, $1)
        }
        try config.window.validate(ny: series.grid.ny, nx: series.grid.nx)
        let plan = try WindowPlan(series: series, spec: config.window, split: config.split)
        var chain = try config.transformChain()
        let frames = trainingFrames(plan)
        guard !frames.isEmpty else { throw NowcastDataError.emptyStore(detail: "no training windows: lower split.validation/split.test or use more data") }
        if chain.needsFitting {
            let (fitted, statistics, _) = try fit(series: series, plan: plan)
            return (fitted, statistics ?? RunningStatistics(), frames.count)
        }
        let statistics = try statisticsPass(series: series, frames: frames) { values in values.withUnsafeMutableBufferPointer { chain.forward($0) } }
        chain = try config.transformChain()
        return (chain, statistics, frames.count)
    }

    // MARK: - Fitting

    /// Frames used by training windows, in order.
    private func trainingFrames(_ plan: WindowPlan) -> [Int] {
        var used = Set<Int>()
        for window in plan.windows where window.split == .train {
            for i in window.start..<(window.start + config.window.length) { used.insert(i) }
        }
        return used.sorted()
    }

    /// Fits each step that needs statistics on the training frames (one pass per such step), and the
    /// int16 packing range if asked (one more pass).
    private func fit(series: FrameSeries, plan: WindowPlan) throws -> (TransformChain, RunningStatistics?, SampleLayout.Packing?) {
        var chain = try config.transformChain()
        let frames = trainingFrames(plan)
        guard !chain.needsFitting && !config.packInt16 || !frames.isEmpty else {
            throw NowcastDataError.emptyStore(detail: "no training windows to fit the transforms on: lower split.validation/split.test or use more data")
        }
        func pass(steps: Int) throws -> RunningStatistics {
            try statisticsPass(series: series, frames: frames) { values in values.withUnsafeMutableBufferPointer { chain.forward($0, steps: steps) } }
        }
        var fittedStatistics: RunningStatistics?
        while let k = chain.firstUnfitted {
            let statistics = try pass(steps: k)
            chain.steps[k] = chain.steps[k].fitted(to: statistics)
            fittedStatistics = statistics
            log("fitted \(chain.steps[k].summary) on \(statistics.count) values of \(frames.count) training frames")
        }
        var packing: SampleLayout.Packing?
        if config.packInt16 {
            let statistics = try pass(steps: chain.steps.count)
            packing = SampleLayout.Packing(minimum: statistics.minimum, maximum: statistics.maximum)
        }
        return (chain, fittedStatistics, packing)
    }

    /// Statistics of `frames` after `transform`, read and transformed a few frames at a time on every
    /// core; the pieces merge in frame order, so the result does not depend on thread timing.
    private func statisticsPass(series: FrameSeries, frames: [Int], transform: @escaping (inout [Float]) -> Void) throws -> RunningStatistics {
        var statistics = RunningStatistics()
        let batch = 2 * ProcessInfo.processInfo.activeProcessorCount
        var start = 0
        while start < frames.count {
            let indices = Array(frames[start..<min(frames.count, start + batch)])
            var pieces = [RunningStatistics](repeating: RunningStatistics(), count: indices.count)
            let failures = ErrorBox()
            let coarsen = config.window.coarsen
            pieces.withUnsafeMutableBufferPointer { slots in
                DispatchQueue.concurrentPerform(iterations: indices.count) { k in
                    do {
                        var values = Coarsening.blockMean(try series.readFrameConcurrently(indices[k]).values, ny: series.grid.ny, nx: series.grid.nx,
                                                          factor: coarsen)
                        transform(&values)
                        slots[k].add(values)
                    } catch { failures.record(error) }
                }
            }
            if let error = failures.first { throw error }
            for piece in pieces { statistics.merge(piece) }
            start += indices.count
            progress(.fitting, start, frames.count)
        }
        return statistics
    }

    // MARK: - Writing

    private func write(series: FrameSeries, plan: WindowPlan, state: inout ConvertState, statePath: String) throws {
        let spec = config.window
        let origins = spec.patchOrigins(ny: series.grid.ny, nx: series.grid.nx)
        let cx = series.grid.nx / spec.coarsen
        let (sny, snx) = spec.sampleShape(ny: series.grid.ny, nx: series.grid.nx)
        let layout = SampleLayout(inputs: spec.inputs, targets: spec.targets, ny: sny, nx: snx, packing: state.packing,
                                  deflateLevel: config.deflateLevel)
        let cache = FrameCache(series: series, coarsen: spec.coarsen, chain: state.transforms)
        var open: [Split: ShardWriter] = [:]
        var keptInRange = 0
        defer { open.values.forEach { $0.cancel() } }

        func closeRange(nextWindow: Int, nextPatch: Int) throws {
            for split in Split.allCases {
                guard let writer = open[split] else { continue }
                try writer.finish()
                let relative = "\(split.rawValue)/\((writer.path as NSString).lastPathComponent)"
                state.shards[split.rawValue, default: []].append(Manifest.Shard(path: relative, samples: writer.samples))
            }
            open = [:]
            keptInRange = 0
            state.ranges += 1
            state.nextWindow = nextWindow
            state.nextPatch = nextPatch
            try JSONCoding.write(state, to: statePath)
            if let stop = stopAfterRanges, state.ranges >= stop { throw CancellationError() }
        }

        var physical = [Float](repeating: 0, count: layout.sampleValues)
        var transformed = physical
        for w in state.nextWindow..<plan.windows.count {
            let window = plan.windows[w]
            cache.evict(before: window.start)
            let frames = try cache.frames(window.start..<(window.start + spec.length))
            let times = (0..<spec.length).map { series.entries[window.start + $0].validTime }
            for p in (w == state.nextWindow ? state.nextPatch : 0)..<origins.count {
                let origin = origins[p]
                // Gather the patch of every frame, a row at a time.
                physical.withUnsafeMutableBufferPointer { physicalSample in
                    transformed.withUnsafeMutableBufferPointer { transformedSample in
                        for (t, frame) in frames.enumerated() {
                            frame.physical.withUnsafeBufferPointer { sourcePhysical in
                                frame.transformed.withUnsafeBufferPointer { sourceTransformed in
                                    for row in 0..<sny {
                                        let source = (origin.y + row) * cx + origin.x, target = (t * sny + row) * snx
                                        (physicalSample.baseAddress! + target).update(from: sourcePhysical.baseAddress! + source, count: snx)
                                        (transformedSample.baseAddress! + target).update(from: sourceTransformed.baseAddress! + source, count: snx)
                                    }
                                }
                            }
                        }
                    }
                }
                state.counts.samplesExamined += 1
                guard passesFilters(physical, frameValues: sny * snx, counts: &state.counts) else { continue }
                let writer: ShardWriter
                if let existing = open[window.split] {
                    writer = existing
                } else {
                    let folder = (config.output as NSString).appendingPathComponent(window.split.rawValue)
                    try FileError.createFolder(folder)
                    writer = try ShardWriter(path: (folder as NSString).appendingPathComponent(String(format: "shard-%05d.nc", state.ranges)),
                                             layout: layout, split: window.split, transforms: state.transforms)
                    open[window.split] = writer
                }
                try writer.append(transformed, times: times, origin: (origin.y, origin.x))
                state.counts.kept[window.split.rawValue, default: 0] += 1
                keptInRange += 1
                if keptInRange == config.shardSize {
                    let next = p + 1 < origins.count ? (w, p + 1) : (w + 1, 0)
                    try closeRange(nextWindow: next.0, nextPatch: next.1)
                }
            }
            progress(.writing, w + 1, plan.windows.count)
        }
        if !open.isEmpty { try closeRange(nextWindow: plan.windows.count, nextPatch: 0) }
    }

    /// Applies the filters to a sample's physical values; counts the first reason of a rejection.
    private func passesFilters(_ values: [Float], frameValues: Int, counts: inout Manifest.Counts) -> Bool {
        let filters = config.filters
        let split = config.window.inputs * frameValues
        let wetRange: Range<Int>
        switch filters.wetFrames {
        case .inputs: wetRange = 0..<split
        case .targets: wetRange = split..<values.count
        case .both: wetRange = 0..<values.count
        }
        let threshold = Float(filters.wetThreshold)
        // One pass counts both: NaN compares false with the threshold, so it is never wet.
        var missing = 0, wet = 0
        values.withUnsafeBufferPointer { v in
            for i in 0..<v.count {
                let x = v[i]
                missing += x.isNaN ? 1 : 0
                wet += (x > threshold && wetRange.contains(i)) ? 1 : 0
            }
        }
        if Double(missing) > filters.maxMissingFraction * Double(values.count) {
            counts.rejectedMissing += 1
            return false
        }
        if filters.minWetFraction > 0, wetRange.isEmpty || Double(wet) < filters.minWetFraction * Double(wetRange.count) {
            counts.rejectedDry += 1
            return false
        }
        return true
    }

    // MARK: - Folder and identity

    /// Creates the output folder and removes temporary files a killed run left behind.
    private func prepareFolder(_ folder: String) throws {
        try FileError.createFolder(folder)
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return }
        while let relative = enumerator.nextObject() as? String {
            if (relative as NSString).lastPathComponent.contains(".partial-") {
                try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(relative))
            }
        }
    }

    private static func fingerprint(_ config: ConvertConfig, _ series: FrameSeries) throws -> String {
        let text = try JSONCoding.text(config)
        let first = series.entries.first.map { UTCTime.iso8601($0.validTime) } ?? ""
        let last = series.entries.last.map { UTCTime.iso8601($0.validTime) } ?? ""
        return "\(text) frames=\(series.count) \(first)..\(last)"
    }
}
