import Foundation

/// Everything that can go wrong reading a field file (writing fails with `FileError`). Each case names the file and, where
/// one is involved, the variable, so that its one-line description tells a user what to fix.
public enum NowcastIOError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The path does not exist.
    case fileNotFound(path: String)
    /// The file exists but is neither NetCDF (classic or NetCDF-4) nor HDF5.
    case unrecognisedFormat(path: String, detail: String)
    /// The file has the right signature but the library could not read it (truncated, damaged).
    case unreadable(path: String, detail: String)
    /// The variable or dataset is not in the file; `available` lists what is.
    case variableNotFound(path: String, variable: String, available: [String])
    /// No variable of the file looks like a field, and none was named; `available` lists the variables.
    case noFieldVariable(path: String, available: [String])
    /// The variable exists but does not have the shape or type a field needs.
    case unexpectedShape(path: String, variable: String, expected: String, found: String)
    /// A time coordinate or time attribute could not be decoded.
    case badTime(path: String, variable: String, detail: String)
    /// A required attribute is missing or has the wrong type.
    case badAttribute(path: String, object: String, attribute: String, expected: String)
    /// An attribute of an intact file could not be read; `type` says what it holds.
    case unreadableAttribute(path: String, object: String, attribute: String, type: String, detail: String)
    /// An option given by the caller is inconsistent with the file.
    case invalidOption(path: String, detail: String)
    /// PROJ cannot use a projection definition (or a point it was asked to place).
    case badProjection(definition: String, reason: String)


    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .unrecognisedFormat(path, detail):
            return "\(path): not a NetCDF or HDF5 file (\(detail))"
        case let .unreadable(path, detail):
            return "\(path): cannot be read, truncated or damaged? (\(detail))"
        case let .variableNotFound(path, variable, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(path): no variable '\(variable)'; available: \(list)"
        case let .noFieldVariable(path, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(path): no 2-D (y, x) or 3-D (time, y, x) field variable; variables: \(list)"
        case let .unexpectedShape(path, variable, expected, found):
            return "\(path): variable '\(variable)' has \(found); expected \(expected)"
        case let .badTime(path, variable, detail):
            return "\(path): variable '\(variable)': \(detail)"
        case let .badAttribute(path, object, attribute, expected):
            return "\(path): '\(object)' attribute '\(attribute)': expected \(expected)"
        case let .unreadableAttribute(path, object, attribute, type, detail):
            return "\(path): attribute '\(attribute)' of \(object) (\(type)) could not be read: \(detail)"
        case let .invalidOption(path, detail):
            return "\(path): \(detail)"
        case let .badProjection(definition, reason):
            return "projection '\(definition)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
