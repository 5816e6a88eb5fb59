/// How fields are compared, shared by every score: what makes an event, and what a missing (NaN)
/// value means. The defaults are `../shared/bench/pysteps/verify.py`'s (pySTEPS's own): an event
/// is a value strictly above the threshold; NaN counts as no rain for categorical and spatial
/// scores and is left out of continuous and ensemble ones.
public struct ScoreRules: Codable, Equatable, Sendable {
    /// An event: `value > threshold` (`.above`) or `value >= threshold` (`.atOrAbove`).
    public enum Comparison: String, Codable, Sendable { case above, atOrAbove = "at_or_above" }
    /// What NaN means for categorical and spatial scores: no event, or the pixel is left out.
    public enum Missing: String, Codable, Sendable { case noRain = "no_rain", leftOut = "left_out" }

    public var comparison: Comparison
    public var categoricalMissing: Missing

    public init(comparison: Comparison = .above, categoricalMissing: Missing = .noRain) {
        (self.comparison, self.categoricalMissing) = (comparison, categoricalMissing)
    }

    /// True when `value` is an event at `threshold` (NaN never is).
    @inlinable
    public func isEvent(_ value: Float, _ threshold: Float) -> Bool {
        comparison == .above ? value > threshold : value >= threshold
    }

    /// True when a pixel with these values takes part in categorical and spatial scores.
    @inlinable
    public func counts(_ forecast: Float, _ observed: Float) -> Bool {
        categoricalMissing == .noRain || (!forecast.isNaN && !observed.isNaN)
    }
}
