import Foundation
import NowcastCore
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

    /// Runs the conversion; returns the manifest written. Refuses, before writing anything, an
    /// archive that makes no window; when every sample is rejected, says which filter rejected
    /// them and what they had, and leaves no store.
    @discardableResult
    public func run() throws -> Manifest {
        try config.validate()
        let files = try ArchiveListing.files(config.inputs)
        let series = try FrameSeries(files: files, options: config.field, strict: config.strict) { [progress] in
            progress(.indexing, $0, $1)
        }
        for skipped in series.report.skipped { log("warning: skipped \(skipped)") }
        for warning in series.report.warningLines { log("warning: \(warning)") }
        try config.window.validate(ny: series.grid.ny, nx: series.grid.nx)
        let plan = try WindowPlan(series: series, spec: config.window, split: config.split)
        try checkPlan(plan, series: series)
        let output = config.output
        let createdOutput = !FileManager.default.fileExists(atPath: output)
        try prepareFolder(output)
        do {
            return try convert(series: series, plan: plan)
        } catch {
            // A folder this run made and left empty goes too: nothing half written.
            if createdOutput, (try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty ?? false {
                try? FileManager.default.removeItem(atPath: output)
            }
            throw error
        }
    }

    private func convert(series: FrameSeries, plan: WindowPlan) throws -> Manifest {
        let output = config.output
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
        let staticMissing = try StaticMissing(series: series, coarsen: config.window.coarsen)
        var state: ConvertState
        if let data = FileManager.default.contents(atPath: statePath), let saved = try? JSONCoding.decoder().decode(ConvertState.self, from: data),
           saved.fingerprint == fingerprint {
            state = saved
            log("resuming: \(saved.ranges) shard ranges done, from window \(saved.nextWindow) of \(plan.windows.count)")
        } else {
            let contents = try FileError.wrapping(.read, output) { try FileManager.default.contentsOfDirectory(atPath: output) }
            guard contents.filter({ !$0.hasPrefix(".") }).isEmpty else {
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
            counts.nonFiniteValues = 0
            state = ConvertState(fingerprint: fingerprint, transforms: chain, statistics: statistics, packing: packing,
                                 nextWindow: 0, nextPatch: 0, ranges: 0, counts: counts, shards: [:])
            try JSONCoding.write(state, to: statePath)
        }
        /// A run that stops before its first shard range leaves nothing to resume: no state, no split folders.
        func forgetUnstarted() {
            guard state.ranges == 0 else { return }
            try? FileManager.default.removeItem(atPath: statePath)
            for split in Split.allCases { try? FileManager.default.removeItem(atPath: (output as NSString).appendingPathComponent(split.rawValue)) }
        }
        do { try write(series: series, plan: plan, staticMissing: staticMissing, state: &state, statePath: statePath) } catch {
            forgetUnstarted()
            throw error
        }
        guard state.counts.keptTotal > 0 else {
            // Nothing kept: leave no store (the caller removes the folder this run made).
            forgetUnstarted()
            throw NowcastDataError.emptyStore(detail: SampleFilter.emptyStoreReason(state.counts, config.filters))
        }
        // Splits that had windows but lost them all to the filters (an empty plan was said already).
        for split in Split.allCases where state.counts.kept[split.rawValue, default: 0] == 0 && plan.windows.contains(where: { $0.split == split }) {
            log("warning: the \(split.rawValue) split is empty: the filters rejected all of its samples")
        }
        let (sny, snx) = config.window.sampleShape(ny: series.grid.ny, nx: series.grid.nx)
        let first = try series.frame(0)
        var manifest = Manifest(
            layout: SampleLayout(inputs: config.window.inputs, targets: config.window.targets, ny: sny, nx: snx,
                                 packing: state.packing, deflateLevel: config.deflateLevel),
            transforms: state.transforms, statistics: state.statistics, units: first.units,
            quantity: first.quantity, stepSeconds: series.step,
            grid: GridSummary(ny: series.grid.ny, nx: series.grid.nx, dx: series.grid.dx, dy: series.grid.dy, xyUnits: series.grid.xyUnits,
                              projection: series.grid.projection, firstX: series.grid.x.first, firstY: series.grid.y.first),
            split: config.split, counts: state.counts, shards: state.shards, config: config, sources: series.entries.map(\.path))
        manifest.staticMissing = staticMissing.summary
        manifest.sourceFormat = series.report.format
        manifest.sourceDecoding = series.report.decoding
        try JSONCoding.write(manifest, to: manifestPath)
        try? FileManager.default.removeItem(atPath: statePath)
        return manifest
    }

    /// Refuses a plan with no window, saying why the candidates were dropped; warns of splits that
    /// will be empty.
    private func checkPlan(_ plan: WindowPlan, series: FrameSeries) throws {
        let minutes = series.step / 60
        guard !plan.windows.isEmpty else {
            throw NowcastDataError.emptyStore(detail: "no window of \(config.window.length) consecutive frames (\(config.window.inputs) + "
                + "\(config.window.targets)) fits the series of \(series.count) frames every \(plainNumber(minutes)) min: "
                + "\(plan.rejectedForGaps) have a gap inside, \(plan.rejectedForSplitBoundary) cross split blocks of "
                + "\(plainNumber(config.split.blockHours)) h (split.block_hours); no store was written")
        }
        let blocks = Set(plan.windows.map { config.split.block(of: series.entries[$0.start].validTime) }).count
        for split in Split.allCases {
            let share = config.split.share(of: split)
            if share > 0, !plan.windows.contains(where: { $0.split == split }) {
                log("warning: the \(split.rawValue) split will be empty: its share is \(share) of the blocks, and the \(plan.windows.count) "
                    + "windows fall in \(blocks) block\(blocks == 1 ? "" : "s") of \(plainNumber(config.split.blockHours)) h; "
                    + "use more data or shorter blocks (split.block_hours)")
            }
        }
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
        let chain = try config.transformChain()
        let frames = trainingFrames(plan)
        guard !frames.isEmpty else { throw NowcastDataError.emptyStore(detail: "no training windows: lower split.validation/split.test or use more data") }
        if chain.needsFitting {
            let (fitted, statistics, _) = try fit(series: series, plan: plan)
            return (fitted, statistics ?? RunningStatistics(), frames.count)
        }
        let statistics = try statisticsPass(series: series, frames: frames, chain: chain, steps: chain.steps.count)
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
        func pass(steps: Int, for purpose: String) throws -> RunningStatistics {
            let statistics = try statisticsPass(series: series, frames: frames, chain: chain, steps: steps)
            guard statistics.count > 0 else {
                throw NowcastDataError.emptyStore(detail: "the \(frames.count) training frames hold no valid value to fit \(purpose) on; "
                    + "no store was written")
            }
            return statistics
        }
        var fittedStatistics: RunningStatistics?
        while let k = chain.firstUnfitted {
            let statistics = try pass(steps: k, for: chain.steps[k].summary)
            chain.steps[k] = chain.steps[k].fitted(to: statistics)
            fittedStatistics = statistics
            log("fitted \(chain.steps[k].summary) on \(statistics.count) values of \(frames.count) training frames")
        }
        var packing: SampleLayout.Packing?
        if config.packInt16 {
            let statistics = try pass(steps: chain.steps.count, for: "the int16 packing")
            packing = SampleLayout.Packing(minimum: statistics.minimum, maximum: statistics.maximum)
        }
        guard chain.isFinite else {
            throw NowcastDataError.emptyStore(detail: "fitting gave non-finite transform parameters (\(chain.summary)); no store was written")
        }
        return (chain, fittedStatistics, packing)
    }

    /// Statistics of `frames` after the first `steps` of `chain`, read and transformed a few frames
    /// at a time on every core; the pieces merge in frame order, so the result does not depend on
    /// thread timing.
    private func statisticsPass(series: FrameSeries, frames: [Int], chain: TransformChain, steps: Int) throws -> RunningStatistics {
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
                        slots[k].add(try PreparedFrame(series: series, index: indices[k], coarsen: coarsen, chain: chain, steps: steps).transformed)
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

    /// Writes the kept samples of every window from where `state` stands, a shard per split and
    /// range of `shard_size` samples; the state is saved after each range (what a resume starts from).
    private func write(series: FrameSeries, plan: WindowPlan, staticMissing: StaticMissing, state: inout ConvertState, statePath: String) throws {
        let spec = config.window
        let (sny, snx) = spec.sampleShape(ny: series.grid.ny, nx: series.grid.nx)
        var extractor = SampleExtractor(spec: spec, ny: series.grid.ny, nx: series.grid.nx, filters: config.filters, staticMissing: staticMissing)
        let origins = extractor.origins
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

        /// The open shard of `split` in this range, created on its first sample.
        func writer(for split: Split) throws -> ShardWriter {
            if let existing = open[split] { return existing }
            let folder = (config.output as NSString).appendingPathComponent(split.rawValue)
            try FileError.createFolder(folder)
            let writer = try ShardWriter(path: (folder as NSString).appendingPathComponent(String(format: "shard-%05d.nc", state.ranges)),
                                         layout: layout, split: split, transforms: state.transforms)
            open[split] = writer
            return writer
        }

        for w in state.nextWindow..<plan.windows.count {
            let window = plan.windows[w]
            cache.evict(before: window.start)
            let frames = try cache.frames(window.start..<(window.start + spec.length))
            for (k, frame) in frames.enumerated() where window.start + k >= state.countedFrames {
                state.counts.nonFiniteValues = (state.counts.nonFiniteValues ?? 0) + frame.nonFinite
            }
            state.countedFrames = max(state.countedFrames, window.start + spec.length)
            let times = (0..<spec.length).map { series.entries[window.start + $0].validTime }
            for p in (w == state.nextWindow ? state.nextPatch : 0)..<origins.count {
                guard let sample = extractor.sample(frames, patch: p, counts: &state.counts) else { continue }
                try writer(for: window.split).append(sample, times: times, origin: (origins[p].y, origins[p].x))
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

/// A number (hours, minutes) without a needless fraction.
func plainNumber(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%g", value) }
