/// Where an attribute lives: `OBJECT@NAME`, e.g. `/what@date`, `@time_coverage_end` (a global
/// attribute of a NetCDF file), `time@valid` (an attribute of the variable `time`).
public struct AttributeReference: Equatable, Sendable, TextCodable {
    /// The group, dataset or variable; "" or "/" for the file's root.
    public var object: String
    /// The attribute's name.
    public var name: String

    /// Parses `OBJECT@NAME`; throws when there is no `@` or no name.
    public init(_ text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw CFTimeError("time attribute '\(text)' is not of the form OBJECT@NAME, e.g. /what@time or @time_coverage_end")
        }
        object = parts[0]
        name = parts[1]
    }

    /// True when the object is the root of the file.
    public var isRoot: Bool { object.isEmpty || object == "/" }

    public var description: String { "\(object)@\(name)" }
}
