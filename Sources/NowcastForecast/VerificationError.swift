import Foundation

/// What stops a verification: a setting that cannot be used, or products and observations that do
/// not fit together (each message names the files).
public enum VerificationError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case setting(key: String, expected: String, found: String)
    case data(detail: String)

    public var description: String {
        switch self {
        case let .setting(key, expected, found): return "verify setting '\(key)': expected \(expected), got \(found)"
        case let .data(detail): return "verify: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
