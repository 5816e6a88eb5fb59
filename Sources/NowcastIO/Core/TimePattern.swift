import Foundation

/// A date-time layout in strftime notation (`%Y %m %d %H %M %S %y %j`, month names `%b` (`AUG`,
/// `Aug`) and `%B` (`August`) in English, any case, `%%` for a percent sign), used to read valid
/// times from file names and from string attributes. Matching finds the pattern anywhere in the
/// text, e.g. `%Y%m%d_%H%M%S` in `66_20201031_001000.prcp-c10.nc`, `%d-%b-%Y;%H:%M:%S` in
/// `26-AUG-2010;00:00:00.000`.
public struct TimePattern: Equatable, Sendable, TextCodable {
    /// The pattern as written.
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Equatable {
        case literal(Character)
        case field(Character, width: Int)
        case monthName(abbreviated: Bool)
    }

    private static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                                 "october", "november", "december"]

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
            case "b": tokens.append(.monthName(abbreviated: true))
            case "B": tokens.append(.monthName(abbreviated: false))
            case "%": tokens.append(.literal("%"))
            default: throw CFTimeError("time pattern '\(pattern)' uses '%\(d)'; known: %Y %y %m %d %j %H %M %S %b %B")
            }
        }
        guard tokens.contains(where: { if case .field("Y", _) = $0 { return true }; if case .field("y", _) = $0 { return true }; return false }) else {
            throw CFTimeError("time pattern '\(pattern)' has no year (%Y or %y)")
        }
        self.pattern = pattern
        self.tokens = tokens
    }

    public var description: String { pattern }

    /// The first date the pattern matches in `text`, or nil.
    public func firstDate(in text: String) -> Date? {
        let chars = Array(text)
        for start in chars.indices {
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
                guard position < chars.count, chars[position] == c else { return nil }
                position += 1
            case let .field(kind, width):
                guard position + width <= chars.count else { return nil }
                let digits = chars[position..<(position + width)]
                guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(String(digits)) else { return nil }
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
            case let .monthName(abbreviated):
                let found = Self.months.enumerated().first { _, name in
                    let word = abbreviated ? String(name.prefix(3)) : name
                    return position + word.count <= chars.count && String(chars[position..<(position + word.count)]).lowercased() == word
                }
                guard let (index, name) = found else { return nil }
                month = index + 1
                position += abbreviated ? 3 : name.count
            }
        }
        if let doy = dayOfYear {
            guard let first = UTCTime.date(year: year, month: 1, day: 1), doy >= 1, doy <= 366 else { return nil }
            return first.addingTimeInterval(Double((doy - 1) * 86_400 + hour * 3600 + minute * 60 + second))
        }
        return UTCTime.date(year: year, month: month, day: day, hour: hour, minute: minute, second: Double(second))
    }
}
