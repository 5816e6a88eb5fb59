import ArgumentParser

/// A flag's comma-separated list of numbers (`--thresholds 0.5,1,5`); anything else is one line
/// naming the flag and an example.
func numberList<T: LosslessStringConvertible>(_ text: String, flag: String, example: String) throws -> [T] {
    let values = text.split(separator: ",").map { T(String($0).trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ValidationError("\(flag) '\(text)': expected numbers such as \(example)") }
    return values.compactMap { $0 }
}

/// A flag's `NAME=VALUE` with a finite number (`--coefficient k=0.05`); anything else is one line
/// naming the flag and an example.
func namedNumber(_ text: String, flag: String, example: String) throws -> (name: String, value: Float) {
    let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2, !parts[0].isEmpty, let value = Float(parts[1]), value.isFinite else {
        throw ValidationError("\(flag) '\(text)': expected NAME=VALUE, e.g. \(example)")
    }
    return (parts[0], value)
}
