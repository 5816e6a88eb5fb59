import Foundation

/// A system of equations that cannot be read or evaluated, with where in its text: the line and
/// column (both from 1), the line itself and what went wrong.
public struct EquationError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let line: Int, column: Int
    public let text: String
    public let message: String

    /// The error at character offset `offset` of `source`.
    init(_ message: String, at offset: Int, in source: String) {
        let characters = Array(source)
        let before = characters.prefix(max(0, min(offset, characters.count)))
        let line = before.filter { $0 == "\n" }.count + 1
        let start = (before.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
        let end = characters[start...].firstIndex(of: "\n") ?? characters.count
        (self.line, column, text, self.message) = (line, offset - start + 1, String(characters[start..<end]), message)
    }

    public var description: String { "line \(line), column \(column): \(message) (in '\(text.trimmingCharacters(in: .whitespaces))')" }
    public var errorDescription: String? { description }
}
