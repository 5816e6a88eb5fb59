import Foundation

/// What a conversion has finished, saved atomically after each shard range so that a killed run
/// resumes where the last range ended and gives the same store as an uninterrupted run.
struct ConvertState: Codable, Equatable {
    /// Identifies the conversion (config and series); a state of another conversion is not resumed.
    var fingerprint: String
    /// The fitted transforms and their statistics.
    var transforms: TransformChain
    var statistics: RunningStatistics?
    var packing: SampleLayout.Packing?
    /// Position of the next sample: window index and patch index.
    var nextWindow: Int
    var nextPatch: Int
    /// Ranges finished.
    var ranges: Int
    /// Counts up to the position.
    var counts: Manifest.Counts
    /// Frames whose non-finite values are in `counts` (all before this index).
    var countedFrames = 0
    /// Shards finished, per split.
    var shards: [String: [Manifest.Shard]]

    static let fileName = "convert-state.json"
}
