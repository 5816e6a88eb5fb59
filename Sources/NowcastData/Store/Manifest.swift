import Foundation
import NowcastCore
import NowcastIO

/// `manifest.json` of a sample store: everything needed to use and to reproduce it.
public struct Manifest: Codable, Equatable, Sendable {
    /// One shard file.
    public struct Shard: Codable, Equatable, Sendable {
        /// Path relative to the store folder, e.g. `train/shard-00003.nc`.
        public var path: String
        /// Samples in the shard.
        public var samples: Int
    }

    /// Counts of what the conversion kept and left out, and why.
    public struct Counts: Codable, Equatable, Sendable {
        /// Frames in the series.
        public var frames = 0
        /// Files skipped as unreadable.
        public var filesSkipped = 0
        /// Duplicate valid times dropped.
        public var duplicateFrames = 0
        /// Missing time steps inside the series.
        public var missingSteps = 0
        /// Windows planned (time-consecutive, inside one split block).
        public var windows = 0
        /// Candidate windows with a gap inside.
        public var rejectedGaps = 0
        /// Candidate windows spanning two split blocks.
        public var rejectedSplitBoundary = 0
        /// Samples (window x patch) examined.
        public var samplesExamined = 0
        /// Samples rejected for too many missing values.
        public var rejectedMissing = 0
        /// Samples rejected for too little rain.
        public var rejectedDry = 0
        /// Samples kept, per split.
        public var kept: [String: Int] = [:]
        /// Stored values the readers found NaN or infinite where valid, and made missing (nil in
        /// stores written before this was counted).
        public var nonFiniteValues: Int?
        /// The smallest missing fraction among the samples rejected for missing data.
        public var leastMissingRejected: Double?
        /// The largest wet fraction among the samples rejected as too dry.
        public var wettestRejected: Double?

        public init() {}

        /// Samples kept over all splits.
        public var keptTotal: Int { kept.values.reduce(0, +) }
    }

    /// The cells missing in every frame examined (outside the coverage), on the grid samples are cut from.
    public struct StaticMissing: Codable, Equatable, Sendable {
        /// Frames examined.
        public var framesExamined: Int
        /// Cells missing in all of them.
        public var cells: Int
        /// Their share of the grid.
        public var fraction: Double
    }

    /// Format version of the store.
    public var version = 1
    /// The sample layout.
    public var layout: SampleLayout
    /// The fitted transform chain (physical -> stored).
    public var transforms: TransformChain
    /// Statistics of the fitted transform's input on the training split, when a step needed them.
    public var statistics: RunningStatistics?
    /// Physical units of the source field.
    public var units: String
    /// Quantity of the source field.
    public var quantity: String
    /// Time step of the series in seconds.
    public var stepSeconds: Double
    /// The source grid (before coarsening and patching).
    public var grid: GridSummary
    /// The split rule.
    public var split: SplitSpec
    /// Counts.
    public var counts: Counts
    /// The static missing cells (nil in stores written before they were measured).
    public var staticMissing: StaticMissing?
    /// The source files' format and how their values were decoded (`raw values, no calibration
    /// found` when they were not), as the first file says (nil in older stores).
    public var sourceFormat: String?
    public var sourceDecoding: String?
    /// Shards per split name.
    public var shards: [String: [Shard]]
    /// The conversion configuration as given.
    public var config: ConvertConfig
    /// Source files of the frames, in time order.
    public var sources: [String]

    /// Reads `manifest.json` from a store folder.
    public static func load(from folder: String) throws -> Manifest {
        let path = (folder as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NowcastDataError.store(path: folder, detail: "not a sample store (no manifest.json)")
        }
        do { return try JSONCoding.decoder().decode(Manifest.self, from: data) } catch {
            throw NowcastDataError.store(path: path, detail: "not a readable manifest (\(oneLine(error)))")
        }
    }
}

/// The parts of a grid a manifest records (coordinates are summarised, not listed).
public struct GridSummary: Codable, Equatable, Sendable {
    public var ny: Int
    public var nx: Int
    public var dx: Double
    public var dy: Double
    public var xyUnits: String
    public var projection: String?
    public var firstX: Double?
    public var firstY: Double?
}

