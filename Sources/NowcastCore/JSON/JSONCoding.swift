import Foundation

/// The project's one JSON coder: sorted keys, slashes unescaped, and non-finite numbers, which
/// standard JSON cannot hold, as the strings `"nan"`, `"inf"` and `"-inf"` that `decoder` reads
/// back. Whatever the toolkit writes as JSON (manifests, states, reports) goes through here.
public enum JSONCoding {
    /// An encoder of the project's form; `pretty` adds line breaks and indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// A decoder that reads what `encoder` writes.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// `value` as JSON data.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
        try encoder(pretty: pretty).encode(value)
    }

    /// `value` as one line of JSON text.
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value, pretty: false), as: UTF8.self)
    }

    /// Writes `value` to `path` atomically (`AtomicOutput.write`).
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        try AtomicOutput.write(try encode(value), to: path)
    }

    /// Reads a `T` from the file at `path`; nil when there is no such file. A file that cannot be
    /// read is a `FileError`; one that does not decode, the decoder's error.
    public static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try FileError.wrapping(.read, path) { try Data(contentsOf: URL(fileURLWithPath: path)) }
        return try decoder().decode(T.self, from: data)
    }
}
