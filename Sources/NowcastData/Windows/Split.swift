import Foundation

/// Which part of the data a sample belongs to.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, validation, test
}

/// Assignment of time to splits by contiguous blocks (e.g. whole days): every block goes wholly to
/// one split, drawn with the given shares from a seeded hash of the block number, so that no window
/// can leak across splits. Windows that straddle two blocks are dropped.
public struct SplitSpec: Codable, Equatable, Sendable {
    /// Block length in hours (24: whole UTC days).
    public var blockHours: Double = 24
    /// Share of blocks for validation.
    public var validation: Double = 0.15
    /// Share of blocks for testing.
    public var test: Double = 0.15
    /// Seed of the assignment.
    public var seed: UInt64 = 0

    public init(blockHours: Double = 24, validation: Double = 0.15, test: Double = 0.15, seed: UInt64 = 0) {
        self.blockHours = blockHours
        self.validation = validation
        self.test = test
        self.seed = seed
    }

    /// Checks the values; the error names the key.
    public func validate() throws {
        // Blocks shorter than a second would number more than Int64 holds over the calendar.
        guard blockHours.isFinite, blockHours >= 1.0 / 3600 else {
            throw NowcastDataError.invalidSetting(key: "split.block_hours", expected: "a number of hours of at least 1/3600 (a second)",
                                                  found: "\(blockHours)")
        }
        guard validation >= 0, test >= 0, validation + test <= 1 else {
            throw NowcastDataError.invalidSetting(key: "split.validation + split.test", expected: "shares between 0 and 1 summing to at most 1",
                                                  found: "\(validation) and \(test)")
        }
    }

    /// The share of blocks `split` is given.
    public func share(of split: Split) -> Double {
        switch split {
        case .train: return max(0, 1 - validation - test)
        case .validation: return validation
        case .test: return test
        }
    }

    /// The block a time falls in (times are those readers accept: the years 1 to 9999).
    public func block(of time: Date) -> Int64 {
        let block = (time.timeIntervalSince1970 / (blockHours * 3600)).rounded(.down)
        return block.isFinite ? Int64(max(-9e18, min(9e18, block))) : 0
    }

    /// The split of a block.
    public func split(ofBlock block: Int64) -> Split {
        var z = UInt64(bitPattern: block) &+ seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = Double(z >> 11) * 0x1p-53
        if u < test { return .test }
        if u < test + validation { return .validation }
        return .train
    }
}
