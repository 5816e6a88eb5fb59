import Foundation

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
            // The weights and the velocity, updated in place (the velocity uniquely referenced).
            var buffers = [p.value, velocities[k] ?? Tensor(shape: p.shape)]
            velocities[k] = nil
            let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
            let count = p.value.count
            Tensor.withElements(writing: &buffers, reading: [g]) { out, input in
                let (w, vp, gp) = (out[0], out[1], input[0])
                for i in 0..<count {
                    let d = gp[i] + wd * w[i]
                    vp[i] = mu * vp[i] + d
                    w[i] -= lr * (nesterov ? d + mu * vp[i] : (mu == 0 ? d : vp[i]))
                }
            }
            velocities[k] = buffers[1]
            p.value = buffers[0]
        }
    }
}
