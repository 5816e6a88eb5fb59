import NowcastNN

/// Backward semi-Lagrangian extrapolation (Germann and Zawadzki 2002), as pySTEPS's
/// `extrapolation.semilagrangian`: every pixel keeps the displacement back to where its rain came
/// from. Each `step(by:)` integrates one time step of a motion field along that trajectory with the
/// midpoint rule (the velocity read at the trajectory's mid-step position, motion fields read with
/// their edge values continued outwards); `advect` then reads a field at the displaced positions by
/// bilinear interpolation. Positions outside the grid read `outside` (NaN, as pySTEPS, or e.g. the
/// no-rain value). The motion may change from step to step (perturbed ensemble members).
public struct SemiLagrangian: Sendable {
    public let ny: Int
    public let nx: Int
    /// Column and row displacement back along the trajectory, in pixels, row-major.
    public private(set) var dx: [Float]
    public private(set) var dy: [Float]
    /// Steps integrated so far.
    public private(set) var steps = 0

    /// Zero displacement on a `ny` x `nx` grid.
    public init(ny: Int, nx: Int) {
        (self.ny, self.nx) = (ny, nx)
        dx = [Float](repeating: 0, count: ny * nx)
        dy = dx
    }

    /// Integrates one more time step of `motion` (pixels per step).
    public mutating func step(by motion: MotionField) throws {
        guard motion.ny == ny, motion.nx == nx else {
            throw PhysicsError.input(expected: "a motion field on the \(ny) x \(nx) grid", found: "\(motion.ny) x \(motion.nx)")
        }
        let (ny, nx) = (ny, nx)
        withFieldPointers([motion.u, motion.v]) { m in
            let (u, v) = (m[0], m[1])
            dx.withUnsafeMutableBufferPointer { px in
                dy.withUnsafeMutableBufferPointer { py in
                    let (px, py) = (px.baseAddress!, py.baseAddress!)
                    Parallel.forEachRange(ny, grain: 8) { rows in
                        for row in rows {
                            for column in 0..<nx {
                                let i = row * nx + column
                                let (x, y) = (Float(column) - px[i], Float(row) - py[i])
                                // First guess: the velocity where the trajectory stands; then the midpoint's.
                                let start = BilinearTap(y: y, x: x, height: ny, width: nx, boundary: .clamped)
                                let (u0, v0) = (start.sample(u), start.sample(v))
                                let middle = BilinearTap(y: y - 0.5 * v0, x: x - 0.5 * u0, height: ny, width: nx, boundary: .clamped)
                                px[i] += middle.sample(u)
                                py[i] += middle.sample(v)
                            }
                        }
                    }
                }
            }
        }
        steps += 1
    }

    /// `field` read at every pixel's displaced position; `outside` where that lies off the grid.
    public func advect(_ field: [Float], outside: Float = .nan) throws -> [Float] {
        guard field.count == ny * nx else {
            throw PhysicsError.input(expected: "a field of \(ny) x \(nx) values to advect", found: "\(field.count) values")
        }
        var result = [Float](repeating: 0, count: ny * nx)
        let (ny, nx) = (ny, nx)
        let (right, bottom) = (Float(nx - 1), Float(ny - 1))
        withFieldPointers([field, dx, dy]) { f in
            let (source, px, py) = (f[0], f[1], f[2])
            result.withUnsafeMutableBufferPointer { out in
                let out = out.baseAddress!
                Parallel.forEachRange(ny, grain: 8) { rows in
                    for row in rows {
                        for column in 0..<nx {
                            let i = row * nx + column
                            let (x, y) = (Float(column) - px[i], Float(row) - py[i])
                            if x >= 0, x <= right, y >= 0, y <= bottom {
                                out[i] = BilinearTap(y: y, x: x, height: ny, width: nx, boundary: .clamped).sample(source)
                            } else {
                                out[i] = outside
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
