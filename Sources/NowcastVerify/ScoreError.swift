/// Scores that cannot be combined as asked.
public enum ScoreError: Error, Equatable, CustomStringConvertible {
    /// Fields or accumulators that do not fit together.
    case mismatch(operation: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .mismatch(operation, expected, found): return "\(operation): expected \(expected), got \(found)"
        }
    }
}

extension ScoreError {
    /// Throws `.mismatch` unless `condition` holds.
    static func check(_ operation: String, _ condition: Bool, _ expected: @autoclosure () -> String, _ found: @autoclosure () -> String) throws {
        if !condition { throw ScoreError.mismatch(operation: operation, expected: expected(), found: found()) }
    }
}
