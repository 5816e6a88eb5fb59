import Foundation

/// What can stop a forecast: inputs that do not fit the model's data contract.
public enum ForecastError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The input frames are not what the model folder's `DataContract` asks for.
    case input(expected: String, found: String)

    public var description: String {
        switch self {
        case let .input(expected, found): return "forecast: expected \(expected), got \(found)"
        }
    }

    public var errorDescription: String? { description }
}
