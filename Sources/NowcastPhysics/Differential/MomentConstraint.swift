import Foundation
import NowcastNN

/// Convolution kernels tied to a derivative by their moments (PhyDNet's PhyCell, Le Guen and
/// Thome 2020): a `size` x `size` kernel k (rows y offsets, columns x offsets, from -size/2) applied
/// as a cross-correlation approximates sum over (a, b) of m[a, b] d^a/dy^a d^b/dx^b, where
/// m[a, b] = sum of k[u, v] u^a v^b / (a! b!) is its moment matrix, m = A k A^T with
/// A[a, u] = u^a / a!. A kernel whose moments up to total order `order` are those of
/// d^i/dy^i d^j/dx^j (1 at (i, j), 0 elsewhere) is that derivative to that accuracy, in grid units.
///
/// Two ways to hold a learned kernel to it: `kernel(free:)` builds it from moments fixed up to
/// `order` and learned above (a hard constraint, exact whatever the free values), and
/// `loss(_:)` measures its moments' distance from the derivative's (a soft one, added to a loss).
public struct MomentConstraint: Sendable, Equatable {
    public let size: Int
    /// The derivative: orders along y and x.
    public let derivative: (y: Int, x: Int)
    /// The total order up to which the moments are held.
    public let order: Int
    /// A, A^-1 and their transposes, row-major `size * size`.
    private let moments: [Float], momentsTransposed: [Float]
    private let inverse: [Float], inverseTransposed: [Float]

    public static func == (a: MomentConstraint, b: MomentConstraint) -> Bool {
        a.size == b.size && a.derivative == b.derivative && a.order == b.order
    }

    /// Nil unless `size` is odd (1 to 7), the derivative fits in it and `order` is at least its
    /// total order and below `2 (size - 1)`.
    public init?(size: Int, derivative: (y: Int, x: Int), order: Int) {
        guard size % 2 == 1, (1...7).contains(size), derivative.y >= 0, derivative.x >= 0, derivative.y < size, derivative.x < size,
              order >= derivative.y + derivative.x, order <= 2 * (size - 1) else { return nil }
        let r = size / 2
        var a = [Double](repeating: 0, count: size * size)
        for p in 0..<size {
            let factorial = (1...max(1, p)).reduce(1.0) { $0 * Double($1) }
            for u in 0..<size { a[p * size + u] = pow(Double(u - r), Double(p)) / factorial }
        }
        guard let inverse = Self.inverted(a, size) else { return nil }
        (self.size, self.derivative, self.order) = (size, derivative, order)
        moments = a.map(Float.init)
        momentsTransposed = Self.transposed(a, size).map(Float.init)
        self.inverse = inverse.map(Float.init)
        inverseTransposed = Self.transposed(inverse, size).map(Float.init)
    }

    /// The moment matrix A k A^T of a kernel `[size, size]`, differentiable.
    public func moments(of kernel: Variable) throws -> Variable {
        try constant(moments).matmul(kernel).matmul(constant(momentsTransposed))
    }

    /// The kernel `[size, size]` whose moments are the derivative's up to `order` and `free`'s
    /// (`[size, size]`, only the entries above `order` read) beyond: A^-1 m A^-T.
    public func kernel(free: Variable) throws -> Variable {
        guard free.shape == [size, size] else { throw TensorError.shapeMismatch(operation: "moment-constrained kernel", left: [size, size], right: free.shape) }
        let (held, target) = masks()
        let m = try free * Variable(Tensor(shape: [size, size], values: held.map { 1 - $0 })) + Variable(Tensor(shape: [size, size], values: target))
        return try constant(inverse).matmul(m).matmul(constant(inverseTransposed))
    }

    /// The squared distance of `kernel`'s moments up to `order` from the derivative's (0 for a kernel
    /// that is the derivative to that accuracy).
    public func loss(_ kernel: Variable) throws -> Variable {
        let (held, target) = masks()
        let difference = try moments(of: kernel) - Variable(Tensor(shape: [size, size], values: target))
        let masked = try difference * Variable(Tensor(shape: [size, size], values: held))
        return try (masked * masked).sum()
    }

    /// Which moments are held (1) and the derivative's moment matrix.
    private func masks() -> (held: [Float], target: [Float]) {
        let held = (0..<(size * size)).map { k -> Float in k / size + k % size <= order ? 1 : 0 }
        let target = (0..<(size * size)).map { k -> Float in k / size == derivative.y && k % size == derivative.x ? 1 : 0 }
        return (held, target)
    }

    private func constant(_ values: [Float]) throws -> Variable { Variable(try Tensor(shape: [size, size], values: values)) }

    private static func transposed(_ m: [Double], _ n: Int) -> [Double] { (0..<(n * n)).map { m[($0 % n) * n + $0 / n] } }

    /// Gauss-Jordan with partial pivoting; nil for a singular matrix.
    private static func inverted(_ m: [Double], _ n: Int) -> [Double]? {
        var a = m, inverse = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        for c in 0..<n {
            guard let pivot = (c..<n).max(by: { abs(a[$0 * n + c]) < abs(a[$1 * n + c]) }), abs(a[pivot * n + c]) > 1e-12 else { return nil }
            for k in 0..<n { a.swapAt(c * n + k, pivot * n + k); inverse.swapAt(c * n + k, pivot * n + k) }
            let p = a[c * n + c]
            for k in 0..<n { a[c * n + k] /= p; inverse[c * n + k] /= p }
            for r in 0..<n where r != c {
                let f = a[r * n + c]
                guard f != 0 else { continue }
                for k in 0..<n { a[r * n + k] -= f * a[c * n + k]; inverse[r * n + k] -= f * inverse[c * n + k] }
            }
        }
        return inverse
    }
}
