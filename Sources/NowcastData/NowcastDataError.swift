import Foundation

/// Everything that can go wrong turning an archive into a training set and reading one back. Each
/// case names the setting, file or folder involved and what was expected, so that its one-line
/// description tells a user what to fix.
public enum NowcastDataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A setting (a config key, or the flag of the same name) cannot take its value.
    case invalidSetting(key: String, expected: String, found: String)
    /// A config file cannot be used: its syntax, an unknown key, a value of the wrong type.
    case configFile(path: String, detail: String)
    /// An input does not name field files that can be read.
    case input(path: String, detail: String)
    /// The files do not make one series (none could be read, grids differ).
    case series(detail: String)
    /// The output folder cannot take this store.
    case output(path: String, detail: String)
    /// No sample was kept: which rule rejected them and what the samples had.
    case emptyStore(detail: String)
    /// A value the transforms made is not finite although its source value was valid.
    case nonFiniteValue(path: String, time: String, detail: String)
    /// A store, shard or manifest cannot be read or does not hold what it should.
    case store(path: String, detail: String)
    /// An index outside what it indexes.
    case indexOutOfRange(what: String, index: Int, count: Int)

    public var description: String {
        switch self {
        case let .invalidSetting(key, expected, found): return "\(key): expected \(expected), got \(found)"
        case let .configFile(path, detail): return "\(path): \(detail)"
        case let .input(path, detail): return "input '\(path)': \(detail)"
        case let .series(detail): return detail
        case let .output(path, detail): return "output '\(path)': \(detail)"
        case let .emptyStore(detail): return detail
        case let .nonFiniteValue(path, time, detail): return "\(path) (\(time)): \(detail)"
        case let .store(path, detail): return "\(path): \(detail)"
        case let .indexOutOfRange(what, index, count): return "\(what) \(index) requested; there are \(count)"
        }
    }

    public var errorDescription: String? { description }
}
