import Foundation
import NowcastData
import NowcastIO
import NowcastVerify

/// What `nowcast verify` scores: groups of forecast products (each group one label), the
/// observations, the baselines made on the fly, and the scores' settings.
public struct VerificationConfig: Sendable {
    /// One forecast source: its products (files, folders or glob patterns) and the label reports use.
    public struct Source: Sendable, Equatable {
        public var products: [String]
        public var label: String
        public init(products: [String], label: String) { (self.products, self.label) = (products, label) }
    }

    /// Baselines computed from the observations for every product's reference time.
    public enum Baseline: String, Sendable, CaseIterable { case persistence, extrapolation }

    public var sources: [Source] = []
    /// The observations: files, folders or glob patterns of any archive the readers take.
    public var observations: [String] = []
    /// How the observations are read (variable, time attribute, ...), as in convert.
    public var field = FieldReadOptions()
    /// Physical transforms bringing the observations into the forecasts' units (e.g. `rate:10`).
    public var transforms: [String] = []
    public var baselines: [Baseline] = [.persistence, .extrapolation]
    public var thresholds: [Double] = [0.5, 1, 5]
    public var scales: [Int] = [1, 4, 16]
    public var rules = ScoreRules()
    /// Probability bins of the reliability diagram.
    public var bins = 11
    /// Continuous scores also on pySTEPS's dBR scale (0.1 mm/h, -15 dBR) when true.
    public var decibel = true
    /// Frames the extrapolation baseline estimates its motion from.
    public var motionFrames = 3
    /// The forecast variable in the products, when the file has several.
    public var forecastVariable: String?
    /// Score every source only where all sources (members and baselines) and the observation are
    /// valid, so that they are compared on the same pixels.
    public var commonPixels = false

    public init() {}

    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ expected: String, _ found: @autoclosure () -> String) throws {
            if !ok { throw VerificationError.setting(key: key, expected: expected, found: found()) }
        }
        try require(!sources.isEmpty && sources.allSatisfy { !$0.products.isEmpty }, "forecast", "at least one product file, folder or pattern", "none")
        try require(!observations.isEmpty, "obs", "the observations' files, folder or pattern", "none")
        try require(!thresholds.isEmpty && thresholds.allSatisfy(\.isFinite), "thresholds", "finite numbers, e.g. 0.5,1,5", "\(thresholds)")
        try require(!scales.isEmpty && scales.allSatisfy { $0 >= 1 && $0 <= 100_000 }, "scales", "whole numbers of pixels from 1, e.g. 1,4,16", "\(scales)")
        try require(bins >= 2 && bins <= 1000, "bins", "2 to 1000", "\(bins)")
        try require(motionFrames >= 2 && motionFrames <= 12, "motion_frames", "2 to 12", "\(motionFrames)")
        try require(!commonPixels || rules.categoricalMissing == .leftOut, "missing", "left-out with common pixels (a pixel missing anywhere is not scored)", "no-rain")
        let labels = sources.map(\.label) + baselines.map(\.rawValue)
        if let repeated = labels.first(where: { label in labels.filter { $0 == label }.count > 1 }) {
            throw VerificationError.setting(key: "label", expected: "a different label for each forecast source and baseline", found: "'\(repeated)' twice")
        }
        try require(labels.allSatisfy { !$0.isEmpty }, "label", "a non-empty label", "an empty one")
        _ = try transformChain()
    }

    /// The observations' transforms: physical ones only (a forecast is scored in physical units).
    public func transformChain() throws -> TransformChain {
        let chain: TransformChain
        do { chain = TransformChain(try transforms.map { try Transform(parsing: $0) }) } catch {
            throw VerificationError.setting(key: "transform", expected: "convert's physical transforms (rate:MIN, clip:LO:HI)", found: "\(transforms): \(error)")
        }
        guard chain.physicalSteps == chain.steps.count else {
            throw VerificationError.setting(key: "transform", expected: "physical transforms only (rate:MIN, clip:LO:HI); scores are computed in physical units",
                                            found: chain.summary)
        }
        return chain
    }
}
