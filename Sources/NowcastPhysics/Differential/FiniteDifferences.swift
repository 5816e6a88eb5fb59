import NowcastNN

/// Finite-difference operators as differentiable operations on fields `[N, C, H, W]` (a 1-D field
/// is `H = 1`): first derivatives centred or upwinded by the sign of a velocity (first or second
/// order), second derivatives, the mixed derivative, the Laplacian and the divergence, with
/// spacings `hx`, `hy` and a `GridBoundary` per axis. Each is a `Stencil`; gradients flow back
/// through its transpose.
public struct FiniteDifferences: Sendable, Equatable {
    /// Grid spacing along x (columns) and y (rows).
    public var hx: Float, hy: Float
    public var x: GridBoundary, y: GridBoundary

    public init(hx: Float = 1, hy: Float = 1, x: GridBoundary = .periodic, y: GridBoundary = .periodic) {
        (self.hx, self.hy, self.x, self.y) = (hx, hy, x, y)
    }

    public enum Axis: Sendable { case x, y }

    /// One-sided differences: `backward` reads the points behind (upwind of a positive velocity).
    public enum Side: Sendable { case backward, forward }

    // MARK: Stencils

    /// A tap along `axis` at `offset`.
    static func tap(_ axis: Axis, _ offset: Int, _ weight: Float) -> Stencil.Tap {
        axis == .x ? Stencil.Tap(dy: 0, dx: offset, weight: weight) : Stencil.Tap(dy: offset, dx: 0, weight: weight)
    }

    func spacing(_ axis: Axis) -> Float { axis == .x ? hx : hy }

    /// (q[i+1] - q[i-1]) / 2h: second order.
    public func centred(_ axis: Axis) -> Stencil {
        let h = spacing(axis)
        return Stencil([Self.tap(axis, -1, -1 / (2 * h)), Self.tap(axis, 1, 1 / (2 * h))])
    }

    /// One-sided first derivative of `order` 1 ((q[i] - q[i-1]) / h) or 2 ((3q[i] - 4q[i-1] + q[i-2]) / 2h).
    public func oneSided(_ axis: Axis, _ side: Side, order: Int) -> Stencil {
        let (h, s) = (spacing(axis), side == .backward ? -1 : 1)
        let sign: Float = side == .backward ? 1 : -1
        if order == 1 { return Stencil([Self.tap(axis, 0, sign / h), Self.tap(axis, s, -sign / h)]) }
        return Stencil([Self.tap(axis, 0, sign * 3 / (2 * h)), Self.tap(axis, s, -sign * 4 / (2 * h)), Self.tap(axis, 2 * s, sign / (2 * h))])
    }

    /// (q[i-1] - 2q[i] + q[i+1]) / h^2.
    public func second(_ axis: Axis) -> Stencil {
        let h2 = spacing(axis) * spacing(axis)
        return Stencil([Self.tap(axis, -1, 1 / h2), Self.tap(axis, 0, -2 / h2), Self.tap(axis, 1, 1 / h2)])
    }

    /// The centred mixed derivative d2/dxdy.
    public var mixed: Stencil {
        let w = 1 / (4 * hx * hy)
        return Stencil([.init(dy: 1, dx: 1, weight: w), .init(dy: 1, dx: -1, weight: -w), .init(dy: -1, dx: 1, weight: -w), .init(dy: -1, dx: -1, weight: w)])
    }

    // MARK: Operators

    /// `stencil` applied to every plane of `q` (`[N, C, H, W]`), differentiable.
    public func apply(_ stencil: Stencil, to q: Variable) throws -> Variable {
        guard q.shape.count == 4, q.shape[2] > 0, q.shape[3] > 0 else {
            throw TensorError.invalidShape(operation: "finite differences", shape: q.shape, expected: "a field [N, C, H, W]")
        }
        let (h, w) = (q.shape[2], q.shape[3])
        let (reachY, reachX) = stencil.reach
        guard reachY <= h || y == .periodic, reachX <= w || x == .periodic else {
            throw TensorError.invalidShape(operation: "finite differences", shape: q.shape, expected: "at least \(reachY) x \(reachX) points for the stencil")
        }
        let planes = q.shape[0] * q.shape[1]
        let (x, y) = (self.x, self.y)
        var out = Tensor(shape: q.shape)
        q.value.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { stencil.apply(input.baseAddress!, into: $0.baseAddress!, planes: planes, height: h, width: w, y: y, x: x) }
        }
        return Variable.operation(out, parents: [q]) { g in
            var back = Tensor(shape: g.shape)
            g.withUnsafeBufferPointer { gradient in
                back.withUnsafeMutableBufferPointer { stencil.applyTransposed(gradient.baseAddress!, into: $0.baseAddress!, planes: planes, height: h, width: w, y: y, x: x) }
            }
            return [back]
        }
    }

    /// dq/dx, centred.
    public func dx(_ q: Variable) throws -> Variable { try apply(centred(.x), to: q) }
    /// dq/dy, centred.
    public func dy(_ q: Variable) throws -> Variable { try apply(centred(.y), to: q) }
    public func dxx(_ q: Variable) throws -> Variable { try apply(second(.x), to: q) }
    public func dyy(_ q: Variable) throws -> Variable { try apply(second(.y), to: q) }
    public func dxy(_ q: Variable) throws -> Variable { try apply(mixed, to: q) }
    /// d2q/dx2 + d2q/dy2 (the five-point Laplacian; along x only for a 1-D field).
    public func laplacian(_ q: Variable) throws -> Variable {
        try apply(q.shape.count == 4 && q.shape[2] == 1 ? second(.x) : second(.x) + second(.y), to: q)
    }
    /// du/dx + dv/dy, centred.
    public func divergence(u: Variable, v: Variable) throws -> Variable { try dx(u) + dy(v) }

    /// dq/d`axis` upwinded by the sign of `velocity` (same shape as `q`): the backward difference
    /// where it is positive, the forward one elsewhere, of `order` 1 or 2. The velocity only picks
    /// the side: no gradient reaches it through this (it does through a product `velocity * ...`).
    public func upwind(_ q: Variable, along axis: Axis, velocity: Variable, order: Int = 1) throws -> Variable {
        guard order == 1 || order == 2 else {
            throw TensorError.invalidShape(operation: "upwind difference of order \(order)", shape: q.shape, expected: "order 1 or 2")
        }
        guard velocity.shape == q.shape else { throw TensorError.shapeMismatch(operation: "upwind difference", left: q.shape, right: velocity.shape) }
        var positive = Tensor(shape: q.shape), negative = Tensor(shape: q.shape)
        velocity.value.withUnsafeBufferPointer { v in
            positive.withUnsafeMutableBufferPointer { p in negative.withUnsafeMutableBufferPointer { n in
                for i in 0..<v.count { (p[i], n[i]) = v[i] > 0 ? (1, 0) : (0, 1) }
            } }
        }
        let behind = try apply(oneSided(axis, .backward, order: order), to: q), ahead = try apply(oneSided(axis, .forward, order: order), to: q)
        return try Variable(positive) * behind + Variable(negative) * ahead
    }
}
