import Foundation
import NowcastCore

/// An ordered list of transforms applied one after another; `inverse` undoes them in reverse order.
/// Serialises to JSON and restores exactly.
public struct TransformChain: Codable, Equatable, Sendable {
    /// The steps, in forward order.
    public var steps: [Transform]

    public init(_ steps: [Transform] = []) { self.steps = steps }

    /// True when some step still needs statistics from the data.
    public var needsFitting: Bool { steps.contains(where: \.needsFitting) }

    /// Index of the first step that needs fitting.
    public var firstUnfitted: Int? { steps.firstIndex(where: \.needsFitting) }

    /// Applies every step in place.
    public func forward(_ values: UnsafeMutableBufferPointer<Float>) {
        for step in steps { step.forward(values) }
    }

    /// Applies the first `count` steps in place (what a statistics pass needs).
    public func forward(_ values: UnsafeMutableBufferPointer<Float>, steps count: Int) {
        for step in steps.prefix(count) { step.forward(values) }
    }

    /// The index of the first value that is valid (not NaN) in `source` but not finite in
    /// `transformed`, or nil: what a chain must never do, since NaN means missing downstream.
    public static func firstInvalid(source: [Float], transformed: [Float]) -> Int? {
        source.indices.first { !source[$0].isNaN && !transformed[$0].isFinite }
    }

    /// True when every fitted parameter is finite (the statistics came from real values).
    public var isFinite: Bool { steps.allSatisfy(\.parametersAreFinite) }

    /// Undoes every step in place, last first.
    public func inverse(_ values: UnsafeMutableBufferPointer<Float>) {
        for step in steps.reversed() { step.inverse(values) }
    }

    /// The leading steps that work in physical units (accumulation to rate, clipping); the steps
    /// after them normalise for the model. Scores and intensity weights are computed in the units
    /// these steps produce, e.g. mm/h from 10-minute accumulations.
    public var physicalSteps: Int {
        steps.prefix { step in
            switch step {
            case .accumulationToRate, .clip: return true
            default: return false
            }
        }.count
    }

    /// Undoes the normalising steps only (those after `physicalSteps`): model units to physical units.
    public func inverseToPhysical(_ values: UnsafeMutableBufferPointer<Float>) {
        for step in steps[physicalSteps...].reversed() { step.inverse(values) }
    }

    /// Units of the values `inverseToPhysical` gives, for a source field in `sourceUnits`.
    public func physicalUnits(source sourceUnits: String) -> String {
        steps.prefix(physicalSteps).contains { if case .accumulationToRate = $0 { return true } else { return false } } ? "mm h-1" : sourceUnits
    }

    /// JSON text of the chain.
    public func json() throws -> String { try JSONCoding.text(self) }

    /// The chain from its JSON text.
    public static func fromJSON(_ text: String) throws -> TransformChain {
        try JSONCoding.decoder().decode(TransformChain.self, from: Data(text.utf8))
    }

    /// One line for reports.
    public var summary: String { steps.isEmpty ? "none" : steps.map(\.summary).joined(separator: " -> ") }
}
