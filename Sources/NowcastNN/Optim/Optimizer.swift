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
