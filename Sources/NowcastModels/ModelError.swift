import Foundation

/// A model that cannot be built as configured, cannot run on a grid, weights that do not fit it, or a
/// model folder that cannot be read.
public enum ModelError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A model setting cannot make a model.
    case invalidSetting(key: String, expected: String, found: String)
    /// The model cannot run on the grid of the data.
    case gridMismatch(height: Int, width: Int, detail: String)
    /// A weight file does not fit the model.
    case weights(path: String, detail: String)
    /// A folder is not a trained model, or its manifest cannot be read.
    case artifact(path: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidSetting(key, expected, found): return "\(key): expected \(expected), got \(found)"
        case let .gridMismatch(height, width, detail): return "model: \(detail) (the data's grid is \(height) x \(width))"
        case let .weights(path, detail), let .artifact(path, detail): return "\(path): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
