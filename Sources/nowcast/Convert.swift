import ArgumentParser
import Foundation
import NowcastCore
import NowcastData
import NowcastIO

/// Conversion options: a config file, and every key as a flag overriding it.
struct ConvertOptions: ParsableArguments {
    @Option(help: "YAML or JSON config file (see fixtures/convert.yaml); flags override its keys.")
    var config: String?

    @Option(name: .customLong("input"), help: "A file, folder or glob pattern (repeatable): inputs.")
    var inputs: [String] = []

    @OptionGroup var field: FieldOptions

    @Option(name: .customLong("transform"), help: "A transform, in order (repeatable): rate:MIN, clip:T:BELOW[:MAX], dbr:T:ZERO, log:EPS, boxcox:L:EPS, zscore, minmax.")
    var transforms: [String] = []

    @Option(help: "Input frames per window: window.inputs.")
    var tIn: Int?

    @Option(help: "Target frames per window: window.targets.")
    var tOut: Int?

    @Option(help: "Frames between window starts: window.stride.")
    var stride: Int?

    @Option(help: "Square patch side in cells: window.patch_size (default: the full domain).")
    var patchSize: Int?

    @Option(help: "Cells between patch origins: window.patch_stride.")
    var patchStride: Int?

    @Option(help: "Block-mean coarsening factor: window.coarsen.")
    var coarsen: Int?

    @Option(help: "Largest missing share per sample: filters.max_missing_fraction.")
    var maxMissingFraction: Double?

    @Option(help: "Smallest wet share per sample: filters.min_wet_fraction.")
    var minWetFraction: Double?

    @Option(help: "Rain threshold of the wet share: filters.wet_threshold.")
    var wetThreshold: Double?

    @Option(help: "Frames the wet share is measured on (inputs, targets, both): filters.wet_frames.")
    var wetFrames: String?

    @Flag(help: "Count the cells missing in every frame (outside the coverage) in the missing and wet shares: filters.exclude_static_missing false.")
    var countStaticMissing = false

    @Option(help: "Split block length in hours: split.block_hours.")
    var blockHours: Double?

    @Option(help: "Share of blocks for validation: split.validation.")
    var validation: Double?

    @Option(help: "Share of blocks for testing: split.test.")
    var test: Double?

    @Option(help: "Seed of the split: split.seed.")
    var splitSeed: UInt64?

    @Option(name: [.short, .long], help: "Store folder: output.")
    var output: String?

    @Option(help: "Samples per shard range: shard_size.")
    var shardSize: Int?

    @Flag(help: "Store int16 packed values: pack_int16.")
    var packInt16 = false

    @Option(help: "Deflate level of the shards: deflate_level.")
    var deflateLevel: Int?

    @Flag(help: "Stop at the first unreadable file: strict.")
    var strict = false

    /// The config file with the flags applied.
    func resolved() throws -> ConvertConfig {
        var c = try config.map(ConvertConfig.load) ?? ConvertConfig()
        if !inputs.isEmpty { c.inputs = inputs }
        try field.apply(to: &c.field)
        if !transforms.isEmpty { c.transforms = transforms }
        if let tIn { c.window.inputs = tIn }
        if let tOut { c.window.targets = tOut }
        if let stride { c.window.stride = stride }
        if let patchSize { c.window.patchSize = patchSize }
        if let patchStride { c.window.patchStride = patchStride }
        if let coarsen { c.window.coarsen = coarsen }
        if let maxMissingFraction { c.filters.maxMissingFraction = maxMissingFraction }
        if let minWetFraction { c.filters.minWetFraction = minWetFraction }
        if let wetThreshold { c.filters.wetThreshold = wetThreshold }
        if let wetFrames {
            guard let frames = WindowFilters.Frames(rawValue: wetFrames) else {
                throw ValidationError("--wet-frames '\(wetFrames)': expected inputs, targets or both")
            }
            c.filters.wetFrames = frames
        }
        if countStaticMissing { c.filters.excludeStaticMissing = false }
        if let blockHours { c.split.blockHours = blockHours }
        if let validation { c.split.validation = validation }
        if let test { c.split.test = test }
        if let splitSeed { c.split.seed = splitSeed }
        if let output { c.output = output }
        if let shardSize { c.shardSize = shardSize }
        if packInt16 { c.packInt16 = true }
        if let deflateLevel { c.deflateLevel = deflateLevel }
        if strict { c.strict = true }
        return c
    }
}

/// Progress bars per phase of a conversion.
final class PhaseProgress {
    private var current: (Converter.Phase, Progress)?

    func update(_ phase: Converter.Phase, _ done: Int, _ total: Int) {
        if current?.0 != phase {
            current = (phase, Progress(phase.rawValue, total: total, unit: phase == .writing ? "windows" : phase == .indexing ? "files" : "frames"))
        }
        current?.1.update(done)
    }
}

/// `nowcast convert`: an archive into a training set.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a radar archive into a training set: windows, patches, filters, transforms, splits, NetCDF-4 shards.",
        discussion: helpExamples("nowcast convert --config fixtures/convert.yaml",
                                 "nowcast convert --input /data/radar/2023 --transform rate:10 --transform dbr:0.1:-15 --transform zscore --t-in 4 --t-out 6 --patch-size 128 -o /data/stores/2023"))

    @OptionGroup var options: ConvertOptions

    func run() throws {
        let config = try options.resolved()
        let converter = Converter(config: config)
        let progress = PhaseProgress()
        converter.progress = { progress.update($0, $1, $2) }
        converter.log = { printError($0) }
        let started = Date()
        let manifest = try converter.run()
        let seconds = Date().timeIntervalSince(started)
        let c = manifest.counts
        let kept = Split.allCases.map { "\($0.rawValue) \(c.kept[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        let staticCells = manifest.staticMissing.map {
            "; \($0.cells) cells (\(String(format: "%.1f", 100 * $0.fraction)) %) missing in all \($0.framesExamined) frames examined, "
                + (config.filters.excludeStaticMissing ? "left out of the shares" : "counted")
        } ?? ""
        print("""
        store      \(config.output)
        source     \(manifest.sourceFormat ?? "?"); \(manifest.sourceDecoding ?? "?")\(c.nonFiniteValues.map { $0 > 0 ? "; \($0) non-finite values read as missing" : "" } ?? "")
        frames     \(c.frames) (files skipped \(c.filesSkipped), duplicates \(c.duplicateFrames), missing steps \(c.missingSteps)); \(String(format: "%.1f", Double(c.frames) / max(seconds, 1e-9))) frames/s, \(String(format: "%.1f", seconds)) s, peak RSS \(peakResidentMegabytes()) MB
        windows    \(c.windows) planned (rejected: \(c.rejectedGaps) with a gap, \(c.rejectedSplitBoundary) across split blocks)
        samples    \(c.samplesExamined) examined; rejected \(c.rejectedMissing) for missing data, \(c.rejectedDry) as too dry\(staticCells)
        kept       \(kept)
        layout     \(manifest.layout.inputs) + \(manifest.layout.targets) frames of \(manifest.layout.ny) x \(manifest.layout.nx), \(manifest.layout.packing == nil ? "float32" : "int16 packed")
        transforms \(manifest.transforms.summary)
        shards     \(Split.allCases.map { "\($0.rawValue) \(manifest.shards[$0.rawValue]?.count ?? 0)" }.joined(separator: ", "))
        """)
    }
}

/// `nowcast stats`: the normalisation statistics alone.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute the normalisation statistics of an archive's training split (same options as convert; output not needed).",
        discussion: helpExamples("nowcast stats --input /data/radar/2023 --transform dbr:0.1:-15 --transform zscore --t-in 4 --t-out 6"))

    @OptionGroup var options: ConvertOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        var config = try options.resolved()
        if config.output.isEmpty { config.output = "-" }
        let converter = Converter(config: config)
        let progress = PhaseProgress()
        converter.progress = { progress.update($0, $1, $2) }
        converter.log = { printError($0) }
        let (chain, s, frames) = try converter.statistics()
        if json {
            struct Report: Encodable { var frames: Int; var count: Int; var mean: Double; var std: Double; var min: Double; var max: Double; var transforms: TransformChain }
            print(String(decoding: try JSONCoding.encode(Report(frames: frames, count: s.count, mean: s.mean, std: s.standardDeviation,
                                                              min: s.minimum, max: s.maximum, transforms: chain)), as: UTF8.self))
        } else {
            print(String(format: "training frames %d, values %d: mean %.6g, std %.6g, min %.6g, max %.6g", frames, s.count, s.mean,
                         s.standardDeviation, s.minimum, s.maximum))
            print("transforms \(chain.summary)")
        }
    }
}

/// Peak resident memory of this process in MB (VmHWM), 0 where /proc is absent.
func peakResidentMegabytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes / 1024
}
