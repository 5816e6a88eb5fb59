/// The value of a NetCDF or HDF5 attribute: text, a list of strings, or numbers of a stored type.
/// As JSON it is plain: a string, a list of strings, a number, or a list of numbers (integers
/// where the stored type is an integer); read back, numbers are float64.
public enum AttributeValue: Equatable, Sendable, Codable {
    /// One string (NetCDF `char` text, or a scalar HDF5 string of fixed or variable length).
    case text(String)
    /// Several strings (NetCDF-4 `string` arrays, HDF5 string arrays).
    case texts([String])
    /// Numbers of the stored type, widened to `Double` (integers above 2^53 lose precision).
    case numbers(ScalarType, [Double])

    /// A one-number attribute of type `float64`.
    public static func double(_ value: Double) -> AttributeValue { .numbers(.float64, [value]) }
    /// A one-number attribute of type `int64`.
    public static func int(_ value: Int) -> AttributeValue { .numbers(.int64, [Double(value)]) }

    /// The first number, if the attribute is numeric.
    public var doubleValue: Double? {
        if case let .numbers(_, values) = self { return values.first }
        return nil
    }

    /// All numbers, if the attribute is numeric.
    public var doubles: [Double]? {
        if case let .numbers(_, values) = self { return values }
        return nil
    }

    /// The text, if the attribute is a string (the first one, for string lists).
    public var stringValue: String? {
        switch self {
        case let .text(s): return s
        case let .texts(list): return list.first
        case .numbers: return nil
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let texts = try? container.decode([String].self) {
            self = .texts(texts)
        } else if let number = try? container.decode(Double.self) {
            self = .numbers(.float64, [number])
        } else {
            self = .numbers(.float64, try container.decode([Double].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .text(text): try container.encode(text)
        case let .texts(texts): try container.encode(texts)
        case let .numbers(type, values):
            let integers = type.isInteger ? values.map { Int64(exactly: $0) } : []
            if type.isInteger, integers.allSatisfy({ $0 != nil }) {
                let exact = integers.compactMap { $0 }
                if exact.count == 1 { try container.encode(exact[0]) } else { try container.encode(exact) }
            } else if values.count == 1 {
                try container.encode(values[0])
            } else {
                try container.encode(values)
            }
        }
    }

    /// A short human-readable rendering, as `ncdump` would print it.
    public var rendered: String {
        switch self {
        case let .text(s): return "\"\(s)\""
        case let .texts(list): return list.map { "\"\($0)\"" }.joined(separator: ", ")
        case let .numbers(type, values):
            return values.map { type.isInteger ? String(Int64(exactly: $0) ?? 0) : String($0) }
                .joined(separator: ", ")
        }
    }
}

/// An ordered list of named attributes, as stored on a variable, group or dataset.
public struct Attributes: Equatable, Sendable, Codable {
    /// The attributes in file order.
    public var entries: [(name: String, value: AttributeValue)]

    public init(_ entries: [(name: String, value: AttributeValue)] = []) { self.entries = entries }

    /// The value of the named attribute, if present.
    public subscript(name: String) -> AttributeValue? {
        get { entries.first { $0.name == name }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    /// Attribute names in file order.
    public var names: [String] { entries.map(\.name) }

    public static func == (a: Attributes, b: Attributes) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads a JSON object of names and plain values (in the order the decoder gives them).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        entries = try container.allKeys.map { ($0.stringValue, try container.decode(AttributeValue.self, forKey: $0)) }
    }

    /// Writes a JSON object of names and plain values, e.g. `{"standard_parallel": [-26.2, -29.3]}`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for (name, value) in entries { try container.encode(value, forKey: Name(stringValue: name)) }
    }
}
