/// How a motion field is estimated from consecutive frames: `lucas-kanade` (`DenseLucasKanade`,
/// the default: fast, local) or `variational` (`VariationalMotion`: one smooth field fitted to
/// every pair, as pySTEPS's VET). Each with its default settings.
public enum MotionMethod: String, Codable, Sendable, CaseIterable {
    case lucasKanade = "lucas-kanade", variational

    /// The motion per step of `frames` (oldest first, `ny * nx` values each; NaN read as `missing`).
    public func motion(_ frames: [[Float]], ny: Int, nx: Int, missing: Float) throws -> MotionField {
        switch self {
        case .lucasKanade: return try DenseLucasKanade().motion(frames, ny: ny, nx: nx, missing: missing)
        case .variational: return try VariationalMotion().motion(frames, ny: ny, nx: nx, missing: missing)
        }
    }

    /// What a product's history and the terminal call it.
    public var label: String { self == .lucasKanade ? "dense Lucas-Kanade" : "variational" }
}
