import Foundation

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
