/// The shape of a training sample: `inputs` + `targets` consecutive frames (no gap inside), taken
/// every `stride` frames, over the full domain or over square patches, optionally coarsened.
public struct WindowSpec: Codable, Equatable, Sendable {
    /// Number of input frames (T_in).
    public var inputs: Int
    /// Number of target frames (T_out).
    public var targets: Int
    /// Frames between the starts of consecutive windows.
    public var stride: Int = 1
    /// Side of square patches in (coarsened) cells; nil for the full domain.
    public var patchSize: Int?
    /// Cells between patch origins; nil for `patchSize` (no overlap).
    public var patchStride: Int?
    /// Block-mean coarsening factor (1 keeps the grid).
    public var coarsen: Int = 1

    public init(inputs: Int, targets: Int, stride: Int = 1, patchSize: Int? = nil, patchStride: Int? = nil, coarsen: Int = 1) {
        self.inputs = inputs
        self.targets = targets
        self.stride = stride
        self.patchSize = patchSize
        self.patchStride = patchStride
        self.coarsen = coarsen
    }

    /// Frames per window.
    public var length: Int { inputs + targets }

    /// Checks the values; the error names the key.
    public func validate(ny: Int, nx: Int) throws {
        try check()
        guard coarsen <= min(ny, nx) else {
            throw NowcastDataError.invalidSetting(key: "window.coarsen", expected: "1 to \(min(ny, nx)) for a \(ny) x \(nx) grid", found: "\(coarsen)")
        }
        let (cy, cx) = (ny / coarsen, nx / coarsen)
        if let size = patchSize {
            guard size >= 1, size <= min(cy, cx) else {
                throw NowcastDataError.invalidSetting(key: "window.patch_size", expected: "1 to \(min(cy, cx)) to fit the \(cy) x \(cx) grid"
                                                      + (coarsen > 1 ? " (coarsened)" : ""), found: "\(size)")
            }
        }
    }

    /// Checks what can be checked without the grid (when the config is read); the error names the key.
    public func check() throws {
        func require(_ ok: Bool, _ key: String, _ expected: String, _ found: Int) throws {
            guard ok else { throw NowcastDataError.invalidSetting(key: key, expected: expected, found: "\(found)") }
        }
        try require(inputs >= 1, "window.inputs", "at least 1", inputs)
        try require(targets >= 1, "window.targets", "at least 1 (a sample needs a frame to forecast)", targets)
        try require(stride >= 1, "window.stride", "at least 1", stride)
        try require(coarsen >= 1, "window.coarsen", "at least 1", coarsen)
        if let size = patchSize { try require(size >= 1, "window.patch_size", "at least 1", size) }
        if let step = patchStride { try require(step >= 1, "window.patch_stride", "at least 1", step) }
    }

    /// Rows and columns of a sample.
    public func sampleShape(ny: Int, nx: Int) -> (ny: Int, nx: Int) {
        let (cy, cx) = (ny / coarsen, nx / coarsen)
        return patchSize.map { ($0, $0) } ?? (cy, cx)
    }

    /// Patch origins (row, column) in coarsened cells, row by row.
    public func patchOrigins(ny: Int, nx: Int) -> [(y: Int, x: Int)] {
        let (cy, cx) = (ny / coarsen, nx / coarsen)
        guard let size = patchSize else { return [(0, 0)] }
        let step = patchStride ?? size
        return Swift.stride(from: 0, through: cy - size, by: step).flatMap { y in
            Swift.stride(from: 0, through: cx - size, by: step).map { (y, $0) }
        }
    }
}

/// Filters applied to each sample, in physical units before any transform.
public struct WindowFilters: Codable, Equatable, Sendable {
    /// Which frames the wet-fraction test looks at.
    public enum Frames: String, Codable, Sendable, CaseIterable { case inputs, targets, both }

    /// Largest share of missing (NaN) values allowed over the whole sample.
    public var maxMissingFraction: Double = 0.05
    /// Smallest share of values above `wetThreshold` required.
    public var minWetFraction: Double = 0
    /// The rain threshold of the wet fraction, in the field's units.
    public var wetThreshold: Double = 0.1
    /// Frames the wet fraction is measured on.
    public var wetFrames: Frames = .inputs
    /// Leave the cells missing in every frame (outside the coverage) out of the missing and wet
    /// fractions: a composite's never-observed corners then do not reject its samples.
    public var excludeStaticMissing = true

    public init(maxMissingFraction: Double = 0.05, minWetFraction: Double = 0, wetThreshold: Double = 0.1, wetFrames: Frames = .inputs,
                excludeStaticMissing: Bool = true) {
        self.maxMissingFraction = maxMissingFraction
        self.minWetFraction = minWetFraction
        self.wetThreshold = wetThreshold
        self.wetFrames = wetFrames
        self.excludeStaticMissing = excludeStaticMissing
    }

    /// Checks the values; the error names the key.
    public func validate() throws {
        guard (0...1).contains(maxMissingFraction) else {
            throw NowcastDataError.invalidSetting(key: "filters.max_missing_fraction", expected: "0 to 1", found: "\(maxMissingFraction)")
        }
        guard (0...1).contains(minWetFraction) else {
            throw NowcastDataError.invalidSetting(key: "filters.min_wet_fraction", expected: "0 to 1", found: "\(minWetFraction)")
        }
        guard wetThreshold.isFinite else {
            throw NowcastDataError.invalidSetting(key: "filters.wet_threshold", expected: "a finite number", found: "\(wetThreshold)")
        }
    }
}
