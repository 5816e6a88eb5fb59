import Foundation

/// A date-time layout in strftime notation (`%Y %m %d %H %M %S %y %j`, `%%` for a percent sign),
/// used to read valid times from file names and from string attributes. Matching finds the pattern
/// anywhere in the text, e.g. `%Y%m%d_%H%M%S` in `66_20201031_001000.prcp-c10.nc`.
public struct TimePattern: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Equatable {
        case literal(Character)
        case field(Character, width: Int)
    }

    /// Parses a pattern; throws when it uses an unknown directive or has no date field.
    public init(_ pattern: String) throws {
        var tokens: [Token] = []
        var iterator = pattern.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else { tokens.append(.literal(c)); continue }
            guard let d = iterator.next() else { throw CFTimeError("time pattern '\(pattern)' ends with '%'") }
            switch d {
            case "Y": tokens.append(.field("Y", width: 4))
            case "y", "m", "d", "H", "M", "S": tokens.append(.field(d, width: 2))
            case "j": tokens.append(.field("j", width: 3))
            case "%": tokens.append(.literal("%"))
            default: throw CFTimeError("time pattern '\(pattern)' uses '%\(d)'; known: %Y %y %m %d %j %H %M %S")
            }
        }
        guard tokens.contains(where: { if case .field("Y", _) = $0 { return true }; if case .field("y", _) = $0 { return true }; return false }) else {
            throw CFTimeError("time pattern '\(pattern)' has no year (%Y or %y)")
        }
        self.pattern = pattern
        self.tokens = tokens
    }

    public var description: String { pattern }

    /// Decodes from the pattern string.
    public init(from decoder: Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes as the pattern string.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(pattern)
    }

    /// The first date the pattern matches in `text`, or nil.
    public func firstDate(in text: String) -> Date? {
        let chars = Array(text)
        let width = tokens.reduce(0) { total, token in
            switch token {
            case .literal: return total + 1
            case let .field(_, w): return total + w
            }
        }
        guard chars.count >= width else { return nil }
        for start in 0...(chars.count - width) {
            if let date = match(chars, at: start) { return date }
        }
        return nil
    }

    private func match(_ chars: [Character], at start: Int) -> Date? {
        var position = start
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var dayOfYear: Int?
        for token in tokens {
            switch token {
            case let .literal(c):
                guard chars[position] == c else { return nil }
                position += 1
            case let .field(kind, width):
                let digits = chars[position..<(position + width)]
                guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let value = Int(String(digits)) else { return nil }
                position += width
                switch kind {
                case "Y": year = value
                case "y": year = value < 69 ? 2000 + value : 1900 + value
                case "m": month = value
                case "d": day = value
                case "j": dayOfYear = value
                case "H": hour = value
                case "M": minute = value
                default: second = value
                }
            }
        }
        if let doy = dayOfYear {
            guard let first = UTCTime.date(year: year, month: 1, day: 1), doy >= 1, doy <= 366 else { return nil }
            return first.addingTimeInterval(Double((doy - 1) * 86_400 + hour * 3600 + minute * 60 + second))
        }
        return UTCTime.date(year: year, month: month, day: day, hour: hour, minute: minute, second: Double(second))
    }
}
