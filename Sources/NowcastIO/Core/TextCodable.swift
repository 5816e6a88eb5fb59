/// A value written as one string in configs and JSON (`%Y%m%d_%H%M`, `/what@time`): decoded by
/// parsing it, with a parse error reported at its key, and encoded as its description.
public protocol TextCodable: Codable, CustomStringConvertible {
    /// Parses the text form; throws `CFTimeError` (the readers' parse error) when it is not one.
    init(_ text: String) throws
}

extension TextCodable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        do { try self.init(try container.decode(String.self)) } catch let error as CFTimeError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
