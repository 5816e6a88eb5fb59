import Foundation
import NowcastCore

/// Updates parameters from their gradients. Its state (momenta) follows the order of the parameter
/// list, which must stay the same from step to step (and across a checkpoint).
public protocol Optimizer {
    /// The learning rate of the next step (schedules set it).
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient.
    mutating func step(_ parameters: [Variable]) throws
    /// What a checkpoint must keep to continue exactly: the step count and the per-parameter
    /// buffers, named `<buffer>.<parameter index>`.
    var state: OptimizerState { get }
    /// Takes back a state `state` returned (for the same parameter list); throws when it does not fit.
    mutating func restore(_ state: OptimizerState, parameters: [Variable]) throws
}

/// An optimiser's state for checkpoints (weight files can hold the tensors).
public struct OptimizerState {
    /// Steps taken.
    public var steps: Int
    /// Per-parameter buffers, named `<buffer>.<parameter index>` (e.g. `m.3`).
    public var tensors: [(name: String, tensor: Tensor)]

    public init(steps: Int, tensors: [(name: String, tensor: Tensor)]) {
        self.steps = steps
        self.tensors = tensors
    }

    /// Buffers `names` back as per-parameter lists, checked against the parameters' shapes.
    func buffers(_ names: [String], parameters: [Variable]) throws -> [[Tensor?]] {
        var lookup: [String: Tensor] = [:]
        for (name, tensor) in tensors { lookup[name] = tensor }
        let known = Set(names.flatMap { buffer in parameters.indices.map { "\(buffer).\($0)" } })
        if let stray = lookup.keys.first(where: { !known.contains($0) }) {
            throw TensorError.invalidShape(operation: "optimiser state '\(stray)'", shape: [], expected: "buffers \(names) for \(parameters.count) parameters")
        }
        return try names.map { buffer in
            try parameters.enumerated().map { k, p in
                guard let t = lookup["\(buffer).\(k)"] else { return nil }
                guard t.shape == p.shape else { throw TensorError.shapeMismatch(operation: "optimiser state \(buffer).\(k)", left: t.shape, right: p.shape) }
                return t
            }
        }
    }
}

extension [Tensor?] {
    /// The present buffers named `<name>.<index>`.
    func named(_ name: String) -> [(name: String, tensor: Tensor)] {
        enumerated().compactMap { k, t in t.map { ("\(name).\(k)", $0) } }
    }
}

/// Stochastic gradient descent with momentum (classical or Nesterov) and L2 weight decay.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    private var velocities: [Tensor?] = []

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public var state: OptimizerState { OptimizerState(steps: 0, tensors: velocities.named("velocity")) }

    public mutating func restore(_ state: OptimizerState, parameters: [Variable]) throws {
        velocities = try state.buffers(["velocity"], parameters: parameters)[0]
    }

    public mutating func step(_ parameters: [Variable]) throws {
        if velocities.count != parameters.count { velocities = Array(repeating: nil, count: parameters.count) }
        for (k, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            var v = velocities[k] ?? Tensor(shape: p.shape)
            velocities[k] = nil  // the buffers are updated in place: keep them uniquely referenced
            var value = p.value
            let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
            value.withUnsafeMutableBufferPointer { w in g.withUnsafeBufferPointer { gp in v.withUnsafeMutableBufferPointer { vp in
                for i in 0..<w.count {
                    let d = gp[i] + wd * w[i]
                    vp[i] = mu * vp[i] + d
                    w[i] -= lr * (nesterov ? d + mu * vp[i] : (mu == 0 ? d : vp[i]))
                }
            } } }
            velocities[k] = v
            p.value = value
        }
    }
}

/// Adam, or AdamW when `decoupledWeightDecay` (decay applied to the weights, not the gradient).
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    /// Steps taken (bias correction).
    public private(set) var steps = 0
    private var first: [Tensor?] = []
    private var second: [Tensor?] = []

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW (Loshchilov and Hutter) with the usual defaults.
    public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 1e-2) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public var state: OptimizerState { OptimizerState(steps: steps, tensors: first.named("m") + second.named("v")) }

    public mutating func restore(_ state: OptimizerState, parameters: [Variable]) throws {
        let buffers = try state.buffers(["m", "v"], parameters: parameters)
        (steps, first, second) = (state.steps, buffers[0], buffers[1])
    }

    public mutating func step(_ parameters: [Variable]) throws {
        if first.count != parameters.count {
            first = Array(repeating: nil, count: parameters.count)
            second = first
        }
        steps += 1
        let c1 = 1 - pow(beta1, Float(steps)), c2 = 1 - pow(beta2, Float(steps))
        for (k, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            var m = first[k] ?? Tensor(shape: p.shape), v = second[k] ?? Tensor(shape: p.shape)
            (first[k], second[k]) = (nil, nil)  // updated in place: keep them uniquely referenced
            var value = p.value
            let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
            value.withUnsafeMutableBufferPointer { w in g.withUnsafeBufferPointer { gp in
                m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
                    for i in 0..<w.count {
                        let d = gp[i] + (decoupled ? 0 : wd * w[i])
                        mp[i] = b1 * mp[i] + (1 - b1) * d
                        vp[i] = b2 * vp[i] + (1 - b2) * d * d
                        if decoupled { w[i] -= lr * wd * w[i] }
                        w[i] -= lr * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
                    }
                } }
            } }
            first[k] = m
            second[k] = v
            p.value = value
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`; returns the norm before.
@discardableResult
public func clipGradients(_ parameters: [Variable], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters { p.grad?.withUnsafeBufferPointer { for g in $0 { total += Double(g) * Double(g) } } }
    let norm = Float(total.squareRoot())
    guard norm > maxNorm, norm > 0 else { return norm }
    let scale = maxNorm / norm
    for p in parameters { p.grad = p.grad?.map { $0 * scale } }
    return norm
}

/// Learning rate as a function of the step: warm-up, then constant, cosine or step decay.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    /// The decay after warm-up.
    public enum Decay: Codable, Equatable, Sendable {
        case constant
        /// Cosine from the base rate down to `minimum` at `totalSteps`.
        case cosine(totalSteps: Int, minimum: Float)
        /// Multiply by `factor` every `every` steps.
        case step(every: Int, factor: Float)
    }

    public var baseRate: Float
    public var warmupSteps: Int
    public var decay: Decay

    public init(baseRate: Float, warmupSteps: Int = 0, decay: Decay = .constant) {
        self.baseRate = baseRate
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    /// The rate at step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return baseRate * Float(step + 1) / Float(warmupSteps) }
        let t = step - warmupSteps
        switch decay {
        case .constant:
            return baseRate
        case let .cosine(total, minimum):
            let span = max(1, total - warmupSteps)
            let progress = min(1, Float(t) / Float(span))
            return minimum + (baseRate - minimum) * 0.5 * (1 + cos(.pi * progress))
        case let .step(every, factor):
            return baseRate * pow(factor, Float(t / max(1, every)))
        }
    }
}

/// Seeded weight initialisation.
public enum Initializer {
    /// He (Kaiming) normal: std sqrt(2 / fanIn), for ReLU layers.
    public static func heNormal(_ shape: [Int], fanIn: Int, using random: inout SeededGenerator) -> Tensor {
        let std = (2 / Double(max(1, fanIn))).squareRoot()
        return filled(shape) { Float(random.gaussian() * std) }
    }

    /// Xavier (Glorot) uniform: ±sqrt(6 / (fanIn + fanOut)), for tanh and sigmoid layers.
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, using random: inout SeededGenerator) -> Tensor {
        let limit = (6 / Double(max(1, fanIn + fanOut))).squareRoot()
        return filled(shape) { Float((random.uniform() * 2 - 1) * limit) }
    }

    /// Uniform in `range` (benchmark inputs, as `torch.rand`).
    public static func uniform(_ shape: [Int], in range: Range<Float>, using random: inout SeededGenerator) -> Tensor {
        filled(shape) { range.lowerBound + Float(random.uniform()) * (range.upperBound - range.lowerBound) }
    }

    private static func filled(_ shape: [Int], _ next: () -> Float) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = next() } }
        return t
    }
}
