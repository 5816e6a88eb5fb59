import Foundation

/// What can stop a computation on fields: inputs of the wrong shape or without any valid value.
public enum PhysicsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// `what` was expected and `found` was given.
    case input(expected: String, found: String)

    public var description: String {
        switch self {
        case let .input(expected, found): return "expected \(expected), got \(found)"
        }
    }

    public var errorDescription: String? { description }
}
