import NowcastNN

/// Explicit time integration of a system dq/dt = f(q) of one or more fields, differentiable
/// through every stage: Euler, RK2 (Heun) or classical RK4, each step of `dt` split into
/// `substeps` equal sub-steps.
public struct TimeIntegrator: Sendable, Equatable {
    public enum Scheme: String, Sendable, CaseIterable, Codable {
        case euler, rk2, rk4
    }

    public var scheme: Scheme
    public var substeps: Int

    public init(scheme: Scheme = .rk4, substeps: Int = 1) { (self.scheme, self.substeps) = (scheme, substeps) }

    /// The state `dt` later; `rhs` gives dq/dt of every field of a state.
    public func step(_ state: [Variable], dt: Float, rhs: ([Variable]) throws -> [Variable]) throws -> [Variable] {
        guard substeps >= 1 else {
            throw TensorError.invalidShape(operation: "time integration with \(substeps) sub-steps", shape: [], expected: "at least 1 sub-step")
        }
        let h = dt / Float(substeps)
        var q = state
        for _ in 0..<substeps { q = try stage(q, h: h, rhs: rhs) }
        return q
    }

    private func stage(_ q: [Variable], h: Float, rhs: ([Variable]) throws -> [Variable]) throws -> [Variable] {
        func checked(_ derivative: [Variable]) throws -> [Variable] {
            guard derivative.count == q.count, zip(derivative, q).allSatisfy({ $0.shape == $1.shape }) else {
                throw TensorError.shapeMismatch(operation: "time integration: the right-hand side of each field", left: q.first?.shape ?? [],
                                                right: derivative.first?.shape ?? [])
            }
            return derivative
        }
        /// q + factor * k, field by field.
        func moved(_ k: [Variable], _ factor: Float) throws -> [Variable] { try zip(q, k).map { try $0 + $1.scaled(by: factor) } }
        let k1 = try checked(rhs(q))
        switch scheme {
        case .euler:
            return try moved(k1, h)
        case .rk2:
            let k2 = try checked(rhs(try moved(k1, h)))
            return try zip(q, zip(k1, k2)).map { try $0 + ($1.0 + $1.1).scaled(by: h / 2) }
        case .rk4:
            let k2 = try checked(rhs(try moved(k1, h / 2)))
            let k3 = try checked(rhs(try moved(k2, h / 2)))
            let k4 = try checked(rhs(try moved(k3, h)))
            return try q.indices.map { i in
                try q[i] + (k1[i] + k2[i].scaled(by: 2) + k3[i].scaled(by: 2) + k4[i]).scaled(by: h / 6)
            }
        }
    }

    /// The Courant number of a sub-step: the largest |velocity| times the sub-step over the grid
    /// spacing, for velocities along x and y (either may be nil).
    public func courantNumber(u: Tensor?, v: Tensor?, dt: Float, hx: Float, hy: Float) -> Float {
        func largest(_ t: Tensor?) -> Float { t.map { $0.withUnsafeBufferPointer { $0.reduce(0) { Swift.max($0, abs($1)) } } } ?? 0 }
        let sub = dt / Float(Swift.max(1, substeps))
        return largest(u) * sub / hx + largest(v) * sub / hy
    }

    /// The Courant number above which the scheme is unstable for advection: 1 for the upwind
    /// schemes that explicit RK stages are used with (RK4 tolerates up to about 2.8 with centred
    /// differences, but 1 is the rule users are warned by).
    public static let courantLimit: Float = 1
}
