import Foundation

/// What can stop a forecast: inputs that do not fit the model, a setting out of range, an archive
/// that does not hold the frames asked for.
public enum ForecastError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The input frames are not what the model folder's `DataContract` asks for.
    case input(expected: String, found: String)
    /// A config key or flag with a value that cannot be used.
    case setting(key: String, expected: String, found: String)
    /// The archive cannot give the frames the forecast starts from.
    case archive(detail: String)

    public var description: String {
        switch self {
        case let .input(expected, found): return "forecast: expected \(expected), got \(found)"
        case let .setting(key, expected, found): return "forecast setting '\(key)': expected \(expected), got \(found)"
        case let .archive(detail): return "forecast inputs: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
