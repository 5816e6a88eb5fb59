import Foundation

/// A node of the computation graph: a value, its gradient after `backward()`, and how to pass a
/// gradient on to the nodes it was computed from. Operations record themselves when gradients are
/// on (the default) and at least one input requires a gradient; `Gradients.disabled { }` records nothing.
public final class Variable {
    /// The value (parameters change it through optimisers and `assign`).
    public internal(set) var value: Tensor
    /// The gradient of the last `backward()` with respect to this value (leaves only; intermediate
    /// gradients are freed once used).
    public internal(set) var grad: Tensor?
    /// True for parameters and for values computed from them.
    public let requiresGrad: Bool
    private(set) var parents: [Variable]
    private var backwardStep: ((Tensor) -> Void)?

    /// A leaf: an input or a parameter.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        parents = []
    }

    /// The result of an operation; `step` receives this node's gradient and accumulates into `parents`.
    init(_ value: Tensor, parents: [Variable], step: @escaping (Tensor) -> Void) {
        self.value = value
        let record = Gradients.enabled && parents.contains(where: \.requiresGrad)
        requiresGrad = record
        self.parents = record ? parents : []
        backwardStep = record ? step : nil
    }

    /// The result of an operation defined outside the engine (a finite-difference stencil, say):
    /// `value` computed from `parents`, and `backward`, given this node's gradient, returns each
    /// parent's gradient in order (nil for none; a returned gradient has its parent's shape).
    public static func operation(_ value: Tensor, parents: [Variable], backward: @escaping (Tensor) -> [Tensor?]) -> Variable {
        Variable(value, parents: parents) { g in
            for (parent, gradient) in zip(parents, backward(g)) {
                if let gradient { parent.accumulate(gradient) }
            }
        }
    }

    /// Shape of the value.
    public var shape: [Int] { value.shape }

    /// Adds `g` to this node's gradient (gradients accumulate over uses and over calls).
    func accumulate(_ g: Tensor) {
        guard requiresGrad else { return }
        if let current = grad, let sum = current.addingChannelsLast(g) {
            grad = sum  // both held in NHWC only: added there
        } else if var current = grad {
            grad = nil  // keep the storage uniquely referenced, so adding in place does not copy it
            Elementwise.add(&current, g)
            grad = current
        } else {
            grad = g
        }
    }

    /// Adds `part` (`[N, k, H, W]`) to channels `channels` (k of them) of this `[N, C, H, W]` node's
    /// gradient, without a full-size temporary.
    func accumulate(_ part: Tensor, channels: Range<Int>) {
        guard requiresGrad else { return }
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        if channels == 0..<c { accumulate(part); return }
        var current = grad ?? Tensor(shape: shape)
        grad = nil  // keep the storage uniquely referenced, so adding in place does not copy it
        current.withUnsafeMutableBufferPointer { g in part.withUnsafeBufferPointer { p in
            let (gp, pp, k) = (g.baseAddress!, p.baseAddress!, channels.count * plane)
            Parallel.forEachRange(n, grain: 1) { images in
                for b in images {
                    let target = gp + (b * c + channels.lowerBound) * plane, source = pp + b * k
                    FastMath.forEachVector(0..<k) { i, lanes in target.store(target.vector(at: i, lanes: lanes) + source.vector(at: i, lanes: lanes), at: i, lanes: lanes) }
                }
            }
        } }
        grad = current
    }

    /// Back-propagates from this scalar through the recorded graph; leaves' `grad` accumulate.
    /// Intermediate nodes release their gradients and saved buffers afterwards.
    public func backward() throws {
        guard value.count == 1 else {
            throw TensorError.invalidShape(operation: "backward", shape: shape, expected: "a scalar (one element)")
        }
        guard requiresGrad else { return }
        // Topological order by an explicit stack: recurrent graphs can be deep.
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for parent in node.parents where parent.requiresGrad { stack.append((parent, false)) }
        }
        accumulate(Tensor(shape: shape, repeating: 1))
        for node in order.reversed() {
            guard let step = node.backwardStep, let g = node.grad else { continue }
            step(g)
            node.grad = nil
            node.backwardStep = nil
            node.parents = []
        }
    }

    /// Forgets the gradient (before the next step).
    public func zeroGrad() { grad = nil }

    /// Replaces a parameter's value with a tensor of the same shape (loading weights).
    public func assign(_ tensor: Tensor) throws {
        guard tensor.shape == value.shape else { throw TensorError.shapeMismatch(operation: "assign", left: value.shape, right: tensor.shape) }
        value = tensor
    }
}

/// Switches graph recording off for inference (per thread).
public enum Gradients {
    private static let key = "nowcastkit.gradients.disabled"

    /// True unless inside `disabled { }` on this thread.
    public static var enabled: Bool { Thread.current.threadDictionary[key] == nil }

    /// Runs `body` recording no graph: operations compute values only.
    public static func disabled<R>(_ body: () throws -> R) rethrows -> R {
        let dictionary = Thread.current.threadDictionary
        let outer = dictionary[key]
        dictionary[key] = true
        defer { dictionary[key] = outer }
        return try body()
    }
}
