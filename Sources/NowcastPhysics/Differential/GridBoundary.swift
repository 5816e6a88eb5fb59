/// What lies beyond an edge of the grid for a finite-difference stencil: the ghost values it reads
/// there. Grid points are cell centres `0..<n` along each axis.
public enum GridBoundary: Sendable, Equatable {
    /// The grid wraps around: ghost -1 is point n - 1.
    case periodic
    /// Zero gradient across the edge (Neumann): the field mirrored about the edge, ghost -1 - k
    /// reading point k.
    case zeroGradient
    /// A fixed value just outside (Dirichlet): every ghost holds `value` (the boundary node one
    /// spacing beyond the last point).
    case fixed(Float)
    /// The edge value continued outwards: every ghost reads the edge point.
    case replicate

    /// The point ghost or grid index `i` of an axis of `n` points reads; nil when it holds the fixed
    /// value. `i` lies within `n` of the grid.
    @inline(__always)
    public func source(_ i: Int, count n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .periodic: return ((i % n) + n) % n
        case .zeroGradient: return i < 0 ? min(n - 1, -1 - i) : max(0, 2 * n - 1 - i)
        case .fixed: return nil
        case .replicate: return i < 0 ? 0 : n - 1
        }
    }

    /// The value of a ghost that reads no point.
    var fixedValue: Float {
        if case .fixed(let value) = self { return value }
        return 0
    }

    /// Parses `periodic`, `zero-gradient` (or `neumann`), `replicate`, or `fixed:VALUE` (or `dirichlet:VALUE`).
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "periodic": self = .periodic
        case "zero-gradient", "neumann": self = .zeroGradient
        case "replicate": self = .replicate
        case "fixed", "dirichlet":
            guard parts.count == 2, let value = Float(parts[1]), value.isFinite else { return nil }
            self = .fixed(value)
        default: return nil
        }
        if parts.count == 2, case .fixed = self {} else if parts.count == 2 { return nil }
    }
}
