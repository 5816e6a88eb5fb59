import Foundation

/// Any JSON value, kept as read: for a part of a file its reader carries without interpreting it
/// (a model folder's training configuration, which forecasting must not need the trainer to
/// decode). Integers stay exact (a 64-bit seed would not survive a trip through `Double`).
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// `value` as the project's encoder writes it (`JSONCoding`), read back as a `JSONValue`.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONCoding.decoder().decode(JSONValue.self, from: JSONCoding.encode(value, pretty: false))
    }

    /// The value decoded as a `T` (by `JSONCoding`'s decoder).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONCoding.decoder().decode(T.self, from: JSONCoding.encode(self, pretty: false))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Most specific first: a JSON `true` is not a number, `3` is an integer before a Double, and
        // a string stays a string even where `JSONCoding`'s decoder would read it as a number ("nan").
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(UInt64.self) { self = .unsignedInteger(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .unsignedInteger(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}
