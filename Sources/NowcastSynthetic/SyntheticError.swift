/// Settings the synthetic generator cannot use.
public enum SyntheticError: Error, Equatable, CustomStringConvertible {
    /// A parameter out of its range.
    case invalidParameter(name: String, expected: String, found: String)

    public var description: String {
        switch self { case let .invalidParameter(name, expected, found): return "\(name): expected \(expected), got \(found)" }
    }
}
