import Foundation

/// An engine setting read from the environment once: its parsed value, or the default with one line
/// on standard error naming the variable and what it takes when the value is not understood.
enum EngineSetting {
    static func read<T>(_ name: String, expected: String, default fallback: T, _ parse: (String) -> T?) -> T {
        guard let text = ProcessInfo.processInfo.environment[name] else { return fallback }
        if let value = parse(text) { return value }
        FileHandle.standardError.write(Data("nowcast: \(name)=\(text) not understood; expected \(expected). Using the default.\n".utf8))
        return fallback
    }
}
