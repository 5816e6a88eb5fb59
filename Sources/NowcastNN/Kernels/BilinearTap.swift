/// Bilinear interpolation at a displaced position of a grid: the four neighbours and their weights,
/// the one sampler of the project. Neighbours outside the grid read as zero and take no gradient
/// (`.zero`: images warped by a motion field), wrap around (`.periodic`: fields on a periodic
/// domain, such as the synthetic generator's), or the position is held to the grid (`.clamped`:
/// the edge value continues outwards, as motion fields are read along trajectories). Generic over the element type and inlinable, so
/// that each use is specialised (the warp kernels run it per pixel and channel).
@frozen
public struct BilinearTap<T: BinaryFloatingPoint> {
    /// What lies beyond the edges.
    public enum Boundary: Sendable { case zero, periodic, clamped }

    @usableFromInline let x0, y0, x1, y1: Int
    @usableFromInline let ax, ay: T
    @usableFromInline let width, height: Int

    /// The tap at row `y`, column `x` (fractional) of a `height` x `width` grid.
    @inlinable
    public init(y sy: T, x sx: T, height: Int, width: Int, boundary: Boundary) {
        (self.width, self.height) = (width, height)
        switch boundary {
        case .zero:
            // Far outside (or NaN): every neighbour is out of the grid.
            guard sx.isFinite, sy.isFinite, sx > -2, sy > -2, sx < T(width + 1), sy < T(height + 1) else {
                (x0, y0, x1, y1, ax, ay) = (-2, -2, -1, -1, 0, 0)
                return
            }
            let fx = sx.rounded(.down), fy = sy.rounded(.down)
            (x0, y0, ax, ay) = (Self.index(fx), Self.index(fy), sx - fx, sy - fy)
            (x1, y1) = (x0 + 1, y0 + 1)
        case .periodic:
            let fy = sy.rounded(.down), fx = sx.rounded(.down)
            (ay, ax) = (sy - fy, sx - fx)
            let rows = T(height), columns = T(width)
            y0 = Self.index(fy - (fy / rows).rounded(.down) * rows)
            x0 = Self.index(fx - (fx / columns).rounded(.down) * columns)
            (y1, x1) = ((y0 + 1) % height, (x0 + 1) % width)
        case .clamped:
            // A NaN coordinate reads index 0; `min`/`max` alone would pass NaN through.
            let cx = sx.isNaN ? 0 : Swift.min(Swift.max(sx, 0), T(width - 1))
            let cy = sy.isNaN ? 0 : Swift.min(Swift.max(sy, 0), T(height - 1))
            let fx = cx.rounded(.down), fy = cy.rounded(.down)
            (x0, y0, ax, ay) = (Self.index(fx), Self.index(fy), cx - fx, cy - fy)
            (x1, y1) = (Swift.min(x0 + 1, width - 1), Swift.min(y0 + 1, height - 1))
        }
    }

    /// The tap at the position of pixel (`row`, `column`) moved by (`dy`, `dx`), zero outside.
    @inlinable
    public init(row: Int, column: Int, dx: T, dy: T, height: Int, width: Int) {
        self.init(y: T(row) + dy, x: T(column) + dx, height: height, width: width, boundary: .zero)
    }

    /// `Int(value)` through the concrete conversion of `Float` and `Double`: in a specialised
    /// generic the generic `Int.init` stays the slow arbitrary-precision path (it was a tenth of a
    /// STEPS forecast's time). Values here are whole and in range.
    @inlinable @inline(__always)
    static func index(_ value: T) -> Int {
        if T.self == Float.self { return Int(unsafeBitCast(value, to: Float.self)) }
        if T.self == Double.self { return Int(unsafeBitCast(value, to: Double.self)) }
        return Int(value)
    }

    @inlinable @inline(__always)
    func inside(_ y: Int, _ x: Int) -> Bool { y >= 0 && y < height && x >= 0 && x < width }

    @inlinable @inline(__always)
    func read(_ image: UnsafePointer<T>, _ y: Int, _ x: Int) -> T { inside(y, x) ? image[y * width + x] : 0 }

    /// The interpolated value.
    @inlinable @inline(__always)
    public func sample(_ image: UnsafePointer<T>) -> T {
        let (v00, v01, v10, v11) = (read(image, y0, x0), read(image, y0, x1), read(image, y1, x0), read(image, y1, x1))
        return (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11)
    }

    /// Derivatives of the interpolated value with respect to the sampling position.
    @inlinable
    public func slopes(_ image: UnsafePointer<T>) -> (x: T, y: T) {
        let (v00, v01, v10, v11) = (read(image, y0, x0), read(image, y0, x1), read(image, y1, x0), read(image, y1, x1))
        return ((1 - ay) * (v01 - v00) + ay * (v11 - v10), (1 - ax) * (v10 - v00) + ax * (v11 - v01))
    }

    /// Adds `value` times each neighbour's weight to the neighbours inside `gradient`.
    @inlinable
    public func scatter(_ value: T, into gradient: UnsafeMutablePointer<T>) {
        // Four calls, not a loop over an array literal: this runs per pixel and channel.
        @inline(__always) func add(_ y: Int, _ x: Int, _ weight: T) { if inside(y, x) { gradient[y * width + x] += value * weight } }
        add(y0, x0, (1 - ay) * (1 - ax))
        add(y0, x1, (1 - ay) * ax)
        add(y1, x0, ay * (1 - ax))
        add(y1, x1, ay * ax)
    }
}
