/// A dense motion field on a `ny` x `nx` grid: per pixel, how far rain moves in one time step, in
/// pixels (`u` towards increasing column, `v` towards increasing row). Rain at (row, column) at
/// time t is found near (row + v, column + u) at t + 1.
public struct MotionField: Equatable, Sendable {
    public let ny: Int
    public let nx: Int
    /// Column displacement per step, row-major.
    public var u: [Float]
    /// Row displacement per step, row-major.
    public var v: [Float]

    /// A field of `u` and `v` arrays of `ny * nx` values each.
    public init(ny: Int, nx: Int, u: [Float], v: [Float]) {
        precondition(u.count == ny * nx && v.count == ny * nx, "MotionField: u and v need ny * nx values")
        (self.ny, self.nx, self.u, self.v) = (ny, nx, u, v)
    }

    /// The same displacement everywhere.
    public static func uniform(ny: Int, nx: Int, u: Float, v: Float) -> MotionField {
        MotionField(ny: ny, nx: nx, u: [Float](repeating: u, count: ny * nx), v: [Float](repeating: v, count: ny * nx))
    }

    /// Mean and largest speed in pixels per step.
    public var speed: (mean: Double, max: Double) {
        var sum = 0.0, largest = 0.0
        for i in u.indices {
            let s = Double((u[i] * u[i] + v[i] * v[i]).squareRoot())
            sum += s
            largest = max(largest, s)
        }
        return (u.isEmpty ? 0 : sum / Double(u.count), largest)
    }

    /// True when every component is finite.
    public var isFinite: Bool { u.allSatisfy(\.isFinite) && v.allSatisfy(\.isFinite) }
}

extension MotionField {
    /// The check every motion estimator makes of its input: two or more frames of `ny * nx` values
    /// and a finite value for missing pixels.
    static func checkEstimatorInput(_ frames: [[Float]], ny: Int, nx: Int, missing: Float) throws {
        guard frames.count >= 2, ny >= 2, nx >= 2, frames.allSatisfy({ $0.count == ny * nx }) else {
            throw PhysicsError.input(expected: "two or more fields of \(ny) x \(nx) values for motion estimation",
                                     found: "\(frames.count) of \(frames.map(\.count)) values")
        }
        guard missing.isFinite else { throw PhysicsError.input(expected: "a finite value for missing pixels", found: "\(missing)") }
    }
}
