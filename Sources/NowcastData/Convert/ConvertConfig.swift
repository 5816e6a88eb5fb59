import Foundation
import NowcastIO

/// Configuration of `nowcast convert`, from YAML or JSON (every key also has a command-line flag).
/// Keys are snake_case; an unknown key or a value of the wrong type is an error naming the key.
public struct ConvertConfig: Codable, Equatable, Sendable, ConfigFileDecodable {
    /// Files, folders (searched recursively) and glob patterns.
    public var inputs: [String] = []
    /// What to read from each file (variable, quantity, generic HDF5 dataset and calibration, time
    /// sources), under the same flat keys as the flags: `variable`, `quantity`, `dataset`, `gain`, ...
    public var field = FieldReadOptions()
    /// Transforms in the compact form (`rate:10`, `dbr:0.1:-15`, `zscore`, ...), applied in order.
    public var transforms: [String] = []
    /// Window shape.
    public var window = WindowSpec(inputs: 4, targets: 6)
    /// Sample filters.
    public var filters = WindowFilters()
    /// Split rule.
    public var split = SplitSpec()
    /// Output folder of the store.
    public var output: String = ""
    /// Samples per shard range (each range writes one shard per split it has samples of).
    public var shardSize: Int = 256
    /// Store values as int16 packed over the training range instead of float32.
    public var packInt16: Bool = false
    /// Deflate level of the shards (1 is fast and compresses rain fields well).
    public var deflateLevel: Int = 1
    /// Stop at the first unreadable file instead of skipping it.
    public var strict: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputs, transforms, window, filters, split, output, strict
        case shardSize = "shard_size", packInt16 = "pack_int16", deflateLevel = "deflate_level"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ConvertConfig()
        inputs = try c.decodeIfPresent([String].self, forKey: .inputs) ?? defaults.inputs
        field = try FieldReadOptions(from: decoder)
        transforms = try c.decodeIfPresent([String].self, forKey: .transforms) ?? defaults.transforms
        window = try c.decodeIfPresent(WindowSpec.self, forKey: .window) ?? defaults.window
        filters = try c.decodeIfPresent(WindowFilters.self, forKey: .filters) ?? defaults.filters
        split = try c.decodeIfPresent(SplitSpec.self, forKey: .split) ?? defaults.split
        output = try c.decodeIfPresent(String.self, forKey: .output) ?? defaults.output
        shardSize = try c.decodeIfPresent(Int.self, forKey: .shardSize) ?? defaults.shardSize
        packInt16 = try c.decodeIfPresent(Bool.self, forKey: .packInt16) ?? defaults.packInt16
        deflateLevel = try c.decodeIfPresent(Int.self, forKey: .deflateLevel) ?? defaults.deflateLevel
        strict = try c.decodeIfPresent(Bool.self, forKey: .strict) ?? defaults.strict
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputs, forKey: .inputs)
        try field.encode(to: encoder)
        try c.encode(transforms, forKey: .transforms)
        try c.encode(window, forKey: .window)
        try c.encode(filters, forKey: .filters)
        try c.encode(split, forKey: .split)
        try c.encode(output, forKey: .output)
        try c.encode(shardSize, forKey: .shardSize)
        try c.encode(packInt16, forKey: .packInt16)
        try c.encode(deflateLevel, forKey: .deflateLevel)
        try c.encode(strict, forKey: .strict)
    }

    /// The keys a config file may hold, nested sections as `section.key`.
    public static let knownKeys: [String: Set<String>] = [
        "": Set(CodingKeys.allCases.map(\.rawValue)).union(FieldReadOptions.CodingKeys.allCases.map(\.rawValue)),
        "window": ["inputs", "targets", "stride", "patch_size", "patch_stride", "coarsen"],
        "filters": ["max_missing_fraction", "min_wet_fraction", "wet_threshold", "wet_frames", "exclude_static_missing"],
        "split": ["block_hours", "validation", "test", "seed"],
    ]

    /// Checks every value; errors name the key.
    public func validate() throws {
        guard !inputs.isEmpty else { throw NowcastDataError.invalidSetting(key: "inputs", expected: "at least one file, folder or pattern", found: "none") }
        guard !output.isEmpty else { throw NowcastDataError.invalidSetting(key: "output", expected: "the folder of the store", found: "nothing") }
        guard shardSize >= 1 else { throw NowcastDataError.invalidSetting(key: "shard_size", expected: "at least 1", found: "\(shardSize)") }
        guard (0...9).contains(deflateLevel) else { throw NowcastDataError.invalidSetting(key: "deflate_level", expected: "0 to 9", found: "\(deflateLevel)") }
        try window.check()
        _ = try transformChain()
        try filters.validate()
        try split.validate()
    }

    /// The transform chain the config names (unfitted).
    public func transformChain() throws -> TransformChain {
        TransformChain(try transforms.map { try Transform(parsing: $0) })
    }

}

extension WindowSpec {
    enum CodingKeys: String, CodingKey {
        case inputs, targets, stride, coarsen
        case patchSize = "patch_size", patchStride = "patch_stride"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(inputs: try c.decodeIfPresent(Int.self, forKey: .inputs) ?? 4, targets: try c.decodeIfPresent(Int.self, forKey: .targets) ?? 6,
                  stride: try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1, patchSize: try c.decodeIfPresent(Int.self, forKey: .patchSize),
                  patchStride: try c.decodeIfPresent(Int.self, forKey: .patchStride), coarsen: try c.decodeIfPresent(Int.self, forKey: .coarsen) ?? 1)
    }
}

extension WindowFilters {
    enum CodingKeys: String, CodingKey {
        case maxMissingFraction = "max_missing_fraction", minWetFraction = "min_wet_fraction"
        case wetThreshold = "wet_threshold", wetFrames = "wet_frames", excludeStaticMissing = "exclude_static_missing"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WindowFilters()
        self.init(maxMissingFraction: try c.decodeIfPresent(Double.self, forKey: .maxMissingFraction) ?? d.maxMissingFraction,
                  minWetFraction: try c.decodeIfPresent(Double.self, forKey: .minWetFraction) ?? d.minWetFraction,
                  wetThreshold: try c.decodeIfPresent(Double.self, forKey: .wetThreshold) ?? d.wetThreshold,
                  wetFrames: try c.decodeIfPresent(Frames.self, forKey: .wetFrames) ?? d.wetFrames,
                  excludeStaticMissing: try c.decodeIfPresent(Bool.self, forKey: .excludeStaticMissing) ?? d.excludeStaticMissing)
    }
}

extension SplitSpec {
    enum CodingKeys: String, CodingKey {
        case validation, test, seed
        case blockHours = "block_hours"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SplitSpec()
        self.init(blockHours: try c.decodeIfPresent(Double.self, forKey: .blockHours) ?? d.blockHours,
                  validation: try c.decodeIfPresent(Double.self, forKey: .validation) ?? d.validation,
                  test: try c.decodeIfPresent(Double.self, forKey: .test) ?? d.test,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed)
    }
}
