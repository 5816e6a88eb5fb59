import Foundation

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
            // The weights and both moments, updated in place (the moments uniquely referenced).
            var buffers = [p.value, first[k] ?? Tensor(shape: p.shape), second[k] ?? Tensor(shape: p.shape)]
            (first[k], second[k]) = (nil, nil)
            let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
            let count = p.value.count
            Tensor.withElements(writing: &buffers, reading: [g]) { out, input in
                let (w, mp, vp, gp) = (out[0], out[1], out[2], input[0])
                for i in 0..<count {
                    let d = gp[i] + (decoupled ? 0 : wd * w[i])
                    mp[i] = b1 * mp[i] + (1 - b1) * d
                    vp[i] = b2 * vp[i] + (1 - b2) * d * d
                    if decoupled { w[i] -= lr * wd * w[i] }
                    w[i] -= lr * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
                }
            }
            (first[k], second[k]) = (buffers[1], buffers[2])
            p.value = buffers[0]
        }
    }
}
